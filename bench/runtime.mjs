#!/usr/bin/env node
// Measures the runtime (issue 13's targets) on the built CLI, against the seed's mTLS backend
// (nginx, ssl_verify_client on):
//   - requests/s and p99 through `mtlsctl runtime start` with wrk (50 keep-alive connections,
//     --seconds, default 10), against nginx itself proxying to the same backend with
//     proxy_ssl_certificate, measured in the same run (target: >= 0.5x nginx's figure, p99 < 25 ms);
//   - the runtime's resident memory after 100,000 requests against after 10,000 (target: within 10%),
//     all its processes summed.
// Both proxies do the same job with the same processes: the runtime with its default workers (one
// per CPU), nginx with as many worker_processes; each writes one access-log line per request to a
// file (nginx's default access_log, the runtime's stderr). The backend nginx has one worker.
// Each proxy's CPU time per request (its processes summed, from /proc) is printed beside its
// rate: steadier than requests/s on a machine whose cores wrk and the backend share.
// Needs `npm run build`, nginx and wrk; skipped, saying why, when one is missing.
//
//   node bench/runtime.mjs [--seconds 10] [--requests 100000]   (npm run bench runs it)
import {spawn, spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const bin = path.join(root, 'bin', 'run.js')
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`)
  return at > 0 ? Number(process.argv[at + 1]) : fallback
}
const seconds = arg('seconds', 10)
const total = arg('requests', 100_000)
const extra = process.env.RUNTIME_BENCH_ARGS ? process.env.RUNTIME_BENCH_ARGS.split(' ') : []
// The runtime's workers (its --workers, default one per CPU) and nginx's worker_processes alike.
const workersArg = extra.indexOf('--workers')
const workers = workersArg >= 0 ? Number(extra[workersArg + 1]) : os.availableParallelism()
const has = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0
const nginxBin = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p))

if (!nginxBin || !has('wrk')) {
  console.log(`runtime bench SKIPPED: needs nginx and wrk (missing: ${[!nginxBin && 'nginx', !has('wrk') && 'wrk'].filter(Boolean).join(', ')}; scripts/test.sh installs them)`)
  process.exit(0)
}

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mtlsctl-bench-runtime-'))
const env = {...process.env, MTLSCTL_HOME: path.join(home, 'state'), NO_COLOR: '1'}
for (const key of Object.keys(env)) if (key.startsWith('MTLSCTL_') && key !== 'MTLSCTL_HOME') delete env[key]
const pki = path.join(home, 'pki')
fs.mkdirSync(pki)
const cli = (...args) => {
  const r = spawnSync(process.execPath, [bin, ...args], {env, cwd: pki, encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`mtlsctl ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}
const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const {port} = s.address()
      s.close(() => resolve(port))
    })
  })
const waitForPort = async (port) => {
  for (let i = 0; i < 500; i++) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1')
      c.once('connect', () => (c.destroy(), resolve(true)))
      c.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`nothing listens on ${port}`)
}
const children = []
function nginx(name, port, http, processes = 1) {
  const dir = path.join(home, name)
  fs.mkdirSync(path.join(dir, 'tmp'), {recursive: true})
  fs.writeFileSync(
    path.join(dir, 'nginx.conf'),
    `${process.getuid?.() === 0 ? 'user root;' : ''}
daemon off;
worker_processes ${processes};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log ${name === 'proxy' ? `${dir}/access.log` : 'off'};
  client_body_temp_path ${dir}/tmp/body; proxy_temp_path ${dir}/tmp/proxy; fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi; scgi_temp_path ${dir}/tmp/scgi;
  ${http}
}
`,
  )
  const child = spawn(nginxBin, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')], {stdio: 'ignore'})
  children.push(child)
  return waitForPort(port).then(() => child.pid)
}

/**
 * CPU time (user, system; clock ticks) of a process and its children, from /proc: the live
 * children's own, and the reaped ones' through the parent's cutime/cstime. A child that exits
 * between the listing and the read is skipped.
 */
function cpuTicks(pid) {
  const stat = (p) => {
    try {
      return fs.readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /, '').split(' ').map(Number)
    } catch {
      return undefined
    }
  }
  const own = stat(pid)
  let user = own[11] + own[13]
  let system = own[12] + own[14]
  for (const p of childrenOf(pid)) {
    const fields = stat(p)
    if (!fields) continue
    user += fields[11]
    system += fields[12]
  }
  return {user, system}
}
const TICK_US = 1e6 / (Number(spawnSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).stdout?.trim()) || 100)

/** wrk against url; with `pid`, also the CPU time that process and its children spent per request. */
function wrk(url, pid) {
  const before = pid && cpuTicks(pid)
  const r = spawnSync('wrk', ['-t2', '-c50', `-d${seconds}s`, '--latency', '-H', 'Host: myorg-dev.apigee.net', url], {encoding: 'utf8'})
  const after = pid && cpuTicks(pid)
  const count = Number(/(\d+) requests in/.exec(r.stdout)?.[1])
  const perRequest = pid ? {user: ((after.user - before.user) * TICK_US) / count, system: ((after.system - before.system) * TICK_US) / count} : undefined
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1])
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(r.stdout)
  const ms = p99 ? Number(p99[1]) * {us: 0.001, ms: 1, s: 1000}[p99[2]] : NaN
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(r.stdout)?.[1] ?? '0'
  return {rps, p99: ms, errors: Number(errors), perRequest}
}

