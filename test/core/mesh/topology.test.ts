import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {planView} from '../../../src/core/mesh/model.js'
import {planMesh} from '../../../src/core/mesh/plan.js'
import {rmTemp, tempDir} from '../../helpers/cli.js'
import {refusal as refusalOf} from '../../helpers/errors.js'
import {EXAMPLES, simpleTopology, TOPOLOGIES, writeTopology} from '../../helpers/mesh.js'

let dir: string
beforeEach(() => {
  dir = tempDir('mtlsctl-mesh-topology-')
})
afterEach(() => rmTemp(dir))

const refusal = (promise: Promise<unknown>) => refusalOf(promise, 'INVALID_ARGUMENT')

describe('topology files', () => {
  it('reads every example, YAML and JSON alike, with profiles expanded', async () => {
    for (const file of Object.values(TOPOLOGIES)) await planMesh({topologyFile: file})
    const yaml = await planMesh({topologyFile: path.join(EXAMPLES, '13-node.yaml')})
    const json = await planMesh({topologyFile: path.join(EXAMPLES, '13-node.json')})
    expect(planView(json.plan)).toEqual(planView(yaml.plan))
    const five = await planMesh({topologyFile: TOPOLOGIES[5]})
    expect(five.plan.nodes[0].components).toEqual(['zookeeper', 'cassandra', 'management-server', 'openldap', 'ui'])
    expect(five.plan.nodes[3].components).toEqual(['qpid', 'postgres'])
    expect(five.warnings).toEqual([])
  })

  it('gives the --format json shape: ip, name (the IP when none), datacenter, components, consulRole, ports', async () => {
    const file = path.join(dir, 't.yaml')
    fs.writeFileSync(
      file,
      [
        'datacenters:',
        '  - name: dc-1',
        '    nodes:',
        '      - ip: 10.0.0.1',
        '        name: node1',
        '        components: [zookeeper, cassandra]',
        '      - {ip: 10.0.0.2, components: [ZK, c, rmp]}',
        '      - {ip: 10.0.0.3, components: [ds]}',
        '      - {ip: 10.0.0.4, components: [ms]}',
        '      - {ip: 10.0.0.5, components: [sax]}',
      ].join('\n'),
    )
    const view = planView((await planMesh({topologyFile: file})).plan)
    expect(JSON.parse(JSON.stringify(view.nodes[0]))).toEqual({
      ip: '10.0.0.1',
      name: 'node1',
      datacenter: 'dc-1',
      components: ['zookeeper', 'cassandra'],
      consulRole: 'server',
      ports: {zookeeper: [10000, 10001, 10002], cassandra: [10100, 10101], egress: [10700]},
    })
    expect(Object.keys(view.nodes[1])).toEqual(['ip', 'name', 'datacenter', 'components', 'consulRole', 'ports'])
    expect(view.nodes[1].name).toBe('10.0.0.2')
    expect(Object.keys(view.nodes[1].ports)).toEqual(['zookeeper', 'cassandra', 'message-processor', 'router', 'egress'])
    expect(view.nodes[3]).toMatchObject({consulRole: 'client', ports: {openldap: [10200], egress: [10703]}})
  })

  it('refuses two ZooKeeper nodes', async () => {
    const file = writeTopology(dir, 't.json', [
      {
        name: 'dc-1',
        nodes: [
          {ip: '10.0.0.1', components: ['ds', 'ms']},
          {ip: '10.0.0.2', components: ['ds', 'rmp']},
          {ip: '10.0.0.3', components: ['cassandra', 'rmp']},
          {ip: '10.0.0.4', components: ['sax']},
          {ip: '10.0.0.5', components: ['sax']},
        ],
      },
    ])
    const error = await refusal(planMesh({topologyFile: file}))
    expect(error.message).toBe(
      `The mesh plan for ${file} has 1 problem:\n  - Only 2 ZooKeeper nodes (10.0.0.1, 10.0.0.2): apigee-mtls needs at least three, a Consul server runs on each.`,
    )
    expect(error.hint).toBe('Add zookeeper (or the ds profile) to at least three nodes.')
  })

  it('refuses a duplicate IP, an invalid IP and an unknown component, all at once, each naming the node', async () => {
    const file = writeTopology(dir, 't.json', [
      {
        name: 'dc-1',
        nodes: [
          {ip: '10.0.0.1', name: 'node1', components: ['ds', 'ms']},
          {ip: '10.0.0.2', components: ['ds', 'rmp']},
          {ip: '10.0.0.3', components: ['ds', 'rmp', 'edge-gateway']},
          {ip: '10.0.0.2', name: 'node4', components: ['sax']},
          {ip: '10.0.0.256', components: ['sax']},
        ],
      },
    ])
    const error = await refusal(planMesh({topologyFile: file}))
    expect(error.message.split('\n')).toEqual([
      `The mesh plan for ${file} has 3 problems:`,
      '  - Node 10.0.0.3 (dc-1): unknown component "edge-gateway".',
      '  - Node 5 of dc-1 ("10.0.0.256"): not a valid IPv4 address.',
      '  - Duplicate IP 10.0.0.2: node 2 of dc-1 and node 4 of dc-1 (node4); IPs must be unique across the cluster.',
    ])
    expect(error.hint).toContain('Edge profiles: ds, ms, rmp, sax, qs, ps, ld, r, mp, zk, c.')
  })

  it('refuses an unsupported node count unless allowed, and then warns', async () => {
    const file = writeTopology(dir, 't.json', simpleTopology(4))
    const error = await refusal(planMesh({topologyFile: file}))
    expect(error.message).toContain('Unsupported topology: 7 nodes in 1 data center; apigee-mtls supports 5, 9 or 13 nodes in one data center, or 12 nodes in two.')
    expect(error.hint).toBe('Give --allow-unsupported-topology to plan it anyway.')
    const allowed = await planMesh({topologyFile: file, allowUnsupportedTopology: true})
    expect(allowed.warnings).toEqual([
      'Unsupported topology: 7 nodes in 1 data center; apigee-mtls supports 5, 9 or 13 nodes in one data center, or 12 nodes in two. Planning it anyway (--allow-unsupported-topology).',
    ])
  })

  it('refuses 12 nodes in one data center, and a data center without a Consul server', async () => {
    const twelve = writeTopology(dir, 'a.json', simpleTopology(9))
    expect((await refusal(planMesh({topologyFile: twelve}))).message).toContain('Unsupported topology: 12 nodes in 1 data center')
    const [dc1] = simpleTopology(3)
    const noServer = writeTopology(dir, 'b.json', [dc1, {name: 'dc-2', nodes: [1, 2, 3, 4, 5, 6].map((i) => ({ip: `10.2.0.${i}`, components: ['rmp']}))}])
    const error = await refusal(planMesh({topologyFile: noServer}))
    expect(error.message).toContain('Data center dc-2 has no ZooKeeper node: its Consul agents would have no Consul server to join')
  })

  it('names file, line and column of a YAML or JSON syntax error, and unknown keys', async () => {
    const yaml = path.join(dir, 'bad.yaml')
    fs.writeFileSync(yaml, 'datacenters:\n  - name: dc-1\n    nodes: [\n')
    expect((await refusal(planMesh({topologyFile: yaml}))).message).toMatch(new RegExp(`^Invalid YAML in ${yaml} at line \\d+, column \\d+`))
    const json = path.join(dir, 'bad.json')
    fs.writeFileSync(json, '{"datacenters": [],}')
    expect((await refusal(planMesh({topologyFile: json}))).message).toMatch(/^Invalid JSON in .*bad\.json at line 1, column \d+: .*\(a trailing comma before it\?\)\./)
    const typo = writeTopology(dir, 'typo.json', [{name: 'dc-1', nodes: [{ip: '10.0.0.1', component: ['ds']} as never]}])
    const error = await refusal(planMesh({topologyFile: typo}))
    expect(error.message).toContain('Node 10.0.0.1 (dc-1): unknown key "component" (known: ip, name, components).')
    expect((await refusal(planMesh({topologyFile: path.join(dir, 'missing.yaml')}))).message).toBe(
      `Cannot read the topology file ${path.join(dir, 'missing.yaml')}: no such file.`,
    )
  })
})

