#!/usr/bin/env node
// `mtlsctl --version` is answered before oclif loads (the same line oclif prints), so that
// scripts probing the version pay only Node's own start-up.
import {existsSync, readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {fileURLToPath} from 'node:url'

const argv = process.argv.slice(2)
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
  const {name, version} = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`${name}/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else if (!['mtlsctl.cjs', 'prestart.js'].every((file) => existsSync(new URL(`../dist/${file}`, import.meta.url)))) {
  process.stderr.write(`ERROR: mtlsctl is not built: run \`npm run build\` in ${fileURLToPath(new URL('..', import.meta.url))}\n`)
  process.exitCode = 1
} else {
  // A key the command will need is begun now, on another core, while the CLI loads.
  const {prestart} = await import('../dist/prestart.js')
  prestart(argv)
  const {run} = createRequire(import.meta.url)('./bundle.cjs').load()
  await run(import.meta.url)
}
