import {CA_KEY_FILE} from './certs.js'
import {CONSUL_AGENT_FILE} from './consul.js'
import {RULES_FILE} from './firewall.js'
import {datacenterOf, formatPorts, type MeshPlan, NODE_DIR, type PlanNode} from './model.js'
import {PORT_KEYS} from './ports.js'
import {BUNDLE_CONFIG_FILE} from './properties.js'
import {REPORT_FILE} from './report.js'

/**
 * A node's install steps in the order the apigee-mtls docs give them, with this node's file
 * names and expected results filled in. Setup is not idempotent: a changed plan means
 * uninstalling and reinstalling on every node, which the runbook says up front.
 */
export const RUNBOOK_FILE = 'runbook.md'

const SERVICE = '/opt/apigee/apigee-service/bin/apigee-service'
const ALL = '/opt/apigee/apigee-service/bin/apigee-all'

export function nodeRunbook(plan: MeshPlan, node: PlanNode, bundleFiles: string[]): string {
  const dc = datacenterOf(plan, node.datacenter)
  const ports = PORT_KEYS.filter((k) => node.ports[k]).map((k) => `${k} ${formatPorts(node.ports[k]!)}`).join(', ')
  const servers = plan.datacenters.map((d) => `${d.name}: ${d.servers.join(', ')}`).join('; ')
  const lines = [
    `# Apigee mTLS install: ${node.ip} (${node.name})`,
    '',
    `Data center ${node.datacenter}; Consul ${node.consulRole}; components ${node.components.join(', ')}.`,
    `Proxy ports: ${ports}.`,
    '',
    'Run steps 1 to 5 on every node of the cluster first, then steps 6 to 8 on all nodes within',
    `about 5 minutes, Consul servers (ZooKeeper nodes) first: ${servers}.`,
    'Setup is not idempotent: to change anything later, uninstall apigee-mtls and reinstall it on',
    'every node with the new bundles. Inter-node Cassandra traffic (port 7000) is not encrypted.',
    '',
    '## 1. Unpack the bundle (as root)',
    '',
    '```sh',
    `mkdir -p ${NODE_DIR} && chmod 700 ${NODE_DIR}`,
    `tar -xzf ${node.ip}.tar.gz -C ${NODE_DIR}`,
    '```',
    '',
    `It holds: ${bundleFiles.join(', ')}.`,
    `${CA_KEY_FILE} is the Consul CA key: apigee-mtls setup reads it (PATH_TO_CA_KEY) on every node. Keep it root-only.`,
    '',
    '## 2. Replace firewalld with iptables',
    '',
    '```sh',
    'systemctl stop firewalld && systemctl disable firewalld && systemctl mask firewalld',
    'yum install -y iptables-services',
    `iptables-restore < ${NODE_DIR}/${RULES_FILE}`,
    'service iptables save',
    'systemctl enable --now iptables',
    '```',
    '',
    '## 3. Stop Edge',
    '',
    '```sh',
    `${ALL} stop`,
    '```',
    '',
    '## 4. Install apigee-mtls',
    '',
    '```sh',
    `${SERVICE} apigee-mtls install`,
    '```',
    '',
    '## 5. Set it up with the configuration file',
    '',
    '```sh',
    `${SERVICE} apigee-mtls setup -f ${NODE_DIR}/${BUNDLE_CONFIG_FILE}`,
    '```',
    '',
    `${CONSUL_AGENT_FILE} is the Consul agent configuration this node should end up with (compare it with what setup wrote).`,
    '',
    '## 6. Start apigee-mtls first',
    '',
    '```sh',
    `${SERVICE} apigee-mtls start`,
    '```',
    '',
    '## 7. Start the Edge components',
    '',
    '```sh',
    `${ALL} start`,
    '```',
    '',
    '## 8. Verify',
    '',
    '```sh',
    '/opt/apigee/apigee-mtls/lib/actions/iptables.sh validate',
    'consul operator raft list-peers',
    `${SERVICE} apigee-mtls report`,
    '```',
    '',
    `\`consul operator raft list-peers\` should list ${dc.servers.length} voters in ${dc.name}: ${dc.servers.join(', ')}.`,
    `The report should match ${REPORT_FILE} in the bundle.`,
    '',
  ]
  return lines.join('\n')
}

/** The cluster's side: which bundle goes where, and the order across nodes. Kept in the out dir. */
export function clusterRunbook(plan: MeshPlan): string {
  const servers = plan.nodes.filter((n) => n.consulRole === 'server').map((n) => n.ip)
  const clients = plan.nodes.filter((n) => n.consulRole === 'client').map((n) => n.ip)
  const lines = [
    `# Apigee mTLS install: ${plan.nodes.length} nodes in ${plan.datacenters.length} data center(s)`,
    '',
    `Planned from ${plan.topologyFile}. Each node's steps are in the runbook.md of its bundle`,
    '(read one here with `tar -xzOf bundles/IP.tar.gz runbook.md`).',
    `Every bundle holds the Consul CA key (${CA_KEY_FILE}): apigee-mtls setup reads PATH_TO_CA_KEY on each node.`,
    '',
    '## 1. Copy each bundle to its node',
    '',
    '```sh',
    ...plan.nodes.map((n) => `scp bundles/${n.ip}.tar.gz root@${n.ip}:`),
    '```',
    '',
    '## 2. On every node: steps 1 to 5 of its runbook (unpack, iptables, stop Edge, install, setup)',
    '',
    '## 3. On every node, within about 5 minutes: steps 6 to 8 (start apigee-mtls, then Edge; verify)',
    '',
    `Consul servers first: ${servers.join(', ')}; then ${clients.length > 0 ? clients.join(', ') : 'no other node'}.`,
    `Compare \`apigee-service apigee-mtls report\` on each node with ${REPORT_FILE}.`,
    '',
    'Setup is not idempotent: a changed plan means uninstalling apigee-mtls and reinstalling it on every node.',
    '',
  ]
  return lines.join('\n')
}
