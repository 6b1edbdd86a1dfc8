import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {installMesh, planMesh} from '../../../src/core/mesh/plan.js'
import {rmTemp, tempDir} from '../../helpers/cli.js'
import {refusal} from '../../helpers/errors.js'
import {listFiles, TOPOLOGIES} from '../../helpers/mesh.js'

let dir: string
let out: string
beforeEach(() => {
  dir = tempDir('mtlsctl-mesh-diff-')
  out = path.join(dir, 'out')
})
afterEach(() => rmTemp(dir))

const snapshot = (root: string) => new Map(listFiles(root).map((f) => [f, fs.readFileSync(path.join(root, f)).toString('base64')]))

describe('re-running into an earlier install', () => {
  it('shows what changed, refuses without force and writes nothing', async () => {
    await installMesh(await planMesh({topologyFile: TOPOLOGIES[13], outDir: out}), {outDir: out})
    const before = snapshot(out)
    const planned = await planMesh({topologyFile: TOPOLOGIES[13], outDir: out, portRanges: ['router=20000-20099']})
    expect(planned.changes).toEqual([
      '~ node 10.0.0.8 (node8): router ports 10600-10601 -> 20000-20001',
      '~ node 10.0.0.9 (node9): router ports 10602-10603 -> 20002-20003',
      '~ router range 10600-10699 x2 -> 20000-20099 x2',
    ])
    const error = await refusal(installMesh(planned, {outDir: out}), 'ALREADY_EXISTS')
    expect(error.message).toMatch(/already holds a mesh install \(.*plan\.json.* and \d+ more\); nothing was written\.$/)
    expect(error.hint).toContain('--force')
    expect(snapshot(out)).toEqual(before)
  })

  it('with force replaces everything, removes what a smaller cluster no longer needs, and reports a new CA', async () => {
    await installMesh(await planMesh({topologyFile: TOPOLOGIES[13], outDir: out}), {outDir: out})
    const planned = await planMesh({topologyFile: TOPOLOGIES[9], outDir: out})
    expect(planned.changes).toContain('- node 10.0.0.13 (node13) removed')
    const result = await installMesh(planned, {outDir: out, force: true})
    expect(result.changes).toEqual(['~ Consul CA: a different CA signs the agent certificates', '~ gossip key: a different key'])
    expect(listFiles(out)).toEqual([...result.files].sort())
    expect(fs.existsSync(path.join(out, 'certs/dc-1-client-consul-9.pem'))).toBe(false)
    expect(fs.existsSync(path.join(out, 'bundles/10.0.0.13.tar.gz'))).toBe(false)
    expect(JSON.parse(fs.readFileSync(path.join(out, 'plan.json'), 'utf8')).nodes).toHaveLength(9)
  })

  it('keeps the CA and gossip key when they are given back, so only the plan differs', async () => {
    await installMesh(await planMesh({topologyFile: TOPOLOGIES[13], outDir: out}), {outDir: out})
    const keep = path.join(dir, 'keep')
    fs.mkdirSync(keep)
    for (const f of ['certs/consul-agent-ca.pem', 'certs/consul-agent-ca-key.pem', 'gossip.key']) fs.copyFileSync(path.join(out, f), path.join(keep, path.basename(f)))
    const planned = await planMesh({topologyFile: TOPOLOGIES[13], outDir: out})
    expect(planned.changes).toEqual([])
    const result = await installMesh(planned, {
      outDir: out,
      force: true,
      caCertFile: path.join(keep, 'consul-agent-ca.pem'),
      caKeyFile: path.join(keep, 'consul-agent-ca-key.pem'),
      gossipKeyFile: path.join(keep, 'gossip.key'),
    })
    expect(result.changes).toEqual([])
    expect(result.caGenerated).toBe(false)
    expect(fs.readFileSync(path.join(out, 'certs/consul-agent-ca-key.pem'), 'utf8')).toBe(fs.readFileSync(path.join(keep, 'consul-agent-ca-key.pem'), 'utf8'))
  })

  it('refuses a gossip key file that is not a Consul key, and a CA key that does not match, writing nothing', async () => {
    const planned = await planMesh({topologyFile: TOPOLOGIES[5], outDir: out})
    const bad = path.join(dir, 'gossip.key')
    fs.writeFileSync(bad, 'c2hvcnQ=\n')
    const gossip = await refusal(installMesh(planned, {outDir: out, gossipKeyFile: bad}))
    expect(gossip.message).toBe(`The gossip key file ${bad} does not hold a Consul gossip key (base64 of 32 bytes).`)
    await installMesh(planned, {outDir: path.join(dir, 'a')})
    await installMesh(planned, {outDir: path.join(dir, 'b')})
    const mismatch = await refusal(
      installMesh(planned, {
        outDir: out,
        caCertFile: path.join(dir, 'a/certs/consul-agent-ca.pem'),
        caKeyFile: path.join(dir, 'b/certs/consul-agent-ca-key.pem'),
      }),
    )
    expect(mismatch.message).toContain('does not match the CA certificate')
    expect(fs.existsSync(out)).toBe(false)
  })
})
