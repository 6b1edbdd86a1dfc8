// npm run bench: start-up and flow timings of the built CLI, as medians over repeated runs and
// ratios against a baseline measured in the same run (never as timed tests).
//
//   node bench/run.mjs [--runs N] [--only NAME]   (--only emulator / runtime / remote / rotate: that part alone)
import {spawn, spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BIN = path.join(ROOT, 'bin', 'run.js')
const args = process.argv.slice(2)
const RUNS = Number(args[args.indexOf('--runs') + 1]) || 15
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined

// The emulator's targets (issue 7): a script of its own, since it needs wrk and gcloud.
function emulatorBench() {
  spawnSync(process.execPath, [path.join(ROOT, 'bench/emulator.mjs'), '--runs', String(Math.min(RUNS, 11))], {stdio: 'inherit'})
}
if (ONLY === 'emulator') {
  emulatorBench()
  process.exit(0)
}
// The runtime's targets (issue 13): wrk through the runtime against nginx proxying, and memory.
function runtimeBench() {
  spawnSync(process.execPath, [path.join(ROOT, 'bench/runtime.mjs')], {stdio: 'inherit'})
}
if (ONLY === 'runtime') {
  runtimeBench()
  process.exit(0)
}
// Remote mode's targets (issue 12): the CLI against the emulator, beside gcloud and the local engine.
function remoteBench() {
  spawnSync(process.execPath, [path.join(ROOT, 'bench/remote.mjs'), '--runs', String(Math.min(RUNS, 11))], {stdio: 'inherit'})
}
if (ONLY === 'remote') {
  remoteBench()
  process.exit(0)
}
// Rotation's target (issue 14): aliases rotate --ca against aliases add --ca + archives deploy.
function rotateBench() {
  spawnSync(process.execPath, [path.join(ROOT, 'bench/rotate.mjs'), '--runs', String(Math.min(RUNS, 11))], {stdio: 'inherit'})
}
if (ONLY === 'rotate') {
  rotateBench()
  process.exit(0)
}

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mtlsctl-bench-'))
const env = {...process.env, MTLSCTL_HOME: path.join(home, 'state'), NO_COLOR: '1'}
for (const key of Object.keys(env)) if (key.startsWith('MTLSCTL_') && key !== 'MTLSCTL_HOME') delete env[key]

function exec(cmd, argv, options = {}) {
  const r = spawnSync(cmd, argv, {env, cwd: options.cwd ?? home, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
  if (r.status !== 0 && !options.allowFailure) {
    throw new Error(`${cmd} ${argv.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`)
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
 * Baselines and cases are interleaved run by run so that machine noise hits both alike. A case
 * has a target ratio against its baseline, or an absolute ceiling in milliseconds.
 */
let n = 0
const fresh = () => {
  const dir = path.join(home, `run-${n++}`)
  fs.mkdirSync(dir)
  return dir
}
const openssl = (dir, ...argv) => exec('openssl', argv, {cwd: dir})
const mtlsctlIn = (dir, ...argv) => exec(process.execPath, [BIN, ...argv], {cwd: dir})

const baselines = {
  'node -e 0': () => exec(process.execPath, ['-e', '0']),
  // The seed's Step 1 as its seven openssl commands (subjects given, so nothing is asked).
  'openssl seed flow (7 commands)': () => {
    const d = fresh()
    openssl(d, 'req', '-new', '-x509', '-nodes', '-days', '365', '-subj', '/CN=my-ca', '-keyout', 'RootCA.key', '-out', 'RootCA.pem')
    for (const [name, cn] of [['my_gateway', 'gateway'], ['my_server', 'localhost']]) {
      openssl(d, 'genrsa', '-out', `${name}.key`, '2048')
      openssl(d, 'req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`)
      openssl(d, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'RootCA.pem', '-CAkey', 'RootCA.key', '-set_serial', '01', '-out', `${name}.pem`, '-days', '365', '-sha256')
    }
  },
  // The seed's cert-manager manifests as openssl makes the same files (issue 15): the CA (RSA-2048
  // PKCS#1 key, self-signed) and five leaves (key, CSR, certificate signed by the CA with the
  // manifests' usages and SANs), each in its Secret's folder with ca.crt beside it.
  'openssl, the seed\'s cert-manager Secrets (17 commands)': () => {
    const d = fresh()
    const ca = path.join(d, 'root-secret')
    fs.mkdirSync(ca)
    openssl(ca, 'genrsa', '-traditional', '-out', 'tls.key', '2048')
    openssl(ca, 'req', '-x509', '-new', '-key', 'tls.key', '-subj', '/CN=selfsigned-ca', '-days', '90', '-out', 'tls.crt',
      '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign', '-addext', 'basicConstraints=critical,CA:TRUE')
    fs.copyFileSync(path.join(ca, 'tls.crt'), path.join(ca, 'ca.crt'))
    for (const [secret, ext] of CERT_MANAGER_LEAVES) {
      const dir = path.join(d, secret)
      fs.mkdirSync(dir)
      fs.writeFileSync(path.join(dir, 'ext.cnf'), `[v3]\nbasicConstraints=critical,CA:FALSE\n${ext}\n`)
      openssl(dir, 'genrsa', '-traditional', '-out', 'tls.key', '2048')
      openssl(dir, 'req', '-new', '-key', 'tls.key', '-subj', '/', '-out', 'tls.csr')
      openssl(dir, 'x509', '-req', '-in', 'tls.csr', '-CA', path.join(ca, 'tls.crt'), '-CAkey', path.join(ca, 'tls.key'), '-days', '90',
        '-extfile', 'ext.cnf', '-extensions', 'v3', '-out', 'tls.crt')
      fs.copyFileSync(path.join(ca, 'tls.crt'), path.join(dir, 'ca.crt'))
    }
  },
  'aliases add (10th alias)': () => mtlsctl('aliases', 'add', `small${n++}`, '--keystore', 'small', '--cert-file', path.join(pki, 'RootCA.pem'), ...where),
}

const CERT_MANAGER_LEAVES = [
  ['etcd-secret', 'extendedKeyUsage=clientAuth,serverAuth\nsubjectAltName=critical,DNS:etcd'],
  ['apisix-client-secret', 'extendedKeyUsage=clientAuth\nsubjectAltName=critical,email:apisix@apache.org'],
  ['curl-secret', 'extendedKeyUsage=clientAuth\nsubjectAltName=critical,email:curl@localhost.dev'],
  ['upstream-secret', 'extendedKeyUsage=serverAuth\nsubjectAltName=critical,DNS:upstream'],
  ['apisix-server-secret', 'extendedKeyUsage=serverAuth\nsubjectAltName=critical,DNS:admin,DNS:apisix'],
]
const pki = path.join(home, 'pki')
const where = ['--organization', 'bench', '--environment', 'dev']
const aliasesDir = (ks) => path.join(home, 'state/organizations/bench/environments/dev/keystores', ks, 'aliases')

/** Copies one stored alias `count - 1` times: the documented store layout, without 10,000 processes. */
function fillKeystore(ks, count) {
  mtlsctl('keystores', 'create', ks, ...where)
  mtlsctl('aliases', 'add', 'seed', '--keystore', ks, '--cert-file', path.join(pki, 'RootCA.pem'), ...where)
  const dir = aliasesDir(ks)
  const doc = JSON.parse(fs.readFileSync(path.join(dir, 'seed.json'), 'utf8'))
  for (let i = 1; i < count; i++) {
    fs.writeFileSync(path.join(dir, `a${i}.json`), JSON.stringify({...doc, alias: `a${i}`}), {mode: 0o600})
    fs.mkdirSync(path.join(dir, `a${i}`), {mode: 0o700})
    fs.copyFileSync(path.join(dir, 'seed', 'cert.pem'), path.join(dir, `a${i}`, 'cert.pem'))
  }
}

// certs probe and hybrid check (issue 16): real TLS servers, started once. openssl s_server
// answers one connection at a time, so each port has its own; ready when it prints ACCEPT.
const probePki = path.join(home, 'probe-pki')
fs.mkdirSync(probePki)
for (const argv of [
  ['req', '-new', '-x509', '-nodes', '-days', '2', '-subj', '/CN=bench-ca', '-keyout', 'ca.key', '-out', 'ca.pem'],
  ['req', '-new', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr'],
  ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '1', '-days', '2', '-out', 'server.pem'],
  ['req', '-new', '-nodes', '-subj', '/CN=gateway', '-keyout', 'client.key', '-out', 'client.csr'],
  ['x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '2', '-days', '2', '-out', 'client.pem'],
]) openssl(probePki, ...argv)
fs.writeFileSync(path.join(probePki, 'san.ext'), 'subjectAltName=DNS:localhost\n')
openssl(probePki, 'x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '3', '-days', '2', '-extfile', 'san.ext', '-out', 'server.pem')
const pkiFile = (name) => path.join(probePki, name)
const servers = []
// Their output goes to a file, not a pipe: the bench blocks its event loop in spawnSync, and a
// server blocked writing to an unread pipe would stop answering. Ready when the file shows `ready`.
function startServer(prefix, argv, ready) {
  const log = path.join(probePki, `server-${servers.length}.log`)
  const fd = fs.openSync(log, 'w')
  const child = spawn(prefix[0] ?? argv[0], [...prefix.slice(1), ...(prefix.length ? argv : argv.slice(1))], {cwd: probePki, stdio: ['ignore', fd, fd]})
  fs.closeSync(fd)
  servers.push(child)
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = ready.exec(fs.readFileSync(log, 'utf8'))
      if (m) {
        watcher.close()
        child.off('close', failed)
        resolve(m)
      }
    }
    const failed = (code) => {
      watcher.close()
      reject(new Error(`${argv.join(' ')} exited (${code}): ${fs.readFileSync(log, 'utf8')}`))
    }
    const watcher = fs.watch(log, check)
    child.on('close', failed)
    check()
  })
}
// s_server prints `ACCEPT host:port` for port 0, a bare `ACCEPT` for a port given.
const mtlsServer = (accept, prefix = [], ready = /ACCEPT/) =>
  startServer(prefix, ['openssl', 's_server', '-accept', accept, '-cert', 'server.pem', '-key', 'server.key', '-CAfile', 'ca.pem', '-Verify', '1', '-verify_return_error', '-www'], ready)
const probePort = Number((await mtlsServer('127.0.0.1:0', [], /ACCEPT 127\.0\.0\.1:(\d+)/))[1])
const clientArgs = ['--cert', pkiFile('client.pem'), '--key', pkiFile('client.key')]
baselines['openssl s_client (local mTLS) </dev/null'] = () => exec('openssl', ['s_client', '-connect', `127.0.0.1:${probePort}`, '-servername', 'localhost', '-CAfile', pkiFile('ca.pem'), '-cert', pkiFile('client.pem'), '-key', pkiFile('client.key')])
// hybrid check needs Cassandra's real ports: in a network namespace of its own (root only).
let checkNs
function stopServers() {
  for (const child of servers) child.kill('SIGTERM')
  if (checkNs) spawnSync('ip', ['netns', 'del', checkNs])
  checkNs = undefined
}
process.on('exit', stopServers)
if (process.getuid?.() === 0 && spawnSync('ip', ['-V']).status === 0) {
  checkNs = `mtlsctl-bench-${process.pid}`
  exec('ip', ['netns', 'add', checkNs])
  exec('ip', ['-n', checkNs, 'link', 'set', 'lo', 'up'])
  const inNs = ['ip', 'netns', 'exec', checkNs]
  await mtlsServer('127.0.0.1:9142', inNs)
  await mtlsServer('127.0.0.1:7001', inNs)
  await startServer(inNs, ['openssl', 's_server', '-accept', '127.0.0.1:7070', '-cert', 'server.pem', '-key', 'server.key', '-www'], /ACCEPT/)
  await startServer(inNs, [process.execPath, '-e', "require('net').createServer((s) => { s.on('error', () => {}); s.once('data', () => s.end('ERROR\\n')) }).listen(9042, '127.0.0.1', () => console.log('LISTENING'))"], /LISTENING/)
}

const cases = [
  {name: 'mtlsctl --version', baseline: 'node -e 0', target: 2.0, run: () => mtlsctl('--version')},
  {name: 'mtlsctl --help', baseline: 'node -e 0', run: () => mtlsctl('--help')},
  {
    name: 'mtlsctl environments list',
    baseline: 'node -e 0',
    target: 2.5,
    setup: () => mtlsctl('environments', 'create', 'dev', '--organization', 'bench'),
    run: () => mtlsctl('environments', 'list', '--organization', 'bench'),
  },
  {
    name: 'seed flow as 3 mtlsctl commands',
    baseline: 'openssl seed flow (7 commands)',
    target: 1.2,
    run: () => {
      const d = fresh()
      const ca = `ca${n}`
      mtlsctlIn(d, 'ca', 'create', ca, '--subject', '/CN=my-ca')
      mtlsctlIn(d, 'certs', 'create', 'my_gateway', '--ca', ca, '--subject', '/CN=gateway', '--usage', 'client')
      mtlsctlIn(d, 'certs', 'create', 'my_server', '--ca', ca, '--subject', '/CN=localhost', '--usage', 'server')
    },
  },
  {
    name: 'aliases add from files',
    baseline: 'node -e 0',
    target: 2.5,
    setup: () => {
      fs.mkdirSync(pki)
      mtlsctlIn(pki, 'ca', 'create', 'RootCA', '--subject', '/CN=my-ca')
      mtlsctlIn(pki, 'certs', 'create', 'my_gateway', '--ca', 'RootCA', '--subject', '/CN=gateway', '--usage', 'client')
      mtlsctl('keystores', 'create', 'files', ...where)
    },
    run: () => mtlsctl('aliases', 'add', `f${n++}`, '--keystore', 'files', '--cert-file', path.join(pki, 'my_gateway.pem'), '--key-file', path.join(pki, 'my_gateway.key'), ...where),
  },
  {
    name: 'aliases add (10,000th alias)',
    baseline: 'aliases add (10th alias)',
    target: 1.2,
    setup: () => {
      fillKeystore('small', 9)
      fillKeystore('large', 9999)
    },
    run: () => mtlsctl('aliases', 'add', `large${n++}`, '--keystore', 'large', '--cert-file', path.join(pki, 'RootCA.pem'), ...where),
  },
  {
    name: 'aliases list, 10,000 aliases',
    maxMs: 500,
    run: () => mtlsctl('aliases', 'list', '--keystore', 'large', '--format', 'value(alias)', ...where),
  },
  {
    name: 'archives deploy (blocking, seed archive)',
    baseline: 'node -e 0',
    target: 4.0,
    setup: () => {
      mtlsctl('keystores', 'create', 'mtls_keystore', ...where)
      mtlsctl('keystores', 'create', 'mtls_truststore', ...where)
      mtlsctl('aliases', 'add', 'mtls_alias', '--keystore', 'mtls_keystore', '--cert-file', path.join(pki, 'my_gateway.pem'), '--key-file', path.join(pki, 'my_gateway.key'), ...where)
      mtlsctl('aliases', 'add', 'ca', '--keystore', 'mtls_truststore', '--cert-file', path.join(pki, 'RootCA.pem'), ...where)
    },
    run: () => mtlsctl('archives', 'deploy', '--source', path.join(ROOT, 'examples/archives/valid/src'), ...where),
  },
  {
    name: "certs apply, the seed's cert-manager manifests (CA + 5 leaves, RSA-2048)",
    baseline: "openssl, the seed's cert-manager Secrets (17 commands)",
    target: 1.3,
    run: () => mtlsctl('certs', 'apply', '-f', path.join(ROOT, 'test/fixtures/cert-manager/mtls-everywhere.yaml'), '--out-dir', path.join(fresh(), 'pki'), '--verbosity', 'error'),
  },
  {
    name: 'mesh install, 13 nodes with certificates',
    maxMs: 1000,
    run: () => mtlsctl('mesh', 'install', '--topology', path.join(ROOT, 'examples/mesh/13-node.yaml'), '--out-dir', path.join(fresh(), 'out')),
  },
  {
    name: 'mesh install, 300 nodes, wide custom ranges',
    maxMs: 3000,
    setup: () => {
      // 3 datastore nodes, then 297 alternating router+MP, analytics and management nodes.
      const nodes = Array.from({length: 300}, (_, i) => ({
        ip: `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`,
        components: i < 3 ? ['ds'] : [['rmp'], ['sax'], ['ms']][i % 3],
      }))
      fs.writeFileSync(path.join(home, 'mesh-300.json'), JSON.stringify({datacenters: [{name: 'dc-1', nodes}]}))
    },
    run: () =>
      mtlsctl('mesh', 'install', '--topology', path.join(home, 'mesh-300.json'), '--out-dir', path.join(fresh(), 'out'), '--allow-unsupported-topology',
        '--port-range', 'egress=20000-20999', '--port-range', 'router=21000-21999', '--port-range', 'message-processor=22000-22999',
        '--port-range', 'qpid=23000-23999', '--port-range', 'postgres=24000-24999', '--port-range', 'openldap=25000-25999', '--verbosity', 'error'),
  },
  {
    name: 'certs probe (local mTLS, client certificate)',
    baseline: 'openssl s_client (local mTLS) </dev/null',
    target: 1.5,
    run: () => mtlsctl('certs', 'probe', `127.0.0.1:${probePort}`, '--servername', 'localhost', '--ca', pkiFile('ca.pem'), ...clientArgs),
  },
  ...(checkNs
    ? [
        {
          name: 'hybrid check cassandra (5 ports, concurrent)',
          maxMs: 1000,
          // 9042 is plain and 7000 closed: the check exits 14, as it should.
          run: () => exec('ip', ['netns', 'exec', checkNs, process.execPath, BIN, 'hybrid', 'check', '127.0.0.1', '--component', 'cassandra', ...clientArgs], {allowFailure: true}),
        },
      ]
    : []),
]

const selected = cases.filter((c) => !ONLY || c.name.includes(ONLY))
// Setups build on each other (environment, PKI, keystores): all of them run, whatever is selected.
for (const c of cases) c.setup?.()
const usedBaselines = Object.keys(baselines).filter((b) => selected.some((c) => c.baseline === b))
const samples = new Map()
const record = (name, ms) => samples.set(name, [...(samples.get(name) ?? []), ms])
// One warm-up of everything, then RUNS interleaved rounds.
for (const fn of [...usedBaselines.map((b) => baselines[b]), ...selected.map((c) => c.run)]) fn()
for (let i = 0; i < RUNS; i++) {
  for (const name of usedBaselines) record(name, time(baselines[name]))
  for (const c of selected) record(c.name, time(c.run))
}

const rows = [['case', 'median ms', 'baseline', 'ratio', 'target', 'ok']]
for (const name of usedBaselines) rows.push([name, median(samples.get(name)).toFixed(1), '', '', '', ''])
let failed = 0
const report = (name, m, baseline, ratio, target, ok) => {
  if (ok === 'NO') failed++
  rows.push([name, m.toFixed(1), baseline ?? '', ratio === undefined ? '' : `${ratio.toFixed(2)}x`, target, ok])
}
for (const c of selected) {
  const m = median(samples.get(c.name))
  if (c.maxMs !== undefined) {
    report(c.name, m, undefined, undefined, `< ${c.maxMs} ms`, m < c.maxMs ? 'yes' : 'NO')
    continue
  }
  const ratio = m / median(samples.get(c.baseline))
  report(c.name, m, c.baseline, ratio, c.target === undefined ? '' : `<= ${c.target}x`, c.target === undefined ? '' : ratio <= c.target ? 'yes' : 'NO')
}
// Validation at scale runs in one process of its own (the engine, through tsx).
if (!ONLY || 'validation'.includes(ONLY) || ONLY.includes('validation')) {
  const r = exec(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/validate-scale.ts'), '1000', '10000'], {cwd: ROOT})
  const t = JSON.parse(r.stdout)
  report('validate 1,000 proxies / 10,000 target servers', t['1000'], undefined, undefined, '< 1000 ms', t['1000'] < 1000 ? 'yes' : 'NO')
  const growth = t['10000'] / t['1000']
  report('validate 10x input (10,000 / 100,000)', t['10000'], 'validate 1,000 proxies', growth, '<= 12x', growth <= 12 ? 'yes' : 'NO')
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
console.log(`runs per case: ${RUNS}, node ${process.version}, ${os.cpus().length} cpus`)
if (process.env.NODE_EXTRA_CA_CERTS) {
  // Node 20 reads this file before any JavaScript runs (~45 ms for the system bundle here): every
  // Node process pays it, node -e 0 included, openssl does not. Run with it unset to compare.
  console.log(`NODE_EXTRA_CA_CERTS=${process.env.NODE_EXTRA_CA_CERTS}: every Node process (node -e 0 too) loads it at start`)
}
for (const r of rows) console.log(r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd())
stopServers()
fs.rmSync(home, {recursive: true, force: true})
if (failed) console.log(`${failed} case(s) over target`)
if (!ONLY) {
  console.log('')
  emulatorBench()
  console.log('')
  remoteBench()
  console.log('')
  rotateBench()
  console.log('')
  runtimeBench()
}
