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
// Output of the warm-up commands is not the build's: swallow it.
const write = {out: process.stdout.write, err: process.stderr.write}
process.stdout.write = process.stderr.write = () => true
try {
  // What most commands run: flag parsing, the store, a YAML document, a table, an error.
  for (const argv of [
    ['environments', 'create', 'dev', '--organization', 'build'],
    ['environments', 'describe', 'dev', '--organization', 'build'],
    ['environments', 'list', '--organization', 'build'],
    ['keystores', 'describe', 'none', '--organization', 'build', '--environment', 'dev'],
  ]) {
    process.argv = [process.argv[0], bin, ...argv]
    await run(bin)
  }
} finally {
  process.stdout.write = write.out
  process.stderr.write = write.err
  process.exitCode = 0
  fs.rmSync(home, {recursive: true, force: true})
}
bundle.writeCache()
