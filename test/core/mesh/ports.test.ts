import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {planMesh} from '../../../src/core/mesh/plan.js'
import {rmTemp, tempDir} from '../../helpers/cli.js'
import {refusal} from '../../helpers/errors.js'
import {linearPorts, readNodes, simpleTopology, TOPOLOGIES, writeTopology} from '../../helpers/mesh.js'

let dir: string
beforeEach(() => {
  dir = tempDir('mtlsctl-mesh-ports-')
})
afterEach(() => rmTemp(dir))

describe('proxy port assignment', () => {
  for (const [count, file] of Object.entries(TOPOLOGIES)) {
    it(`follows the linear rule for the ${count}-node topology, unique across the cluster`, async () => {
      const {plan} = await planMesh({topologyFile: file})
      const expected = linearPorts(readNodes(file))
      expect(plan.nodes).toHaveLength(Number(count))
      for (const node of plan.nodes) expect(node.ports, node.ip).toEqual(expected.get(node.ip))
      const all = plan.nodes.flatMap((n) => Object.values(n.ports).flat())
      expect(new Set(all).size).toBe(all.length)
      for (const port of all) expect([8300, 8301, 8302, 8500, 8502, 8503, 8600]).not.toContain(port)
    })
  }

  it('continues the blocks of the first data center in the second (one port space)', async () => {
    const {plan} = await planMesh({topologyFile: TOPOLOGIES[12]})
    const dc2first = plan.nodes.find((n) => n.ip === '10.0.2.1')!
    expect(dc2first.ports.zookeeper).toEqual([10009, 10010, 10011])
    expect(dc2first.ports.egress).toEqual([10706])
    expect(plan.nodes.filter((n) => n.consulRole === 'server').map((n) => n.ip)).toEqual([
      '10.0.1.1', '10.0.1.2', '10.0.1.3', '10.0.2.1', '10.0.2.2', '10.0.2.3',
    ])
  })

  it('takes custom ranges and ports per node, and the linear rule still holds', async () => {
    const {plan} = await planMesh({
      topologyFile: TOPOLOGIES[13],
      portRanges: ['router=20000-20099', 'egress=21000-21099'],
      portsPerNode: ['postgres=2'],
    })
    const expected = linearPorts(readNodes(TOPOLOGIES[13]), {router: {start: 20000}, egress: {start: 21000}, postgres: {count: 2}})
    for (const node of plan.nodes) expect(node.ports).toEqual(expected.get(node.ip))
    expect(plan.ranges.router).toMatchObject({min: 20000, max: 20099, customRange: true})
    expect(plan.ranges.postgres).toMatchObject({perNode: 2, customPerNode: true, customRange: false})
  })

  it('refuses a range that runs out, naming the component, the ports needed, the range and --port-range', async () => {
    const file = writeTopology(dir, 't.json', simpleTopology(110))
    const error = await refusal(planMesh({topologyFile: file, allowUnsupportedTopology: true}))
    expect(error.status).toBe('INVALID_ARGUMENT')
    expect(error.message).toContain('The egress range 10700-10799 has 100 ports; 113 nodes × 1 need 113: node 10.1.1.98 (dc-1) is the first left without ports.')
    expect(error.message).toContain('The router range 10600-10699 has 100 ports; 110 nodes × 2 need 220: node 10.1.1.51 (dc-1) is the first left without ports.')
    expect(error.hint).toContain('--port-range egress=10700-10812')
    expect(error.hint).toContain('--port-range router=10800-11019')
  })

  it('refuses custom ranges that overlap each other or a default range', async () => {
    const error = await refusal(planMesh({topologyFile: TOPOLOGIES[5], portRanges: ['router=20000-20099', 'mp=20050-20149', 'qpid=10050-10060']}))
    expect(error.message).toContain('--port-range message-processor=20050-20149 overlaps --port-range router=20000-20099 (ports 20050-20099)')
    expect(error.message).toContain('The default zookeeper range 10000-10099 overlaps --port-range qpid=10050-10060 (ports 10050-10060)')
  })

  it('refuses a proxy port on a Consul or Apigee service port, naming the node', async () => {
    const error = await refusal(planMesh({topologyFile: TOPOLOGIES[5], portRanges: ['egress=8299-8310']}))
    expect(error.message).toContain('Node node2 (10.0.0.2, dc-1): its egress proxy port 8300 is the Consul server RPC port.')
    expect(error.message).toContain('is the Consul WAN serf port')
  })

  it('refuses bad flag values with every problem listed', async () => {
    const error = await refusal(
      planMesh({topologyFile: TOPOLOGIES[5], portRanges: ['web=1-2', 'router=9-1', 'router'], portsPerNode: ['zk=0', 'cassandra=3', 'c=4']}),
    )
    expect(error.message).toMatch(/has 5 problems/)
    expect(error.message).toContain('--port-range "web=1-2": unknown component "web".')
    expect(error.message).toContain('--port-range "router=9-1": expected MIN-MAX')
    expect(error.message).toContain('--port-range "router": expected COMPONENT=MIN-MAX.')
    expect(error.message).toContain('--ports-per-node "zk=0": N must be a whole number from 1 to 1000.')
    expect(error.message).toContain('--ports-per-node is given twice for cassandra.')
  })
})
