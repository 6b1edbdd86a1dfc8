#!/usr/bin/env node
// `mtlsctl --version` is answered before oclif loads (the same line oclif prints), so that
// scripts probing the version pay only Node's own start-up.
import {readFileSync} from 'node:fs'

const argv = process.argv.slice(2)
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
  const {name, version} = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`${name}/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else {
  const {run} = await import('../dist/mtlsctl.js')
  await run(import.meta.url)
}
