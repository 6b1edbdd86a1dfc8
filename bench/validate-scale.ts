// Validation at scale (run by bench/run.mjs through tsx): an archive of P proxies and 10·P
// target servers over 100 keystores, validated against a real store. Prints JSON timings.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {validateArchiveFiles} from '../src/core/archives/deployments.js'
import {createEnvironment} from '../src/core/environments.js'
import {FileStore} from '../src/core/store/index.js'

const sizes = process.argv.slice(2).map(Number)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtlsctl-bench-validate-'))
const store = new FileStore(dir)
await createEnvironment(store, 'org', 'dev')
const far = String(Date.now() + 365 * 86_400_000)
const info = {certInfo: [{validFrom: '0', expiryDate: far}]}
for (let k = 0; k < 100; k++) {
  await store.create(`organizations/org/environments/dev/keystores/ks${k}`, {name: `ks${k}`})
  await store.create(`organizations/org/environments/dev/keystores/ks${k}/aliases/key`, {alias: 'key', type: 'KEY_CERT', certsInfo: info})
  await store.create(`organizations/org/environments/dev/keystores/ks${k}/aliases/ca`, {alias: 'ca', type: 'CERT', certsInfo: info})
}

function archive(proxies: number): Map<string, Buffer> {
  const files = new Map<string, Buffer>()
  const targets = []
  for (let p = 0; p < proxies; p++) {
    const ops = []
    for (let t = 0; t < 10; t++) {
      const name = `ts-${p}-${t}`
      const ks = `ks${(p * 10 + t) % 100}`
      targets.push({name, host: 'h', port: 443, sSLInfo: {enabled: true, clientAuthEnabled: true, keyStore: ks, keyAlias: 'key', trustStore: ks}})
      ops.push(`  - id: op${t}\n    target:\n      target_server_id: "${name}"\n    http_match:\n      - path_template: "/p${t}"\n        method: GET\n`)
    }
    files.set(`apiproxies/proxy${p}/config.yaml`, Buffer.from(`operations:\n${ops.join('')}`))
  }
  files.set('environments/dev/targetservers.json', Buffer.from(JSON.stringify(targets)))
  return files
}

const result: Record<string, number> = {}
for (const size of sizes) {
  const files = archive(size)
  const runs: number[] = []
  for (let i = 0; i < 3; i++) {
    const start = process.hrtime.bigint()
    const r = await validateArchiveFiles(store, 'org', 'dev', files)
    runs.push(Number(process.hrtime.bigint() - start) / 1e6)
    if (r.problems.length > 0) throw new Error(`unexpected problems: ${r.problems[0].message}`)
  }
  result[size] = runs.sort((a, b) => a - b)[1]
}
fs.rmSync(dir, {recursive: true, force: true})
process.stdout.write(JSON.stringify(result) + '\n')
