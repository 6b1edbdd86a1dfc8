// Writes dist/mtlsctl.cjs.cache (see bin/bundle.cjs): runs one command through the bundle, in a
// throw-away state folder, then saves V8's code cache of everything that ran. One command
// covers what every command runs: oclif's start-up, flag parsing, the base command, output.
import * as fs from 'node:fs'
import {createRequire} from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '..')
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mtlsctl-code-cache-'))
process.env.MTLSCTL_HOME = home
process.argv = [process.argv[0], path.join(ROOT, 'bin/run.js'), 'environments', 'list', '--organization', 'build']
const bundle = createRequire(import.meta.url)('../bin/bundle.cjs')
// Output of the warm-up command is not the build's: swallow it.
const write = process.stdout.write.bind(process.stdout)
process.stdout.write = () => true
try {
  await bundle.load().run(path.join(ROOT, 'bin/run.js'))
} finally {
  process.stdout.write = write
  fs.rmSync(home, {recursive: true, force: true})
}
bundle.writeCache()