/** `count` GET requests over 50 keep-alive connections (a fixed count, which wrk cannot do). */
async function load(port, count) {
  const agent = new http.Agent({keepAlive: true, maxSockets: 50})
  let sent = 0
  let failed = 0
  const worker = async () => {
    while (sent < count) {
      sent++
      await new Promise((resolve) => {
        http
          .get({host: '127.0.0.1', port, path: '/helloworld', agent, headers: {host: 'myorg-dev.apigee.net'}}, (res) => {
            if (res.statusCode !== 200) failed++
            res.resume().on('end', resolve)
          })
          .on('error', () => (failed++, resolve()))
      })
    }
  }
  await Promise.all(Array.from({length: 50}, worker))
  agent.destroy()
  return failed
}
const rssOf = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1])
const childrenOf = (pid) => fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number)
/** The runtime's resident memory: its process and its workers, in all and the workers alone. */
const rssNow = (pid) => {
  const workers = childrenOf(pid).reduce((sum, p) => sum + rssOf(p), 0)
  return {all: rssOf(pid) + workers, workers}
}
/**
 * Resident memory once the load has stopped and V8 has settled: right after a burst the heap
 * holds garbage that V8's memory reducer frees a few seconds later (RSS drops ~15% when idle),
 * so both points are read the same way: after 6 s idle, the median of 5 samples over a second.
 */
async function rssKiB(pid) {
  await new Promise((r) => setTimeout(r, 6000))
  const samples = []
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 200))
    samples.push(rssNow(pid))
  }
  return samples.sort((a, b) => a.all - b.all)[2]
}

