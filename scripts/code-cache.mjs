// Writes dist/mtlsctl.cjs.cache (see bin/bundle.cjs): runs a few commands through the bundle,
// in a throw-away state folder, then saves V8's code cache of everything that ran: oclif's
// start-up, flag parsing, the base command, the store, output and error rendering.
import * as fs from 'node:fs'
import {createRequire} from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '..')
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mtlsctl-code-cache-'))
process.env.MTLSCTL_HOME = home
const bin = path.join(ROOT, 'bin/run.js')
const bundle = createRequire(import.meta.url)('../bin/bundle.cjs')
const {run} = bundle.load()
// The warm-up commands' output is not the build's: it is kept, and shown only if one of them
// does not end as expected (a bundle broken at run time must not build green).
let captured = ''
const write = {out: process.stdout.write, err: process.stderr.write}
process.stdout.write = process.stderr.write = (chunk) => {
  captured += chunk
  return true
}
const unexpected = []
try {
  // What most commands run: flag parsing, the store, a YAML document, a table, an error.
  for (const [argv, exitCode] of [
    [['environments', 'create', 'dev', '--organization', 'build'], 0],
    [['environments', 'describe', 'dev', '--organization', 'build'], 0],
    [['environments', 'list', '--organization', 'build'], 0],
    [['keystores', 'describe', 'none', '--organization', 'build', '--environment', 'dev'], 1],
  ]) {
    captured = ''
    process.exitCode = 0
    process.argv = [process.argv[0], bin, ...argv]
    await run(bin)
    if ((process.exitCode ?? 0) !== exitCode) unexpected.push(`mtlsctl ${argv.join(' ')}: exit ${process.exitCode}, expected ${exitCode}\n${captured}`)
  }
} finally {
  process.stdout.write = write.out
  process.stderr.write = write.err
  process.exitCode = 0
  fs.rmSync(home, {recursive: true, force: true})
}
if (unexpected.length > 0) {
  process.stderr.write(`code cache: the warm-up went wrong, the build is broken:\n${unexpected.join('\n')}\n`)
  process.exit(1)
}
bundle.writeCache()
