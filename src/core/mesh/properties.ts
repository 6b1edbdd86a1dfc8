import {CA_CERT_FILE, CA_KEY_FILE} from './certs.js'
import {type MeshPlan, NODE_DIR} from './model.js'
import {formatRange, PORT_KEYS, SMI_NAMES} from './ports.js'
import type {Component} from './topology.js'

/**
 * The apigee-mtls properties added to the Edge configuration file, one file per data center:
 * the hosts of each component, the gossip key, the CA files, and in a multi-data-center
 * cluster the region settings. `apigee-service apigee-mtls setup -f FILE` reads it on every
 * node of that data center.
 */
export const HOST_PROPERTIES: [string, Component][] = [
  ['ZK_MTLS_HOSTS', 'zookeeper'],
  ['CASS_MTLS_HOSTS', 'cassandra'],
  ['PG_MTLS_HOSTS', 'postgres'],
  ['RT_MTLS_HOSTS', 'router'],
  ['MS_MTLS_HOSTS', 'management-server'],
  ['MP_MTLS_HOSTS', 'message-processor'],
  ['QP_MTLS_HOSTS', 'qpid'],
  ['LDAP_MTLS_HOSTS', 'openldap'],
]

export const configFileName = (datacenter: string) => `apigee-mtls-${datacenter}.conf`

/** The bundle's name for its data center's file. */
export const BUNDLE_CONFIG_FILE = 'apigee-mtls.conf'

const quote = (value: string) => `"${value}"`

export function mtlsProperties(plan: MeshPlan, datacenter: string, gossipKey: string): string {
  const ips = (filter: (c: Component[]) => boolean) => plan.nodes.filter((n) => filter(n.components)).map((n) => n.ip).join(' ')
  const lines = [
    `# apigee-mtls properties for data center ${datacenter}, made by mtlsctl mesh install.`,
    '# Add them to the Edge configuration file (or use this file as it is) and run on every node:',
    `#   apigee-service apigee-mtls setup -f ${NODE_DIR}/${BUNDLE_CONFIG_FILE}`,
    '# Host lists name private IPs of the whole cluster: proxy ports are one port space across data centers.',
    '# ENCRYPT_DATA is the gossip key: keep this file readable by root only.',
    '',
    `ALL_IP=${quote(plan.nodes.map((n) => n.ip).join(' '))}`,
    ...HOST_PROPERTIES.map(([property, component]) => `${property}=${quote(ips((c) => c.includes(component)))}`),
    '',
    'MTLS_ENCAPSULATE_LDAP="y"',
    'ENABLE_SIDECAR_PROXY="y"',
    `ENCRYPT_DATA=${quote(gossipKey)}`,
    `PATH_TO_CA_CERT=${quote(`${NODE_DIR}/${CA_CERT_FILE}`)}`,
    `PATH_TO_CA_KEY=${quote(`${NODE_DIR}/${CA_KEY_FILE}`)}`,
  ]
  if (plan.multiDc) {
    const local = plan.datacenters.find((d) => d.name === datacenter)!
    const remotes = plan.datacenters.filter((d) => d.name !== datacenter)
    lines.push(
      '',
      '# Multiple data centers: region IPs are each region\'s Consul servers (its ZooKeeper nodes).',
      'APIGEE_MTLS_MULTI_DC_ENABLE="y"',
      `REGION=${quote(datacenter)}`,
      `MTLS_LOCAL_REGION_IP=${quote(local.servers.join(' '))}`,
      ...remotes.flatMap((r, i) => [`MTLS_REMOTE_REGION_${i + 1}_NAME=${quote(r.name)}`, `MTLS_REMOTE_REGION_${i + 1}_IP=${quote(r.servers.join(' '))}`]),
    )
  }
  const custom = PORT_KEYS.filter((k) => plan.ranges[k].customRange)
  if (custom.length > 0) {
    lines.push('', '# Proxy port ranges given with --port-range.')
    for (const key of custom) {
      const r = plan.ranges[key]
      lines.push(`SMI_PROXY_MINIMUM_${SMI_NAMES[key]}_PROXY_PORT="${r.min}"`, `SMI_PROXY_MAXIMUM_${SMI_NAMES[key]}_PROXY_PORT="${r.max}"`)
    }
  }
  const counted = PORT_KEYS.filter((k) => plan.ranges[k].customPerNode)
  if (counted.length > 0) {
    lines.push(
      '',
      '# Ports per node given with --ports-per-node (mtlsctl planned with these counts; apigee-mtls has no property for them):',
      ...counted.map((k) => `#   ${k}: ${plan.ranges[k].perNode} per node in ${formatRange(plan.ranges[k])}`),
    )
  }
  return `${lines.join('\n')}\n`
}
