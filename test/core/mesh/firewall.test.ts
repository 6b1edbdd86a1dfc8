import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {iptablesRules} from '../../../src/core/mesh/firewall.js'
import {installMesh, planMesh} from '../../../src/core/mesh/plan.js'
import {rmTemp, tempDir} from '../../helpers/cli.js'
import {simpleTopology, TOPOLOGIES, unpackBundles, writeTopology} from '../../helpers/mesh.js'

/**
 * The rules files go through `iptables-restore --test` (Debian's iptables; .ci installs it).
 * Skipped, with the reason printed, only where the binary is missing or the kernel refuses
 * even a trivial rule set (no CAP_NET_ADMIN, no netfilter in a container).
 */
// Found on PATH, or in /usr/sbin where a non-root PATH leaves it out.
const IPTABLES_RESTORE = ['/usr/sbin/iptables-restore', '/sbin/iptables-restore'].find((f) => fs.existsSync(f)) ?? 'iptables-restore'

function iptablesAvailability(): string | undefined {
  const probe = spawnSync(IPTABLES_RESTORE, ['--test'], {input: '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n', encoding: 'utf8'})
  if ((probe.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return 'iptables-restore is not installed (apt-get install iptables)'
  if (probe.status !== 0) return `the kernel refuses iptables here: ${(probe.stderr || String(probe.error)).trim().split('\n')[0]}`
  return undefined
}

function restoreTest(file: string): {status: number | null; stderr: string} {
  const r = spawnSync(IPTABLES_RESTORE, ['--test', file], {encoding: 'utf8'})
  return {status: r.status, stderr: r.stderr}
}

let root: string
const unavailable = iptablesAvailability()
beforeAll(() => {
  root = tempDir('mtlsctl-mesh-firewall-')
  if (unavailable) console.warn(`Skipping iptables-restore --test: ${unavailable}.`)
})
afterAll(() => rmTemp(root))

describe('iptables rules', () => {
  for (const [count, file] of Object.entries(TOPOLOGIES)) {
    it(`${count} nodes: every rules file passes iptables-restore --test`, async (ctx) => {
      if (unavailable) ctx.skip()
      const dir = path.join(root, `out-${count}`)
      await installMesh(await planMesh({topologyFile: file}), {outDir: dir})
      const nodes = unpackBundles(dir, path.join(root, `nodes-${count}`))
      expect(nodes).toHaveLength(Number(count))
      for (const ip of nodes) {
        const result = restoreTest(path.join(root, `nodes-${count}`, ip, 'iptables.rules'))
        expect(result, `${ip}: ${result.stderr}`).toMatchObject({status: 0})
      }
    })
  }

  it('passes iptables-restore --test with many members and wide, custom proxy ranges', async (ctx) => {
    if (unavailable) ctx.skip()
    const topology = writeTopology(root, 'big.json', simpleTopology(297))
    const {plan} = await planMesh({
      topologyFile: topology,
      allowUnsupportedTopology: true,
      portRanges: ['egress=20000-20999', 'router=21000-21999', 'message-processor=22000-22999'],
      portsPerNode: ['router=3'],
    })
    for (const node of [plan.nodes[0], plan.nodes[299]]) {
      const file = path.join(root, `${node.ip}.rules`)
      fs.writeFileSync(file, iptablesRules(plan, node))
      const result = restoreTest(file)
      expect(result, result.stderr).toMatchObject({status: 0})
    }
  })

  it('rejects a broken rules file (the check is real)', (ctx) => {
    if (unavailable) ctx.skip()
    const file = path.join(root, 'broken.rules')
    fs.writeFileSync(file, '*filter\n-A INPUT -p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16 -j ACCEPT\nCOMMIT\n')
    expect(restoreTest(file).status).not.toBe(0)
  })
})

describe('iptables rules content', () => {
  it('opens Consul server ports and proxy ports to cluster members only, keeps 8500 local', async () => {
    const {plan} = await planMesh({topologyFile: TOPOLOGIES[13]})
    const server = iptablesRules(plan, plan.nodes[0])
    expect(server).toContain('-A APIGEE-MTLS -p tcp -m multiport --dports 8300:8302,8502:8503,10000:10002,10100:10101,10700 -j APIGEE-MTLS-MEMBERS')
    expect(server).toContain('-A APIGEE-MTLS -p udp -m multiport --dports 8301:8302 -j APIGEE-MTLS-MEMBERS')
    expect(server).toContain('-A APIGEE-MTLS -p tcp -m multiport --dports 8500,8600 -j DROP')
    for (const node of plan.nodes) expect(server).toContain(`-A APIGEE-MTLS-MEMBERS -s ${node.ip}/32 -j ACCEPT`)
    expect(server.trimEnd().split('\n').slice(-2)).toEqual(['-A APIGEE-MTLS-MEMBERS -j DROP', 'COMMIT'])
    const client = iptablesRules(plan, plan.nodes[7])
    expect(client).toContain('-A APIGEE-MTLS -p tcp -m multiport --dports 8301,10500:10501,10600:10601,10707 -j APIGEE-MTLS-MEMBERS')
    expect(client).not.toMatch(/8300/)
  })

  it('opens 8302 on every node in a multi-data-center cluster', async () => {
    const {plan} = await planMesh({topologyFile: TOPOLOGIES[12]})
    for (const node of plan.nodes) {
      expect(iptablesRules(plan, node), node.ip).toMatch(/-p tcp -m multiport --dports [^ ]*(8301:8302|8300:8302)[^ ]* -j APIGEE-MTLS-MEMBERS/)
      expect(iptablesRules(plan, node), node.ip).toMatch(/-p udp -m multiport --dports 8301:8302 -j APIGEE-MTLS-MEMBERS/)
    }
  })
})
