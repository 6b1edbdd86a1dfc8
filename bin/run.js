#!/usr/bin/env node
// `mtlsctl --version` is answered before oclif loads (the same line oclif prints), so that
// scripts probing the version pay only Node's own start-up.
import {existsSync, readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {isatty} from 'node:tty'
import {fileURLToPath} from 'node:url'

/**
 * Ctrl-C at plugin-not-found's `Did you mean keystores list? (Y/n)` must exit 130, like Ctrl-C
 * at any other prompt; the plugin takes it for a "no" and exits 127. On a terminal, a Ctrl-C
 * keypress (the prompt's raw mode sends no SIGINT) is remembered, and an exit with 127 after
 * one becomes 130. Only the not-found hook exits 127, so no other exit is touched.
 */
function exitInterruptedNotFound() {
  let interrupted = false
  process.stdin.on('keypress', (_text, key) => {
    if (key?.ctrl && key.name === 'c') interrupted = true
  })
  process.on('exit', (code) => {
    if (interrupted && code === 127) {
      process.stderr.write('Interrupted.\n')
      process.exitCode = 130
    }
  })
}

const argv = process.argv.slice(2)
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
  const {name, version} = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`${name}/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else if (!['mtlsctl.cjs', 'prestart.js', 'runtime-worker.js'].every((file) => existsSync(new URL(`../dist/${file}`, import.meta.url)))) {
  process.stderr.write(`ERROR: mtlsctl is not built: run \`npm run build\` in ${fileURLToPath(new URL('..', import.meta.url))}\n`)
  process.exitCode = 1
} else {
  if (isatty(0)) exitInterruptedNotFound()
  // A key the command will need is begun now, on another core, while the CLI loads.
  const {prestart} = await import('../dist/prestart.js')
  prestart(argv)
  const {run} = createRequire(import.meta.url)('./bundle.cjs').load()
  await run(import.meta.url)
}
