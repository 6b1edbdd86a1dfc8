// npm run bench: start-up and flow timings of the built CLI, as medians over repeated runs and
// ratios against a baseline measured in the same run (never as timed tests).
//
//   node bench/run.mjs [--runs N] [--only NAME]
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BIN = path.join(ROOT, 'bin', 'run.js')
const args = process.argv.slice(2)
const RUNS = Number(args[args.indexOf('--runs') + 1]) || 15
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mtlsctl-bench-'))
const env = {...process.env, MTLSCTL_HOME: path.join(home, 'state'), NO_COLOR: '1'}
for (const key of Object.keys(env)) if (key.startsWith('MTLSCTL_') && key !== 'MTLSCTL_HOME') delete env[key]

function exec(cmd, argv, options = {}) {
  const r = spawnSync(cmd, argv, {env, cwd: options.cwd ?? home, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
  if (r.status !== 0 && !options.allowFailure) {
    throw new Error(`${cmd} ${argv.join(' ')} exited ${r.status}: ${r.stderr}`)
  }
  return r
}
const mtlsctl = (...argv) => exec(process.execPath, [BIN, ...argv])

function time(fn) {
  const start = process.hrtime.bigint()
  fn()
  return Number(process.hrtime.bigint() - start) / 1e6
}

function median(values) {
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/**
 * Each case: a name, what it is measured against, a target ratio, and the work. Baselines and
 * cases are interleaved run by run so that machine noise hits both alike.
 */
const baselines = {
  'node -e 0': () => exec(process.execPath, ['-e', '0']),
}

const cases = [
  {name: 'mtlsctl --version', baseline: 'node -e 0', target: 2.0, run: () => mtlsctl('--version')},
  {name: 'mtlsctl --help', baseline: 'node -e 0', target: undefined, run: () => mtlsctl('--help')},
  {
    name: 'mtlsctl environments list',
    baseline: 'node -e 0',
    target: 2.5,
    setup: () => mtlsctl('environments', 'create', 'dev', '--organization', 'bench'),
    run: () => mtlsctl('environments', 'list', '--organization', 'bench'),
  },
]

const selected = cases.filter((c) => !ONLY || c.name.includes(ONLY))
for (const c of selected) c.setup?.()
const samples = new Map()
const record = (name, ms) => samples.set(name, [...(samples.get(name) ?? []), ms])
// One warm-up of everything, then RUNS interleaved rounds.
for (const fn of [...Object.values(baselines), ...selected.map((c) => c.run)]) fn()
for (let i = 0; i < RUNS; i++) {
  for (const [name, fn] of Object.entries(baselines)) record(name, time(fn))
  for (const c of selected) record(c.name, time(c.run))
}

const rows = [['case', 'median ms', 'baseline', 'ratio', 'target', 'ok']]
for (const [name] of Object.entries(baselines)) rows.push([name, median(samples.get(name)).toFixed(1), '', '', '', ''])
let failed = 0
for (const c of selected) {
  const m = median(samples.get(c.name))
  const ratio = m / median(samples.get(c.baseline))
  const ok = c.target === undefined ? '' : ratio <= c.target ? 'yes' : 'NO'
  if (ok === 'NO') failed++
  rows.push([c.name, m.toFixed(1), c.baseline, `${ratio.toFixed(2)}x`, c.target === undefined ? '' : `<= ${c.target}x`, ok])
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
console.log(`runs per case: ${RUNS}, node ${process.version}, ${os.cpus().length} cpus`)
for (const r of rows) console.log(r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd())
fs.rmSync(home, {recursive: true, force: true})
if (failed) console.log(`${failed} case(s) over target`)
