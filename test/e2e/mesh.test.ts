import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {rmTemp, runCli, tempDir} from '../helpers/cli.js'
import {linearPorts, listFiles, readNodes, simpleTopology, TOPOLOGIES, writeTopology} from '../helpers/mesh.js'

let dir: string
let home: string
let out: string
beforeEach(() => {
  dir = tempDir('mtlsctl-e2e-mesh-')
  home = path.join(dir, 'state')
  out = path.join(dir, 'out')
})
afterEach(() => rmTemp(dir))

const mesh = (...args: string[]) => runCli(['mesh', 'install', ...args], {home})

/** Nothing that looks like key material on either stream. */
function expectNoSecrets(r: {stdout: string; stderr: string}, gossip?: string) {
  for (const text of [r.stdout, r.stderr]) {
    expect(text).not.toContain('PRIVATE KEY')
    if (gossip) expect(text).not.toContain(gossip)
  }
}

describe('mesh install (built CLI)', () => {
  it('installs the 13-node topology: a readable plan on stdout, files on disk, no key material printed', async () => {
    const r = await mesh('--topology', TOPOLOGIES[13], '--out-dir', out)
    expect(r.code).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^NODE\s+DATACENTER\s+COMPONENTS\s+PROXY_PORTS\s+CONSUL_ROLE$/)
    expect(lines).toHaveLength(14)
    expect(lines[1]).toMatch(/^10\.0\.0\.1 \(node1\)\s+dc-1\s+zookeeper,cassandra\s+zookeeper=10000-10002 cassandra=10100-10101 egress=10700\s+server$/)
    expect(lines[13]).toMatch(/^10\.0\.0\.13 \(node13\)\s+dc-1\s+postgres\s+postgres=10303-10305 egress=10712\s+client$/)
    expect(r.stderr).toContain('Planned the Apigee mTLS mesh: 13 nodes in 1 data center(s), 3 Consul servers.')
    expect(r.stderr).toContain(`Wrote 46 files to ${out}`)
    expect(r.stderr).toContain('Every bundle holds the Consul CA key (consul-agent-ca-key.pem)')
    expect(fs.statSync(out).mode & 0o777).toBe(0o700)
    expect(fs.statSync(path.join(out, 'certs/consul-agent-ca-key.pem')).mode & 0o777).toBe(0o600)
    expect(fs.readdirSync(path.join(out, 'bundles')).sort()).toEqual(readNodes(TOPOLOGIES[13]).map((n) => `${n.ip}.tar.gz`).sort())
    expectNoSecrets(r, fs.readFileSync(path.join(out, 'gossip.key'), 'utf8').trim())
  })

  it('--format json gives exactly {nodes: [{ip, name, datacenter, components, consulRole, ports}]}', async () => {
    const r = await mesh('--topology', TOPOLOGIES[12], '--dry-run', '--format', 'json')
    expect(r.code).toBe(0)
    const json = JSON.parse(r.stdout)
    expect(Object.keys(json)).toEqual(['nodes'])
    const expected = linearPorts(readNodes(TOPOLOGIES[12]))
    expect(json.nodes).toHaveLength(12)
    for (const node of json.nodes) {
      expect(Object.keys(node)).toEqual(['ip', 'name', 'datacenter', 'components', 'consulRole', 'ports'])
      expect(node.ports).toEqual(Object.fromEntries(Object.entries(expected.get(node.ip)!)))
    }
    expect(json.nodes[6]).toEqual({
      ip: '10.0.2.1',
      name: 'dc2-node1',
      datacenter: 'dc-2',
      components: ['zookeeper', 'cassandra', 'management-server', 'openldap', 'ui'],
      consulRole: 'server',
      ports: {zookeeper: [10009, 10010, 10011], cassandra: [10106, 10107], openldap: [10201], egress: [10706]},
    })
    expect(r.stderr).toContain('Dry run: nothing was written.')
  })

  it('--dry-run writes nothing, not even the out dir', async () => {
    const r = await mesh('--topology', TOPOLOGIES[5], '--out-dir', out, '--dry-run')
    expect(r.code).toBe(0)
    expect(fs.existsSync(out)).toBe(false)
  })

  const refusals: [string, () => string, string[], string][] = [
    [
      'two ZooKeeper nodes',
      () =>
        writeTopology(dir, 'zk.json', [
          {name: 'dc-1', nodes: [{ip: '10.0.0.1', components: ['ds', 'ms']}, {ip: '10.0.0.2', components: ['ds']}, {ip: '10.0.0.3', components: ['c', 'rmp']}, {ip: '10.0.0.4', components: ['sax']}, {ip: '10.0.0.5', components: ['sax']}]},
        ]),
      [],
      'Only 2 ZooKeeper nodes (10.0.0.1, 10.0.0.2): apigee-mtls needs at least three, a Consul server runs on each.',
    ],
    [
      'a duplicate IP',
      () =>
        writeTopology(dir, 'dup.json', [
          {name: 'dc-1', nodes: [{ip: '10.0.0.1', components: ['ds', 'ms']}, {ip: '10.0.0.2', components: ['ds']}, {ip: '10.0.0.3', components: ['ds']}, {ip: '10.0.0.4', components: ['rmp']}, {ip: '10.0.0.4', components: ['sax']}]},
        ]),
      [],
      'Duplicate IP 10.0.0.4: node 4 of dc-1 and node 5 of dc-1; IPs must be unique across the cluster.',
    ],
    [
      'an exhausted range',
      () => TOPOLOGIES[13],
      ['--port-range', 'router=20000-20002'],
      'The router range 20000-20002 (--port-range) has 3 ports; 2 nodes × 2 need 4: node node9 (10.0.0.9, dc-1) is the first left without ports.',
    ],
    [
      'overlapping custom ranges',
      () => TOPOLOGIES[13],
      ['--port-range', 'router=20000-20099', '--port-range', 'qpid=20090-20199'],
      '--port-range qpid=20090-20199 overlaps --port-range router=20000-20099 (ports 20090-20099): proxy ports must be unique across the cluster.',
    ],
    [
      'an unknown component',
      () =>
        writeTopology(dir, 'unknown.json', [
          {name: 'dc-1', nodes: [{ip: '10.0.0.1', name: 'n1', components: ['ds', 'ms']}, {ip: '10.0.0.2', components: ['ds']}, {ip: '10.0.0.3', components: ['ds']}, {ip: '10.0.0.4', components: ['rmp', 'monetization']}, {ip: '10.0.0.5', components: ['sax']}]},
        ]),
      [],
      'Node 10.0.0.4 (dc-1): unknown component "monetization".',
    ],
  ]
  for (const [what, topology, flags, message] of refusals) {
    it(`refuses ${what} with INVALID_ARGUMENT, exit 1, and writes nothing`, async () => {
      const file = topology()
      const r = await mesh('--topology', file, '--out-dir', out, ...flags)
      expect(r.code).toBe(1)
      expect(r.stdout).toBe('')
      expect(r.stderr).toMatch(new RegExp(`^ERROR: \\(mtlsctl\\.mesh\\.install\\) INVALID_ARGUMENT: The mesh plan for ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} has \\d+ problems?:\n`))
      expect(r.stderr).toContain(`  - ${message}\n`)
      expect(fs.existsSync(out)).toBe(false)
    })
  }

  it('suggests --port-range for an exhausted range and --allow-unsupported-topology for a count', async () => {
    const file = writeTopology(dir, 'big.json', simpleTopology(120))
    const refused = await mesh('--topology', file, '--out-dir', out)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('Give --allow-unsupported-topology to plan it anyway.')
    expect(refused.stderr).toContain('Give a wider range, e.g. --port-range egress=10700-10822.')
    const allowed = await mesh('--topology', file, '--out-dir', out, '--allow-unsupported-topology', '--port-range', 'egress=20000-20999', '--port-range', 'router=21000-21999', '--port-range', 'mp=22000-22999')
    expect(allowed.code).toBe(0)
    expect(allowed.stderr).toContain('WARNING: Unsupported topology: 123 nodes in 1 data center')
    const conf = fs.readFileSync(path.join(out, 'config/apigee-mtls-dc-1.conf'), 'utf8')
    expect(conf).toContain('SMI_PROXY_MINIMUM_EGRESS_PROXY_PORT="20000"\nSMI_PROXY_MAXIMUM_EGRESS_PROXY_PORT="20999"')
    expect(conf).toContain('SMI_PROXY_MINIMUM_MESSAGEPROCESSOR_PROXY_PORT="22000"')
    expect(conf).not.toContain('SMI_PROXY_MINIMUM_ZOOKEEPER')
  })

  it('re-running shows the changes and refuses without --force; --force replaces, warning about reinstalling', async () => {
    expect((await mesh('--topology', TOPOLOGIES[13], '--out-dir', out)).code).toBe(0)
    const before = new Map(listFiles(out).map((f) => [f, fs.readFileSync(path.join(out, f), 'latin1')]))
    const again = await mesh('--topology', TOPOLOGIES[13], '--out-dir', out, '--port-range', 'router=20000-20099')
    expect(again.code).toBe(1)
    expect(again.stdout).toBe('')
    expect(again.stderr).toContain(
      `Changes from the earlier plan in ${out}:\n` +
        '  ~ node 10.0.0.8 (node8): router ports 10600-10601 -> 20000-20001\n' +
        '  ~ node 10.0.0.9 (node9): router ports 10602-10603 -> 20002-20003\n' +
        '  ~ router range 10600-10699 x2 -> 20000-20099 x2\n',
    )
    expect(again.stderr).toContain('WARNING: apigee-mtls setup is not idempotent: installing a new plan means uninstalling and reinstalling apigee-mtls on every node.')
    expect(again.stderr).toMatch(/ERROR: \(mtlsctl\.mesh\.install\) ALREADY_EXISTS: .* already holds a mesh install .*; nothing was written\.\nGive --force to replace them/)
    expect(new Map(listFiles(out).map((f) => [f, fs.readFileSync(path.join(out, f), 'latin1')]))).toEqual(before)

    const forced = await mesh('--topology', TOPOLOGIES[13], '--out-dir', out, '--port-range', 'router=20000-20099', '--force', '--format', 'json')
    expect(forced.code).toBe(0)
    expect(forced.stderr).toContain('WARNING: apigee-mtls setup is not idempotent')
    expect(forced.stderr).toContain('  ~ Consul CA: a different CA signs the agent certificates')
    expect(JSON.parse(forced.stdout).nodes[7].ports.router).toEqual([20000, 20001])
    expect(fs.readFileSync(path.join(out, 'config/apigee-mtls-dc-1.conf'), 'utf8')).toContain('SMI_PROXY_MINIMUM_ROUTER_PROXY_PORT="20000"')
    expectNoSecrets(forced, fs.readFileSync(path.join(out, 'gossip.key'), 'utf8').trim())
  })

  it('usage errors exit 2: no --out-dir without --dry-run, --ca-cert without --ca-key, --days 0', async () => {
    const noOut = await mesh('--topology', TOPOLOGIES[5])
    expect(noOut.code).toBe(2)
    expect(noOut.stderr).toBe(
      'ERROR: (mtlsctl.mesh.install) Missing required flag --out-dir.\nGive --out-dir DIR for the install files, or --dry-run to print the plan only.\n',
    )
    const noTopology = await mesh('--out-dir', out)
    expect(noTopology.code).toBe(2)
    expect(noTopology.stderr).toContain('Missing required flag --topology.')
    const half = await mesh('--topology', TOPOLOGIES[5], '--out-dir', out, '--ca-cert', 'ca.pem')
    expect(half.code).toBe(2)
    expect(half.stderr).toContain('--ca-key')
    expect((await mesh('--topology', TOPOLOGIES[5], '--out-dir', out, '--days', '0')).code).toBe(2)
    expect(fs.existsSync(out)).toBe(false)
  })

  it('takes a CA and gossip key given as files, and --days', async () => {
    expect((await mesh('--topology', TOPOLOGIES[5], '--out-dir', path.join(dir, 'first'))).code).toBe(0)
    const r = await mesh(
      '--topology', TOPOLOGIES[5], '--out-dir', out, '--days', '30',
      '--ca-cert', path.join(dir, 'first/certs/consul-agent-ca.pem'),
      '--ca-key', path.join(dir, 'first/certs/consul-agent-ca-key.pem'),
      '--gossip-key-file', path.join(dir, 'first/gossip.key'),
    )
    expect(r.code).toBe(0)
    expect(fs.readFileSync(path.join(out, 'gossip.key'), 'utf8')).toBe(fs.readFileSync(path.join(dir, 'first/gossip.key'), 'utf8'))
    expect(fs.readFileSync(path.join(out, 'certs/consul-agent-ca.pem'), 'utf8')).toBe(fs.readFileSync(path.join(dir, 'first/certs/consul-agent-ca.pem'), 'utf8'))
    const {X509Certificate} = await import('node:crypto')
    const cert = new X509Certificate(fs.readFileSync(path.join(out, 'certs/dc-1-server-consul-0.pem')))
    expect((Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000).toBe(30)
  })
})
