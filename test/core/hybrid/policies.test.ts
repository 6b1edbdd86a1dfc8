import {describe, expect, it} from 'vitest'

import {type NetworkPolicy, networkPolicies, validatePolicies} from '../../../src/core/hybrid/policies.js'
import {INTERNAL_ROWS} from '../../../src/core/hybrid/ports.js'

/**
 * The policies judged by this test's own reading of Kubernetes NetworkPolicy semantics
 * (kubernetes.io/docs/concepts/services-networking/network-policies), not by the generator's:
 *  - a pod is isolated for ingress (egress) when a policy of its namespace selects it and lists
 *    Ingress (Egress) in policyTypes; a pod that is not isolated allows everything that way;
 *  - an isolated pod allows a connection when some selecting policy has a rule whose peers match
 *    (no `from`/`to`: every peer) and whose ports match (no `ports`: every port; protocol TCP by default);
 *  - a peer with podSelector alone matches pods of the policy's namespace; with namespaceSelector
 *    alone, every pod of the matching namespaces; with both, pods matching both; an ipBlock
 *    matches addresses outside the cluster (pod traffic is judged by selectors);
 *  - a connection between pods needs the source's egress and the destination's ingress to allow it.
 * The pods carry the labels Apigee hybrid gives them (written out here independently).
 */
interface Endpoint {
  namespace?: string
  labels?: Record<string, string>
  /** An address outside the cluster. */
  ip?: string
}

const NAMESPACE = 'apigee'
const NS_LABELS: Record<string, Record<string, string>> = {
  apigee: {'kubernetes.io/metadata.name': 'apigee'},
  'kube-system': {'kubernetes.io/metadata.name': 'kube-system'},
}
const pod = (app: string): Endpoint => ({namespace: NAMESPACE, labels: {app}})
const PODS: Record<string, Endpoint> = {
  MART: pod('apigee-mart'),
  Cassandra: pod('apigee-cassandra'),
  'Apigee Connect': pod('apigee-connect-agent'),
  'Default Istio Ingress': pod('apigee-ingressgateway'),
  'Message Processor': pod('apigee-runtime'),
  'fluentd (analytics / logging)': pod('apigee-udca'),
  Synchronizer: pod('apigee-synchronizer'),
  'Prometheus (metrics)': pod('apigee-metrics'),
  UDCA: pod('apigee-udca'),
  Watcher: pod('apigee-watcher'),
}
const KUBE_DNS: Endpoint = {namespace: 'kube-system', labels: {'k8s-app': 'kube-dns'}}
const GOOGLE: Endpoint = {ip: '142.250.74.10'}

type Selector = {matchLabels?: Record<string, string>; matchExpressions?: unknown[]}

function matches(selector: Selector, labels: Record<string, string> = {}): boolean {
  if (selector.matchExpressions?.length) throw new Error('this reading handles matchLabels only: extend it before using matchExpressions')
  return Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v)
}

function ipv4(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0)
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/')
  const size = 2 ** (32 - Number(bits))
  return Math.floor(ipv4(ip) / size) === Math.floor(ipv4(base) / size)
}

type Peer = {podSelector?: Selector; namespaceSelector?: Selector; ipBlock?: {cidr: string; except?: string[]}}

function peerMatches(peer: Peer, policyNamespace: string, other: Endpoint): boolean {
  if (peer.ipBlock) return other.ip !== undefined && inCidr(other.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(other.ip!, c))
  if (other.namespace === undefined) return false
  const nsOk = peer.namespaceSelector ? matches(peer.namespaceSelector, NS_LABELS[other.namespace]) : other.namespace === policyNamespace
  const podOk = peer.podSelector ? matches(peer.podSelector, other.labels) : true
  return nsOk && podOk
}

function allows(policies: NetworkPolicy[], self: Endpoint, other: Endpoint, port: number, protocol: 'TCP' | 'UDP', way: 'Ingress' | 'Egress'): boolean {
  if (self.namespace === undefined) return true // outside the cluster: no policy applies
  const selecting = policies.filter((p) => p.metadata.namespace === self.namespace && p.spec.policyTypes.includes(way as never) && matches(p.spec.podSelector, self.labels))
  if (selecting.length === 0) return true
  return selecting.some((p) => {
    const rules = (way === 'Ingress' ? p.spec.ingress : p.spec.egress) as Array<{from?: Peer[]; to?: Peer[]; ports?: Array<{protocol?: string; port?: number}>}>
    return rules.some((rule) => {
      const peers = (way === 'Ingress' ? rule.from : rule.to) ?? []
      const peerOk = peers.length === 0 || peers.some((peer) => peerMatches(peer, p.metadata.namespace, other))
      const ports = rule.ports ?? []
      const portOk = ports.length === 0 || ports.some((pp) => (pp.protocol ?? 'TCP') === protocol && (pp.port === undefined || pp.port === port))
      return peerOk && portOk
    })
  })
}

function admitted(policies: NetworkPolicy[], from: Endpoint, to: Endpoint, port: number, protocol: 'TCP' | 'UDP' = 'TCP'): boolean {
  return allows(policies, from, to, port, protocol, 'Egress') && allows(policies, to, from, port, protocol, 'Ingress')
}