describe('hostile topology files (issue 11, items 4 and 5)', () => {
  it('refuses a 499-byte billion laughs quickly, with a short message', async () => {
    const file = path.join(dir, 'laughs.yaml')
    const levels = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]', ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`)]
    fs.writeFileSync(file, `${levels.join('\n')}\ndatacenters: [{name: dc-1, nodes: *i}]\n`)
    expect(fs.statSync(file).size).toBeLessThan(500)
    const start = performance.now()
    const error = await refusal(planMesh({topologyFile: file}))
    expect(error.message).toBe(`Invalid YAML in ${file}: its aliases expand it by more than 100,000 values (a "billion laughs"?).`)
    expect(performance.now() - start).toBeLessThan(1000)
  })

  it('reads within the 4 MiB document limit, regular files only', async () => {
    const big = path.join(dir, 'big.yaml')
    fs.writeFileSync(big, '')
    fs.truncateSync(big, 5 * 1024 * 1024)
    expect((await refusal(planMesh({topologyFile: big}))).message).toBe(`The topology file ${big} is larger than the 4 MiB limit for a topology file.`)
    expect((await refusal(planMesh({topologyFile: '/dev/zero'}))).message).toBe(
      'Cannot read the topology file /dev/zero: it is not a regular file (a device, socket or other special file).',
    )
  })

  it('accepts a BOM; never prints a structure where a value was expected; stops after 50 problems', async () => {
    const bom = path.join(dir, 'bom.yaml')
    fs.writeFileSync(bom, `\ufeff${fs.readFileSync(TOPOLOGIES[5], 'utf8')}`)
    await planMesh({topologyFile: bom})
    // Lists nested 100,000 deep: String() of one overflows the stack.
    const deep = `${'['.repeat(100_000)}"x"${']'.repeat(100_000)}`
    const json = path.join(dir, 'deep.json')
    fs.writeFileSync(json, `{"datacenters": [{"name": "dc-1", "nodes": [{"ip": ${deep}, "name": {"a": 1}, "components": [${deep}, "ds"]}]}]}`)
    const error = await refusal(planMesh({topologyFile: json}))
    expect(error.message.split('\n').slice(0, 4)).toEqual([
      `The mesh plan for ${json} has 5 problems:`,
      '  - Node 1 of dc-1: "name" must be text, not a mapping.',
      '  - Node 1 of dc-1: "ip" must be an IPv4 address such as 10.0.0.1, not a list.',
      '  - Node 1 of dc-1: a component must be a name, not a list.',
    ])
    const many = writeTopology(dir, 'many.json', [{name: 'dc-1', nodes: Array.from({length: 500}, (_, i) => ({ip: `10.0.${i >> 8}.${i & 255}`, components: ['nope']}))}])
    const capped = await refusal(planMesh({topologyFile: many}))
    expect(capped.message.split('\n')).toHaveLength(52)
    expect(capped.message.split('\n')[51]).toBe(`  - ${many}: reading stopped after 50 problems; fix these and run again.`)
    // One node with 200,000 unknown components: the cap holds inside a node too.
    const wide = writeTopology(dir, 'wide.json', [{name: 'dc-1', nodes: [{ip: '10.0.0.1', components: Array.from({length: 200_000}, () => 'nope')}]}])
    expect((await refusal(planMesh({topologyFile: wide}))).message.split('\n').length).toBeLessThanOrEqual(52)
  })
})
