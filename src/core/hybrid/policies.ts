import {internal, invalidArgument} from '../errors.js'
import {componentLabels} from './labels.js'
import {componentId, EXTERNAL_ROWS, INTERNAL_ROWS} from './ports.js'

/**
 * Kubernetes NetworkPolicies that admit exactly the seed's internal flows between the hybrid
 * components, plus DNS and the documented egress on 443, and deny the rest: one policy per pod
 * selector, declaring both Ingress and Egress, so that whatever its rules do not list is denied
 * for those pods. Two inbound/outbound rows of the seed get rules too: client apps reach the
 * Default Istio Ingress on the ingress port (configurable, 443 recommended), and the Message
 * Processor reaches backend services on any port (TCP/* and UDP/*: customer-defined hosts).
 * The optional inbound row (Apigee Services to the MART Istio Ingress, only without Apigee
 * Connect) gets none. Egress on 443 goes to 0.0.0.0/0: the seed warns against pinning
 * *.googleapis.com's addresses.
 */

export interface LabelSelector {
  matchLabels: Record<string, string>
}
export interface PolicyPeer {
  podSelector?: LabelSelector
  namespaceSelector?: LabelSelector
  ipBlock?: {cidr: string}
}
export interface PolicyPort {
  protocol: 'TCP' | 'UDP'
  port?: number
}
export interface PolicyRule {
  peers?: PolicyPeer[]
  ports?: PolicyPort[]
}
export interface NetworkPolicy {
  apiVersion: 'networking.k8s.io/v1'
  kind: 'NetworkPolicy'
  metadata: {name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string>}
  spec: {
    podSelector: LabelSelector
    policyTypes: ['Ingress', 'Egress']
    ingress: Array<{from?: PolicyPeer[]; ports?: PolicyPort[]}>
    egress: Array<{to?: PolicyPeer[]; ports?: PolicyPort[]}>
  }
}

export interface PolicyOptions {
  namespace?: string
  /** `COMPONENT=KEY=VALUE` label overrides. */
  labels?: string[]
  /** The Default Istio Ingress's port for client apps (the seed: configurable, 443 recommended). */
  ingressPort?: number
}

const DNS: {to: PolicyPeer[]; ports: PolicyPort[]} = {
  to: [{namespaceSelector: {matchLabels: {'kubernetes.io/metadata.name': 'kube-system'}}, podSelector: {matchLabels: {'k8s-app': 'kube-dns'}}}],
  ports: [{protocol: 'UDP', port: 53}, {protocol: 'TCP', port: 53}],
}
const ANYWHERE = {ipBlock: {cidr: '0.0.0.0/0'}}

const key = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort())

/** Adds ports to the rule for a peer (one rule per peer, its ports merged and sorted). */
function addRule(rules: Map<string, {peer: PolicyPeer; ports: Set<number>}>, peer: PolicyPeer, ports: number[]): void {
  const id = JSON.stringify(peer)
  const rule = rules.get(id) ?? {peer, ports: new Set<number>()}
  for (const p of ports) rule.ports.add(p)
  rules.set(id, rule)
}

const tcp = (ports: Set<number>): PolicyPort[] => [...ports].sort((a, b) => a - b).map((port) => ({protocol: 'TCP', port}))

export function networkPolicies(options: PolicyOptions = {}): NetworkPolicy[] {
  const namespace = options.namespace ?? 'apigee'
  // A namespace is an RFC 1123 label, as Kubernetes requires (kubectl would refuse the rest).
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) {
    throw invalidArgument(`Invalid namespace "${namespace.slice(0, 80)}": a Kubernetes namespace is at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit.`)
  }
  const labels = componentLabels(options.labels)
  const labelsOf = (name: string) => labels[componentId(name)]
  // Components sharing a selector (fluentd runs in the UDCA pod) share a policy.
  const groups = new Map<string, {components: string[]; labels: Record<string, string>}>()
  for (const [component, selector] of Object.entries(labels)) {
    const group = groups.get(key(selector)) ?? {components: [], labels: selector}
    group.components.push(component)
    groups.set(key(selector), group)
  }
  const policies: NetworkPolicy[] = []
  for (const group of groups.values()) {
    const mine = (name: string) => key(labelsOf(name) ?? {}) === key(group.labels)
    const ingress = new Map<string, {peer: PolicyPeer; ports: Set<number>}>()
    const egress = new Map<string, {peer: PolicyPeer; ports: Set<number>}>()
    for (const row of INTERNAL_ROWS) {
      const ports = row.protocolPorts.map((p) => Number(/^TCP\/(\d+)/.exec(p)?.[1]))
      if (mine(row.destination)) addRule(ingress, {podSelector: {matchLabels: labelsOf(row.source)}}, ports)
      if (mine(row.source)) addRule(egress, {podSelector: {matchLabels: labelsOf(row.destination)}}, ports)
    }
    const egressRules: NetworkPolicy['spec']['egress'] = [...egress.values()].map((r) => ({to: [r.peer], ports: tcp(r.ports)}))
    const ingressRules: NetworkPolicy['spec']['ingress'] = [...ingress.values()].map((r) => ({from: [r.peer], ports: tcp(r.ports)}))
    egressRules.push({to: DNS.to, ports: DNS.ports})
    const external = EXTERNAL_ROWS.filter((row) => mine(row.source) && row.direction !== 'inbound')
    if (external.some((row) => row.protocolPorts.includes('TCP/443'))) egressRules.push({to: [ANYWHERE], ports: [{protocol: 'TCP', port: 443}]})
    if (external.some((row) => row.protocolPorts.includes('TCP/*'))) egressRules.push({to: [ANYWHERE]})
    if (EXTERNAL_ROWS.some((row) => row.direction === 'inbound' && !row.optional && mine(row.destination))) {
      ingressRules.push({from: [ANYWHERE], ports: [{protocol: 'TCP', port: options.ingressPort ?? 443}]})
    }
    policies.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: {
        name: `apigee-hybrid-${group.components.join('-')}`,
        namespace,
        labels: {'app.kubernetes.io/managed-by': 'mtlsctl'},
        annotations: {'mtlsctl/components': group.components.join(', '), 'mtlsctl/source': 'Apigee hybrid "Secure ports usage" (hybrid-secure-ports.txt)'},
      },
      spec: {podSelector: {matchLabels: group.labels}, policyTypes: ['Ingress', 'Egress'], ingress: ingressRules, egress: egressRules},
    })
  }
  return policies
}

/** Checks each policy against Kubernetes' NetworkPolicy schema (kubernetes-models' OpenAPI schema, with ajv). */
export async function validatePolicies(policies: NetworkPolicy[]): Promise<void> {
  const {NetworkPolicy: Model} = await import('kubernetes-models/networking.k8s.io/v1/NetworkPolicy')
  for (const policy of policies) {
    try {
      new Model(structuredClone(policy) as ConstructorParameters<typeof Model>[0]).validate()
    } catch (error) {
      throw internal(`NetworkPolicy ${policy.metadata.name} does not match the Kubernetes schema: ${(error as Error).message}`)
    }
  }
}
