#!/usr/bin/env node
// Remote mode's targets (issue 12), on the built CLI, against `mtlsctl emulator start`:
//   - `mtlsctl operations describe UUID` (remote) >= 4x faster than
//     `gcloud alpha apigee operations describe UUID`, same emulator, same operation;
//   - a blocking `mtlsctl archives deploy` of the seed's valid archive (remote: preflight,
//     :generateUploadUrl, PUT, POST, polls) >= 3x faster than `gcloud alpha apigee archives
//     deploy` of the same source, same emulator (gcloud sleeps a second before its first poll);
//   - remote `mtlsctl aliases add` (--cert-file/--key-file, a new alias each run) <= 1.5x the
//     local one (the local engine on another state folder).
// Each case and its baseline are run one after the other, N rounds (after one warm-up of
// each), so that machine noise hits both alike; the table gives medians and their ratio.
//
// Nothing leaves loopback: the emulator listens on 127.0.0.1, proxy variables are dropped,
// METADATA_SERVER_DETECTION=none, mtlsctl has its token in MTLSCTL_ACCESS_TOKEN, gcloud's GCE
// check is answered from its config folder; with strace installed, one traced run of each
// command shows it. Remote mtlsctl's PATH starts with a `gcloud` that only records being run:
// the bench fails if remote mode spawned it. Below the table, one run of each remote command
// with its requests timed (node:http's diagnostics channels, in a preload): where the time goes.
// Needs `npm run build`, openssl, and gcloud with its alpha component (the gcloud cases are
// skipped, with the reason printed, without it).
//
//   node bench/remote.mjs [--runs 11]   (npm run bench runs it after the emulator part;
//                                        npm run bench -- --only remote runs it alone)
import {spawn, spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

import {median, time} from './stats.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BIN = path.join(ROOT, 'bin', 'run.js')
const VALID = path.join(ROOT, 'examples/archives/valid')
const at = process.argv.indexOf('--runs')
const RUNS = (at > 0 && Number(process.argv[at + 1])) || 11
const has = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mtlsctl-bench-remote-'))
const dir = (name) => {
  const d = path.join(home, name)
  fs.mkdirSync(d, {recursive: true})
  return d
}
const pki = dir('pki')
const serverState = dir('emulator-state') // what the emulator serves
const localState = dir('local-state') // the local engine's aliases add
const clientState = dir('client-state') // remote mtlsctl's own state folder (no CA, no config)
const gcloudConfig = dir('gcloud-config')
const tokenFile = path.join(home, 'token')
fs.writeFileSync(tokenFile, 'bench-token\n')

// The environment of every process: no inherited mtlsctl, gcloud, Google credentials or proxy
// settings, no metadata server.
const base = {...process.env, NO_COLOR: '1', METADATA_SERVER_DETECTION: 'none', NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost'}
for (const key of Object.keys(base)) {
  if (/^(MTLSCTL_|CLOUDSDK_|GOOGLE_|GCE_METADATA_)|^(https?|all)_proxy$/i.test(key) || key === 'google_application_credentials') delete base[key]
}
// A gcloud that records being run: remote mtlsctl with MTLSCTL_ACCESS_TOKEN must never spawn it.
const trap = dir('gcloud-trap')
const trapped = path.join(home, 'gcloud-was-run')
fs.writeFileSync(path.join(trap, 'gcloud'), `#!/bin/sh\necho "$@" >> '${trapped}'\nexit 1\n`, {mode: 0o755})

const localEnv = {...base, MTLSCTL_HOME: localState}
const serverEnv = {...base, MTLSCTL_HOME: serverState}
let remoteEnv // once the emulator listens
let gcloudEnv

function exec(cmd, argv, env, options = {}) {
  const r = spawnSync(cmd, argv, {env, cwd: options.cwd ?? home, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
  if (r.status !== 0 && !options.allowFailure) throw new Error(`${cmd} ${argv.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`)
  return r
}
const mtlsctl = (env, ...argv) => exec(process.execPath, [BIN, ...argv], env)
const openssl = (...argv) => exec('openssl', argv, base, {cwd: pki})

// The seed's Step 1: RootCA, my_gateway and my_server (test/helpers/pki.ts seedStep1).
openssl('req', '-new', '-x509', '-nodes', '-days', '365', '-subj', '/CN=my-ca', '-keyout', 'RootCA.key', '-out', 'RootCA.pem')
for (const [name, cn] of [['my_gateway', 'gateway'], ['my_server', 'localhost']]) {
  openssl('genrsa', '-out', `${name}.key`, '2048')
  openssl('req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`)
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'RootCA.pem', '-CAkey', 'RootCA.key', '-set_serial', '01', '-out', `${name}.pem`, '-days', '365', '-sha256')
}
const cert = ['--cert-file', path.join(pki, 'my_gateway.pem'), '--key-file', path.join(pki, 'my_gateway.key')]

// The emulator's state, made with the local engine before it starts: organization bench,
// environment `failed` (the seed's archive deployed without its keystores: a failed operation
// with the seed's long message, the worst case for printing) and `dev` (the seed's keystores
// and aliases: the archive deploys; keystore `aliases` for aliases add).
const where = (env) => ['--organization', 'bench', '--environment', env]
mtlsctl(serverEnv, 'environments', 'create', 'failed', '--organization', 'bench')
mtlsctl(serverEnv, 'environments', 'create', 'dev', '--organization', 'bench')
exec(process.execPath, [BIN, 'archives', 'deploy', '--source', VALID, ...where('failed')], serverEnv, {allowFailure: true})
const failedOps = JSON.parse(mtlsctl(serverEnv, 'operations', 'list', '--organization', 'bench', '--format', 'json').stdout)
const uuid = failedOps.find((op) => op.error)?.uuid
if (!uuid) throw new Error(`no failed operation to describe: ${JSON.stringify(failedOps)}`)
mtlsctl(serverEnv, 'keystores', 'create', 'mtls_keystore', ...where('dev'))
mtlsctl(serverEnv, 'keystores', 'create', 'mtls_truststore', ...where('dev'))
mtlsctl(serverEnv, 'aliases', 'add', 'mtls_alias', '--keystore', 'mtls_keystore', ...cert, ...where('dev'))
mtlsctl(serverEnv, 'aliases', 'add', 'ca', '--keystore', 'mtls_truststore', '--cert-file', path.join(pki, 'RootCA.pem'), ...where('dev'))
mtlsctl(serverEnv, 'keystores', 'create', 'aliases', ...where('dev'))
// The local engine's twin of keystore `aliases`.
mtlsctl(localEnv, 'environments', 'create', 'dev', '--organization', 'bench')
mtlsctl(localEnv, 'keystores', 'create', 'aliases', ...where('dev'))

// The emulator, its output to a file (the bench blocks its event loop in spawnSync: a server
// writing to an unread pipe would stop answering), with a bearer token required.
const log = path.join(home, 'emulator.log')
const logFd = fs.openSync(log, 'w')
const emulator = spawn(process.execPath, [BIN, 'emulator', 'start', '--port', '0', '--token-file', tokenFile], {env: serverEnv, stdio: ['ignore', logFd, logFd]})
fs.closeSync(logFd)
const url = await new Promise((resolve, reject) => {
  const check = () => {
    const m = /listening on (http:\/\/\S+\/)/.exec(fs.readFileSync(log, 'utf8'))
    if (m) {
      clearInterval(timer)
      emulator.off('exit', failed)
      resolve(m[1])
    }
  }
  const failed = (code) => {
    clearInterval(timer)
    reject(new Error(`emulator exited (${code}): ${fs.readFileSync(log, 'utf8')}`))
  }
  const timer = setInterval(check, 20)
  emulator.on('exit', failed)
})
const stop = () => {
  if (emulator.exitCode === null) emulator.kill('SIGTERM')
}
process.on('exit', stop)

remoteEnv = {...base, MTLSCTL_HOME: clientState, MTLSCTL_API_ENDPOINT: url, MTLSCTL_ACCESS_TOKEN: 'bench-token', PATH: `${trap}${path.delimiter}${base.PATH}`}
// gcloud's first run in a config folder asks DNS for metadata.google.internal (is this a GCE
// VM?) and caches the answer in the folder's `gce` file: written beforehand, nothing is asked.
fs.writeFileSync(path.join(gcloudConfig, 'gce'), 'False')
gcloudEnv = {
  ...base,
  CLOUDSDK_CONFIG: gcloudConfig,
  CLOUDSDK_API_ENDPOINT_OVERRIDES_APIGEE: url,
  CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: tokenFile,
  CLOUDSDK_CORE_DISABLE_USAGE_REPORTING: 'true',
  CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK: 'true',
  CLOUDSDK_CORE_CHECK_GCE_METADATA: 'false',
}

let n = 0
const gcloudOk = has('gcloud') && spawnSync('gcloud', ['alpha', '--help'], {env: gcloudEnv, stdio: 'ignore'}).status === 0
const gcloudWhy = has('gcloud') ? 'the gcloud alpha component is not installed' : 'gcloud is not installed'
const stdouts = {}
const keep = (name, r) => {
  ;(stdouts[name] ??= new Set()).add(r.stdout)
  return r
}

/**
 * Pairs: a case, its baseline, and how the ratio is read. Each runs its command through `x`
 * (exec, or exec under strace for the loopback check).
 */
const pairs = [
  {
    name: 'mtlsctl operations describe (remote)',
    run: (x = exec) => keep('mine', x(process.execPath, [BIN, 'operations', 'describe', uuid, '--organization', 'bench'], remoteEnv)),
    baselineName: 'gcloud alpha apigee operations describe',
    baseline: (x = exec) => keep('gcloud', x('gcloud', ['alpha', 'apigee', 'operations', 'describe', uuid, '--organization=bench'], gcloudEnv)),
    needsGcloud: true,
    faster: 4,
  },
  {
    name: 'mtlsctl archives deploy, blocking (remote)',
    run: (x = exec) => x(process.execPath, [BIN, 'archives', 'deploy', '--source', VALID, ...where('dev')], remoteEnv),
    baselineName: 'gcloud alpha apigee archives deploy',
    baseline: (x = exec) => x('gcloud', ['alpha', 'apigee', 'archives', 'deploy', '--organization=bench', '--environment=dev', '--source=.'], gcloudEnv, {cwd: VALID}),
    needsGcloud: true,
    faster: 3,
  },
  {
    name: 'mtlsctl aliases add --cert-file --key-file (remote)',
    run: (x = exec) => x(process.execPath, [BIN, 'aliases', 'add', `r${n++}`, '--keystore', 'aliases', ...cert, ...where('dev')], remoteEnv),
    baselineName: 'mtlsctl aliases add --cert-file --key-file (local)',
    baseline: (x = exec) => x(process.execPath, [BIN, 'aliases', 'add', `l${n++}`, '--keystore', 'aliases', ...cert, ...where('dev')], localEnv),
    atMost: 1.5,
  },
]


/**
 * With strace: each of a case's commands run once more, traced, and every TCP or UDP
 * destination it connects or sends to (DNS included) listed; anything but loopback is named.
 */
function offLoopback(label, fn) {
  const trace = path.join(home, `trace-${n++}`)
  const traced = (cmd, argv, env, options) => exec('strace', ['-f', '-qq', '-e', 'trace=connect,sendto,sendmsg,sendmmsg', '-o', trace, cmd, ...argv], env, options)
  fn(traced)
  const text = fs.readFileSync(trace, 'utf8')
  const far = []
  for (const m of text.matchAll(/sa_family=AF_INET6?, [^}]*?(?:inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)")/g)) {
    const address = m[1] ?? m[2]
    if (!/^127\./.test(address) && address !== '::1') far.push(address)
  }
  return far.length ? `${label}: ${[...new Set(far)].join(', ')}` : undefined
}

/**
 * One run of a remote command with a preload that notes, from node:http's diagnostics channels,
 * when each request is made and answered (ms since the process started), and when it exits.
 */
const stepsPreload = path.join(home, 'steps.cjs')
fs.writeFileSync(
  stepsPreload,
  `const dc = require('node:diagnostics_channel')
const marks = []
const at = () => Math.round(performance.now())
dc.subscribe('http.client.request.start', ({request}) => marks.push({at: at(), what: request.method + ' ' + request.path.split('?')[0].split('/').pop()}))
dc.subscribe('http.client.response.finish', () => marks.push({at: at()}))
process.on('exit', () => process.stderr.write('\\nBENCH_STEPS ' + JSON.stringify({marks, exit: at()}) + '\\n'))
`,
)
function steps(p) {
  const withPreload = (cmd, argv, env, options) => exec(cmd, ['--require', stepsPreload, ...argv], env, options)
  const {marks, exit} = JSON.parse(/BENCH_STEPS (.*)/.exec(p.run(withPreload).stderr)[1])
  const requests = []
  for (const m of marks) {
    if (m.what) requests.push(`${m.what} ${m.at}`)
    else if (requests.length) requests[requests.length - 1] += `→${m.at}`
  }
  // Polls of the same operation on one line.
  const joined = requests.join(', ').replace(/(GET [\w-]+) (\d+→\d+)((?:, \1 \d+→\d+)+)/g, (_, get, first, more) => `${get} ${first}${more.replaceAll(`, ${get} `, ', ')}`)
  return `  ${p.name.replace(/^mtlsctl | \(remote\)$/g, '')}: ${joined}; exit ${exit}`
}

let failed = 0
let leaks
let timeline
const rows = [['case', 'median ms', 'ratio', 'target', 'met?']]
try {
  const active = pairs.filter((p) => !p.needsGcloud || gcloudOk)
  const samples = new Map(active.flatMap((p) => [[p.name, []], [p.baselineName, []]]))
  samples.set('node -e 0', [])
  const node0 = () => exec(process.execPath, ['-e', '0'], base)
  // One warm-up of each (the emulator's first answers, gcloud's .pyc files), then RUNS rounds.
  for (const p of active) {
    p.baseline()
    p.run()
  }
  // Nothing beyond loopback, gcloud included (strace, when installed).
  leaks = has('strace') && spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', 'true']).status === 0
    ? active.flatMap((p) => [offLoopback(p.name, p.run), offLoopback(p.baselineName, p.baseline)]).filter(Boolean)
    : undefined
  timeline = active.map(steps)
  for (let i = 0; i < RUNS; i++) {
    samples.get('node -e 0').push(time(node0))
    for (const p of active) {
      // Alternating which goes first: neither always follows the other's leftovers.
      const order = i % 2 ? [[p.name, p.run], [p.baselineName, p.baseline]] : [[p.baselineName, p.baseline], [p.name, p.run]]
      for (const [name, fn] of order) samples.get(name).push(time(fn))
    }
  }
  rows.push(['node -e 0', median(samples.get('node -e 0')).toFixed(1), '', '', ''])
  for (const p of pairs) {
    if (!active.includes(p)) {
      rows.push([p.name, 'skipped', '', p.faster ? `>= ${p.faster}x faster` : `<= ${p.atMost}x`, `skipped: ${gcloudWhy}`])
      continue
    }
    const mine = median(samples.get(p.name))
    const theirs = median(samples.get(p.baselineName))
    rows.push([p.baselineName, theirs.toFixed(1), '', '', ''])
    if (p.faster) {
      const ratio = theirs / mine
      const ok = ratio >= p.faster
      if (!ok) failed++
      rows.push([p.name, mine.toFixed(1), `${ratio.toFixed(2)}x faster`, `>= ${p.faster}x faster`, ok ? 'yes' : 'NO'])
    } else {
      const ratio = mine / theirs
      const ok = ratio <= p.atMost
      if (!ok) failed++
      rows.push([p.name, mine.toFixed(1), `${ratio.toFixed(2)}x`, `<= ${p.atMost}x`, ok ? 'yes' : 'NO'])
    }
  }
} finally {
  stop()
}

const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
console.log(`remote mode against the emulator at ${url} (bearer token required); runs per case: ${RUNS}, node ${process.version}, ${os.cpus().length} cpus`)
for (const r of rows) console.log(r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd())
if (stdouts.mine && stdouts.gcloud) {
  const same = stdouts.mine.size === 1 && stdouts.gcloud.size === 1 && [...stdouts.mine][0] === [...stdouts.gcloud][0]
  console.log(`operations describe: same stdout as gcloud: ${same}`)
  if (!same) failed++
}
if (leaks) {
  console.log(`traffic beyond loopback (strace, one traced run of each command): ${leaks.length ? `YES: ${leaks.join('; ')}` : 'none'}`)
  if (leaks.length) failed++
} else {
  console.log('traffic beyond loopback: not checked (strace is not installed, or cannot trace here)')
}
if (timeline) {
  console.log('one run of each, ms since the process started (request made→answered):')
  for (const line of timeline) console.log(line)
}
if (process.env.NODE_EXTRA_CA_CERTS) {
  // As in bench/run.mjs: Node 20 reads it before any JavaScript runs; gcloud, talking http to
  // the emulator, reads no CA file. Run with it unset to compare.
  console.log(`NODE_EXTRA_CA_CERTS=${process.env.NODE_EXTRA_CA_CERTS}: every Node process (node -e 0 too) loads it at start, gcloud does not`)
}
const spawned = fs.existsSync(trapped)
console.log(`remote mtlsctl ran gcloud: ${spawned ? `YES (${fs.readFileSync(trapped, 'utf8').trim().split('\n').length} times)` : 'no'}`)
if (spawned) failed++
await new Promise((resolve) => (emulator.exitCode === null ? emulator.on('exit', resolve) : resolve()))
fs.rmSync(home, {recursive: true, force: true})
if (failed) console.log(`${failed} remote check(s) failed`)