const policies = networkPolicies({namespace: NAMESPACE})

describe('hybrid network policies', () => {
  it("are valid against Kubernetes' NetworkPolicy schema (and the check does reject an invalid one)", async () => {
    await expect(validatePolicies(policies)).resolves.toBeUndefined()
    const broken = structuredClone(policies[0]) as unknown as {spec: {ingress: unknown[]}}
    broken.spec.ingress = [{ports: [{protocol: 'TCP', port: {not: 'a port'}}]}]
    await expect(validatePolicies([broken as unknown as NetworkPolicy])).rejects.toThrow(/does not match the Kubernetes schema: .*port/)
  })

  it("admit every flow of the seed's internal table, on every port it lists", () => {
    const checked: string[] = []
    for (const row of INTERNAL_ROWS) {
      for (const cell of row.protocolPorts) {
        const port = Number(/^TCP\/(\d+)/.exec(cell)![1])
        expect(admitted(policies, PODS[row.source], PODS[row.destination], port), `${row.source} -> ${row.destination} ${port}`).toBe(true)
        checked.push(`${row.source}>${row.destination}:${port}`)
      }
    }
    expect(checked).toHaveLength(16)
  })

  it('deny flows the seed does not list', () => {
    const denied: Array<[string, string, number]> = [
      ['Synchronizer', 'fluentd (analytics / logging)', 20001],
      ['MART', 'Cassandra', 7001],
      ['MART', 'Cassandra', 9160],
      ['Message Processor', 'Synchronizer', 8843],
      ['Cassandra', 'MART', 8443],
      ['Watcher', 'Message Processor', 8443],
      ['Apigee Connect', 'Cassandra', 9042],
      ['UDCA', 'Cassandra', 9042],
      ['Default Istio Ingress', 'Cassandra', 9042],
    ]
    for (const [from, to, port] of denied) expect(admitted(policies, PODS[from], PODS[to], port), `${from} -> ${to} ${port}`).toBe(false)
    // From outside the cluster, only the ingress gateway's port is open.
    expect(admitted(policies, GOOGLE, PODS.Cassandra, 9042)).toBe(false)
    expect(admitted(policies, GOOGLE, PODS['Default Istio Ingress'], 443)).toBe(true)
    expect(admitted(policies, GOOGLE, PODS['Default Istio Ingress'], 8443)).toBe(false)
  })

  it('admit DNS for every component, egress on 443 where the seed documents it, and no other egress', () => {
    for (const [name, p] of Object.entries(PODS)) {
      expect(admitted(policies, p, KUBE_DNS, 53, 'UDP'), `${name} DNS`).toBe(true)
      expect(admitted(policies, p, GOOGLE, 80), `${name} egress 80`).toBe(name === 'Message Processor')
    }
    const egress443 = Object.entries(PODS).filter(([, p]) => admitted(policies, p, GOOGLE, 443)).map(([name]) => name)
    expect(egress443.sort()).toEqual(
      ['Apigee Connect', 'MART', 'Message Processor', 'Prometheus (metrics)', 'Synchronizer', 'UDCA', 'Watcher', 'fluentd (analytics / logging)'].sort(),
    )
  })
})

describe('namespace', () => {
  it('is a Kubernetes namespace name, or refused with the rule', () => {
    expect(networkPolicies({namespace: 'apigee-prod'}).every((p) => p.metadata.namespace === 'apigee-prod')).toBe(true)
    for (const bad of ['../x', 'Apigee', '-a', 'a'.repeat(64), '']) {
      expect(() => networkPolicies({namespace: bad})).toThrow(
        `Invalid namespace "${bad}": a Kubernetes namespace is at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit.`,
      )
    }
  })
})

describe('pod labels', () => {
  it('--label replaces a component\'s labels (the others stay hybrid\'s); a bad one is refused', () => {
    const custom = networkPolicies({labels: ['cassandra=app.kubernetes.io/name=cassandra', 'cassandra=tier=data']})
    const cassandra = custom.find((p) => p.metadata.name === 'apigee-hybrid-cassandra')!
    expect(cassandra.spec.podSelector).toEqual({matchLabels: {'app.kubernetes.io/name': 'cassandra', tier: 'data'}})
    const mart = custom.find((p) => p.metadata.name === 'apigee-hybrid-mart')!
    expect(mart.spec.egress[0]).toEqual({to: [{podSelector: {matchLabels: {'app.kubernetes.io/name': 'cassandra', tier: 'data'}}}], ports: [{protocol: 'TCP', port: 9042}, {protocol: 'TCP', port: 9142}]})
    expect(() => networkPolicies({labels: ['kafka=app=kafka']})).toThrow(/Invalid --label "kafka=app=kafka": use COMPONENT=KEY=VALUE with COMPONENT one of /)
  })

  it('UDCA and its fluentd share one policy, as they share a pod', () => {
    expect(policies.map((p) => p.metadata.name)).toContain('apigee-hybrid-fluentd-udca')
    expect(policies.filter((p) => p.spec.podSelector.matchLabels.app === 'apigee-udca')).toHaveLength(1)
  })
})
