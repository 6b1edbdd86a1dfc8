#!/usr/bin/env node
// Measures `aliases rotate --ca` (issue 14's target) on the built CLI, on the local engine:
//   - the case: `aliases rotate ALIAS --keystore ks --source DIR --ca RootCA --new-alias NEXT`
//     (renews the certificate into a new alias, rewrites targetservers.json, preflights,
//     deploys, waits, writes the file back);
//   - the baseline: what a user runs by hand for the same result, `aliases add NEXT --ca RootCA
//     --subject ...` then `archives deploy --source DIR`, one after the other.
// Both are run in the same run, interleaved round by round; medians; target: rotate <= 1.3x.
// Needs `npm run build`.
//
//   node bench/rotate.mjs [--runs 11]
import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

import {median, time} from './stats.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BIN = path.join(ROOT, 'bin', 'run.js')
const args = process.argv.slice(2)
const RUNS = Number(args[args.indexOf('--runs') + 1]) || 11
const TARGET = 1.3

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mtlsctl-bench-rotate-'))
const env = {...process.env, MTLSCTL_HOME: path.join(home, 'state'), NO_COLOR: '1'}
for (const key of Object.keys(env)) if (key.startsWith('MTLSCTL_') && key !== 'MTLSCTL_HOME') delete env[key]

function mtlsctl(...argv) {
  const r = spawnSync(process.execPath, [BIN, ...argv, '--organization', 'bench', '--environment', 'dev'], {env, cwd: home, encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`mtlsctl ${argv.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`)
  return r
}
const setup = (...argv) => {
  const r = spawnSync(process.execPath, [BIN, ...argv], {env, cwd: home, encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`mtlsctl ${argv.join(' ')} exited ${r.status}: ${r.stderr}`)
}

/** The seed's archive (one proxy, one mTLS target server) naming keyAlias `alias`. */
function archive(name, alias) {
  const root = path.join(home, name, 'src/main/apigee')
  fs.mkdirSync(path.join(root, 'environments/dev'), {recursive: true})
  fs.mkdirSync(path.join(root, 'apiproxies/helloworld'), {recursive: true})
  fs.writeFileSync(path.join(root, 'apiproxies/helloworld/config.yaml'), 'target:\n  target_server_id: mymtlstarget\n')
  fs.writeFileSync(path.join(root, 'environments/dev/deployments.json'), JSON.stringify({proxies: [{name: 'helloworld'}]}, null, 2))
  const targets = [
    {
      name: 'mymtlstarget',
      description: 'An example use mTLS',
      host: 'foo',
      port: 8080,
      isEnabled: true,
      sSLInfo: {enabled: true, clientAuthEnabled: true, keyStore: 'mtls_keystore', keyAlias: alias, trustStore: 'mtls_truststore', ignoreValidationErrors: false, protocols: ['1.2']},
      protocol: 'HTTP',
    },
  ]
  fs.writeFileSync(path.join(root, 'environments/dev/targetservers.json'), `${JSON.stringify(targets, null, 2)}\n`)
  return path.join(home, name, 'src')
}

setup('environments', 'create', 'dev', '--organization', 'bench')
setup('ca', 'create', 'RootCA', '--subject', '/CN=my-ca', '--out-dir', home)
mtlsctl('keystores', 'create', 'mtls_keystore')
mtlsctl('keystores', 'create', 'mtls_truststore')
mtlsctl('aliases', 'add', 'mtls_ca', '--keystore', 'mtls_truststore', '--cert-file', path.join(home, 'RootCA.pem'))
mtlsctl('aliases', 'add', 'gw', '--keystore', 'mtls_keystore', '--ca', 'RootCA', '--subject', '/CN=gateway', '--san', 'DNS:gateway.example.com')
const byHand = archive('by-hand', 'gw')
const rotated = archive('rotated', 'gw')

let n = 0
let current = 'gw'
const baseline = () => {
  // The user's edit of targetservers.json (between the two commands) is not timed: only the commands are.
  const alias = `hand-${n++}`
  const start = process.hrtime.bigint()
  mtlsctl('aliases', 'add', alias, '--keystore', 'mtls_keystore', '--ca', 'RootCA', '--subject', '/CN=gateway', '--san', 'DNS:gateway.example.com')
  let ms = Number(process.hrtime.bigint() - start) / 1e6
  const file = path.join(byHand, 'main/apigee/environments/dev/targetservers.json')
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/"keyAlias": "[^"]*"/, `"keyAlias": "${alias}"`))
  ms += time(() => mtlsctl('archives', 'deploy', '--source', byHand))
  return ms
}
const rotation = () => {
  const next = `rot-${n++}`
  const ms = time(() => mtlsctl('aliases', 'rotate', current, '--keystore', 'mtls_keystore', '--source', rotated, '--ca', 'RootCA', '--new-alias', next))
  current = next
  return ms
}

// One warm-up of each, then RUNS interleaved rounds.
baseline()
rotation()
const base = []
const mine = []
for (let i = 0; i < RUNS; i++) {
  base.push(baseline())
  mine.push(rotation())
}
const b = median(base)
const m = median(mine)
const ratio = m / b
const rows = [
  ['case', 'median ms', 'baseline', 'ratio', 'target', 'ok'],
  ['aliases add --ca + archives deploy (2 commands)', b.toFixed(1), '', '', '', ''],
  ['aliases rotate --ca (new alias, rewrite, deploy)', m.toFixed(1), 'aliases add --ca + archives deploy', `${ratio.toFixed(2)}x`, `<= ${TARGET}x`, ratio <= TARGET ? 'yes' : 'NO'],
]
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
console.log(`runs per case: ${RUNS}, node ${process.version}, ${os.cpus().length} cpus`)
for (const r of rows) console.log(r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd())
fs.rmSync(home, {recursive: true, force: true})
if (ratio > TARGET) {
  console.log('1 case(s) over target')
  process.exitCode = 1
}
