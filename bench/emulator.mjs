#!/usr/bin/env node
// Measures the emulator (issue 7's targets) on the built CLI:
//   - GET /v1/organizations/O/operations/UUID at 50 connections with wrk: requests/s and p99
//     (target: >= 3,000 req/s, p99 < 20 ms on a 2-core machine);
//   - `mtlsctl operations describe` against `gcloud alpha apigee operations describe` pointed
//     at the emulator, medians measured in the same run (target: mtlsctl >= 4x faster).
// Needs `npm run build`, wrk (apt-get install wrk) and gcloud; each part is skipped, with the
// reason printed, when its tool is missing.
//
//   node bench/emulator.mjs [--runs 11] [--seconds 10]   (npm run bench runs it last)
import {execFileSync, spawn, spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const bin = path.join(root, 'bin', 'run.js')
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`)
  return at > 0 ? Number(process.argv[at + 1]) : fallback
}
const runs = arg('runs', 11)
const seconds = arg('seconds', 10)
const has = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mtlsctl-bench-emulator-'))
const env = {...process.env, MTLSCTL_HOME: home, NO_COLOR: '1'}
const cli = (args) => spawnSync(process.execPath, [bin, ...args], {env, encoding: 'utf8'})

// An operation to read: a deployment of the seed's archive to an environment without its
// keystores fails with the seed's long error message (the worst case for printing).
cli(['environments', 'create', 'dev', '--organization', 'myorg'])
cli(['archives', 'deploy', '--organization', 'myorg', '--environment', 'dev', '--source', path.join(root, 'examples/archives/valid/src')])
const uuid = cli(['operations', 'list', '--organization', 'myorg', '--format', 'value(uuid)']).stdout.trim()

const emulator = spawn(process.execPath, [bin, 'emulator', 'start', '--port', '0'], {env, stdio: ['ignore', 'ignore', 'pipe']})
const url = await new Promise((resolve, reject) => {
  let text = ''
  emulator.stderr.setEncoding('utf8').on('data', (d) => {
    text += d
    const m = /listening on (http:\/\/\S+\/)/.exec(text)
    if (m) resolve(m[1])
  })
  emulator.on('exit', (code) => reject(new Error(`emulator exited (${code}): ${text}`)))
})
const target = `${url}v1/organizations/myorg/operations/${uuid}`
console.log(`state ${home}\noperation ${target}\n`)

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const time = (cmd, args, extraEnv = {}) => {
  const start = process.hrtime.bigint()
  const r = spawnSync(cmd, args, {env: {...env, ...extraEnv}, encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`)
  return {ms: Number(process.hrtime.bigint() - start) / 1e6, stdout: r.stdout}
}

try {
  if (has('wrk')) {
    // Warm-up first (JIT, connections), as for any server: the first second is not the steady state.
    execFileSync('wrk', ['-t2', '-c50', '-d2s', target], {encoding: 'utf8'})
    const out = execFileSync('wrk', ['-t2', '-c50', `-d${seconds}s`, '--latency', target], {encoding: 'utf8'})
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1])
    const p99 = /\n\s+99%\s+(\S+)/.exec(out)[1]
    const [, value, unit] = /^([\d.]+)(us|ms|s)$/.exec(p99)
    const p99ms = Number(value) * {us: 0.001, ms: 1, s: 1000}[unit]
    const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? '0'
    const ok = (cond) => (cond ? 'yes' : 'NO')
    console.log(`GET operation, wrk -t2 -c50 -d${seconds}s after a 2 s warm-up: ${rps.toFixed(0)} req/s (>= 3000: ${ok(rps >= 3000)}), p99 ${p99} (< 20 ms: ${ok(p99ms < 20)}), non-2xx ${non2xx}`)
  } else {
    console.log('GET operation: skipped (wrk is not installed: apt-get install wrk)')
  }

  const base = median(Array.from({length: runs}, () => time(process.execPath, ['-e', '0']).ms))
  const mine = []
  const theirs = []
  let same = true
  if (has('gcloud')) {
    const config = fs.mkdtempSync(path.join(os.tmpdir(), 'mtlsctl-bench-gcloud-'))
    const token = path.join(config, 'token')
    fs.writeFileSync(token, 'bench\n')
    // gcloud's first run in a config folder asks DNS for metadata.google.internal (a GCE VM?)
    // and caches the answer in its `gce` file: written beforehand, nothing leaves loopback.
    fs.writeFileSync(path.join(config, 'gce'), 'False')
    const gcloudEnv = {
      CLOUDSDK_CONFIG: config,
      CLOUDSDK_API_ENDPOINT_OVERRIDES_APIGEE: url,
      CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: token,
      CLOUDSDK_CORE_DISABLE_USAGE_REPORTING: 'true',
      CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK: 'true',
      CLOUDSDK_CORE_CHECK_GCE_METADATA: 'false',
    }
    // Interleaved, so both see the same machine load.
    for (let i = 0; i < runs; i++) {
      const m = time(process.execPath, [bin, 'operations', 'describe', uuid, '--organization', 'myorg'])
      const g = time('gcloud', ['alpha', 'apigee', 'operations', 'describe', uuid, '--organization=myorg'], gcloudEnv)
      mine.push(m.ms)
      theirs.push(g.ms)
      same &&= m.stdout === g.stdout
    }
    fs.rmSync(config, {recursive: true, force: true})
    const fmt = (ms) => `${(ms / 1000).toFixed(3)} s (${(ms / base).toFixed(1)}x node -e 0)`
    console.log(`node -e 0: median ${(base / 1000).toFixed(3)} s (${runs} runs)`)
    console.log(`mtlsctl operations describe: median ${fmt(median(mine))}`)
    console.log(`gcloud alpha apigee operations describe (emulator): median ${fmt(median(theirs))}`)
    const faster = median(theirs) / median(mine)
    console.log(`mtlsctl is ${faster.toFixed(1)}x faster (>= 4x: ${faster >= 4 ? 'yes' : 'NO'}); same stdout: ${same}`)
  } else {
    console.log('describe medians: skipped (gcloud is not installed)')
  }
} finally {
  emulator.kill('SIGTERM')
  await new Promise((resolve) => emulator.on('exit', resolve))
  fs.rmSync(home, {recursive: true, force: true})
}
