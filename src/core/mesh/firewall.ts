import {formatPorts, type MeshPlan, type PlanNode} from './model.js'
import {PORT_KEYS} from './ports.js'

/**
 * Each node's filter table in `iptables-restore` format. apigee-mtls replaces firewalld by
 * iptables; these rules open the node's mesh ports (its Consul ports and proxy ports) to
 * cluster members only, keep Consul's HTTP API and DNS on the node, and leave every other
 * port as it was (policy ACCEPT). Only the filter table is written, so restoring it leaves
 * the nat rules apigee-mtls adds for its redirections alone.
 */
export const RULES_FILE = 'iptables.rules'
export const CHAIN = 'APIGEE-MTLS'
export const MEMBERS_CHAIN = 'APIGEE-MTLS-MEMBERS'

/** Port entries for `-m multiport --dports`, contiguous runs as `a:b`. */
function portEntries(ports: number[]): string[] {
  const sorted = [...new Set(ports)].sort((a, b) => a - b)
  const entries: string[] = []
  for (let i = 0; i < sorted.length; ) {
    let j = i
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++
    entries.push(j === i ? `${sorted[i]}` : `${sorted[i]}:${sorted[j]}`)
    i = j + 1
  }
  return entries
}

/** multiport takes 15 ports at most, a range counting as two. */
function multiportRules(protocol: 'tcp' | 'udp', ports: number[], target: string): string[] {
  const rules: string[] = []
  let chunk: string[] = []
  let weight = 0
  const flush = () => {
    if (chunk.length === 0) return
    rules.push(`-A ${CHAIN} -p ${protocol} -m multiport --dports ${chunk.join(',')} -j ${target}`)
    chunk = []
    weight = 0
  }
  for (const entry of portEntries(ports)) {
    const w = entry.includes(':') ? 2 : 1
    if (weight + w > 15) flush()
    chunk.push(entry)
    weight += w
  }
  flush()
  return rules
}

/** The Consul ports a node opens to cluster members (TCP and UDP). */
export function consulMemberPorts(plan: MeshPlan, node: PlanNode): {tcp: number[]; udp: number[]} {
  if (node.consulRole === 'server') return {tcp: [8300, 8301, 8302, 8502, 8503], udp: [8301, 8302]}
  // Every agent gossips on the LAN serf port; in multi-DC every mTLS host opens 8302 too.
  return plan.multiDc ? {tcp: [8301, 8302], udp: [8301, 8302]} : {tcp: [8301], udp: [8301]}
}

export function iptablesRules(plan: MeshPlan, node: PlanNode): string {
  const consul = consulMemberPorts(plan, node)
  const proxy = PORT_KEYS.flatMap((k) => node.ports[k] ?? [])
  const localOnly = {tcp: [8500, 8600, ...(node.consulRole === 'client' ? [8502] : [])], udp: [8600]}
  const proxyText = PORT_KEYS.filter((k) => node.ports[k]).map((k) => `${k} ${formatPorts(node.ports[k]!)}`).join(', ')
  const lines = [
    `# iptables filter rules for ${node.ip} (${node.name}, ${node.datacenter}, Consul ${node.consulRole}), made by mtlsctl mesh install.`,
    `# Load with: iptables-restore < ${RULES_FILE}   then: service iptables save`,
    `# Open to the ${plan.nodes.length} cluster members only: Consul ${consul.tcp.join(', ')}/tcp, ${consul.udp.join(', ')}/udp; proxies ${proxyText}.`,
    '# Consul HTTP (8500) and DNS (8600) answer on this node only.',
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    `:${CHAIN} - [0:0]`,
    `:${MEMBERS_CHAIN} - [0:0]`,
    `-A INPUT -j ${CHAIN}`,
    `-A ${CHAIN} -i lo -j ACCEPT`,
    `-A ${CHAIN} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`,
    ...multiportRules('tcp', [...consul.tcp, ...proxy], MEMBERS_CHAIN),
    ...multiportRules('udp', consul.udp, MEMBERS_CHAIN),
    ...multiportRules('tcp', localOnly.tcp, 'DROP'),
    ...multiportRules('udp', localOnly.udp, 'DROP'),
    ...plan.nodes.map((member) => `-A ${MEMBERS_CHAIN} -s ${member.ip}/32 -j ACCEPT`),
    `-A ${MEMBERS_CHAIN} -j DROP`,
    'COMMIT',
  ]
  return `${lines.join('\n')}\n`
}