let runtime
try {
  cli('ca', 'create', 'RootCA', '--subject', '/CN=my-ca')
  cli('certs', 'create', 'my_gateway', '--ca', 'RootCA', '--subject', '/CN=gateway', '--usage', 'client', '--key-type', 'ec-p256')
  cli('certs', 'create', 'my_server', '--ca', 'RootCA', '--subject', '/CN=localhost', '--san', 'DNS:localhost,IP:127.0.0.1', '--usage', 'server', '--key-type', 'ec-p256')
  const where = ['--organization', 'myorg', '--environment', 'dev']
  cli('environments', 'create', 'dev', '--organization', 'myorg')
  cli('keystores', 'create', 'mtls_keystore', ...where)
  cli('keystores', 'create', 'mtls_truststore', ...where)
  cli('aliases', 'add', 'mtls_alias', '--keystore', 'mtls_keystore', '--cert-file', 'my_gateway.pem', '--key-file', 'my_gateway.key', ...where)
  cli('aliases', 'add', 'rootca', '--keystore', 'mtls_truststore', '--cert-file', 'RootCA.pem', ...where)

  const backendPort = await freePort()
  const f = (n) => path.join(pki, n)
  await nginx('backend', backendPort, `server {
    listen 127.0.0.1:${backendPort} ssl;
    ssl_certificate ${f('my_server.pem')}; ssl_certificate_key ${f('my_server.key')};
    ssl_client_certificate ${f('RootCA.pem')}; ssl_verify_client on;
    keepalive_requests 100000;
    location / { default_type application/json; return 200 '{"message": "Hello world!"}'; }
  }`)
  const proxyPort = await freePort()
  const proxyPid = await nginx('proxy', proxyPort, `upstream backend { server 127.0.0.1:${backendPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${proxyPort};
    keepalive_requests 100000;
    location / {
      proxy_pass https://backend;
      proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_ssl_certificate ${f('my_gateway.pem')}; proxy_ssl_certificate_key ${f('my_gateway.key')};
      proxy_ssl_trusted_certificate ${f('RootCA.pem')}; proxy_ssl_verify on;
      proxy_ssl_name localhost; proxy_ssl_server_name on; proxy_ssl_session_reuse on;
    }
  }`, workers)

  // The seed's archive (examples/archives/runtime) pointed at this backend.
  const src = path.join(home, 'archive')
  fs.cpSync(path.join(root, 'examples/archives/runtime'), src, {recursive: true})
  const ts = path.join(src, 'src/main/apigee/environments/dev/targetservers.json')
  const targets = JSON.parse(fs.readFileSync(ts, 'utf8'))
  Object.assign(targets[0], {host: 'localhost', port: backendPort})
  targets[0].sSLInfo.protocols = ['1.2', '1.3']
  fs.writeFileSync(ts, JSON.stringify(targets))
  cli('archives', 'deploy', '--source', path.join(src, 'src'), ...where)

  const log = fs.openSync(path.join(home, 'runtime.log'), 'a')
  runtime = spawn(process.execPath, [...(process.env.RUNTIME_BENCH_NODE_ARGS ? process.env.RUNTIME_BENCH_NODE_ARGS.split(' ') : []), bin, 'runtime', 'start', '--port', '0', ...extra], {env, stdio: ['ignore', 'pipe', log]})
  const runtimePort = await new Promise((resolve, reject) => {
    let out = ''
    runtime.stdout.setEncoding('utf8').on('data', (d) => {
      out += d
      const m = /^https?:\/\/[^:]+:(\d+)\//m.exec(out)
      if (m) resolve(Number(m[1]))
    })
    runtime.on('exit', (code) => reject(new Error(`runtime exited (${code}): ${fs.readFileSync(path.join(home, 'runtime.log'), 'utf8')}`)))
  })
  const check = spawnSync('curl', ['-sS', '-H', 'Host: myorg-dev.apigee.net', `http://127.0.0.1:${runtimePort}/helloworld`], {encoding: 'utf8'})
  if (check.stdout !== '{"message": "Hello world!"}') throw new Error(`the runtime does not answer as expected: ${check.stdout}${check.stderr}`)

  // Warm-up (JIT, pools, TLS sessions), then the two proxies alternately, twice each.
  wrk(`http://127.0.0.1:${runtimePort}/helloworld`)
  wrk(`http://127.0.0.1:${proxyPort}/helloworld`)
  const results = {runtime: [], nginx: []}
  for (let i = 0; i < 2; i++) {
    results.nginx.push(wrk(`http://127.0.0.1:${proxyPort}/helloworld`, proxyPid))
    results.runtime.push(wrk(`http://127.0.0.1:${runtimePort}/helloworld`, runtime.pid))
  }
  const best = (xs) => xs.reduce((a, b) => (b.rps > a.rps ? b : a))
  const rt = best(results.runtime)
  const ng = best(results.nginx)
  const ratio = rt.rps / ng.rps
  console.log(`runtime bench: node ${process.version}, ${os.cpus().length} cpus, wrk -t2 -c50 -d${seconds}s, best of 2 runs each (after a warm-up); ${workers} worker processes each, both logging every request`)
  const cpu = ({perRequest: c}) => `  CPU ${(c.user + c.system).toFixed(0).padStart(3)} µs/request (user ${c.user.toFixed(0)}, system ${c.system.toFixed(0)})`
  console.log(`  nginx proxy_ssl_certificate   ${ng.rps.toFixed(0).padStart(7)} req/s  p99 ${ng.p99.toFixed(2)} ms  non-2xx ${ng.errors}${cpu(ng)}`)
  console.log(`  mtlsctl runtime               ${rt.rps.toFixed(0).padStart(7)} req/s  p99 ${rt.p99.toFixed(2)} ms  non-2xx ${rt.errors}${cpu(rt)}`)
  console.log(`  ratio ${ratio.toFixed(2)}x nginx (target >= 0.5x): ${ratio >= 0.5 ? 'yes' : 'NO'}; p99 < 25 ms: ${rt.p99 < 25 ? 'yes' : 'NO'}`)

  // Memory: a fresh runtime, RSS after 10,000 requests, then after 100,000.
  runtime.kill('SIGTERM')
  await new Promise((r) => runtime.once('exit', r))
  runtime = spawn(process.execPath, [...(process.env.RUNTIME_BENCH_NODE_ARGS ? process.env.RUNTIME_BENCH_NODE_ARGS.split(' ') : []), bin, 'runtime', 'start', '--port', '0', ...extra], {env, stdio: ['ignore', 'pipe', log]})
  const port2 = await new Promise((resolve) => {
    let out = ''
    runtime.stdout.setEncoding('utf8').on('data', (d) => {
      out += d
      const m = /^https?:\/\/[^:]+:(\d+)\//m.exec(out)
      if (m) resolve(Number(m[1]))
    })
  })
  let failed = await load(port2, total / 10)
  const at10k = await rssKiB(runtime.pid)
  failed += await load(port2, total - total / 10)
  const at100k = await rssKiB(runtime.pid)
  const growth = at100k.all / at10k.all
  const mib = (kib) => (kib / 1024).toFixed(1)
  const workersAlone = at10k.workers > 0 ? `; the workers alone ${mib(at10k.workers)} -> ${mib(at100k.workers)} MiB, ${((at100k.workers / at10k.workers - 1) * 100).toFixed(1)}%` : ''
  console.log(`  RSS after ${(total / 10).toLocaleString('en')} requests ${mib(at10k.all)} MiB, after ${total.toLocaleString('en')} ${mib(at100k.all)} MiB: ${((growth - 1) * 100).toFixed(1)}% (target within 10%): ${Math.abs(growth - 1) <= 0.1 ? 'yes' : 'NO'}${workersAlone}; failed requests ${failed}`)
} finally {
  runtime?.kill('SIGTERM')
  for (const c of children) c.kill('SIGTERM')
  await new Promise((r) => setTimeout(r, 200))
  fs.rmSync(home, {recursive: true, force: true})
}
