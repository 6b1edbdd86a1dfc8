import type {NodePorts, PortRanges} from './ports.js'
import type {Component, MeshNode, Topology} from './topology.js'

/**
 * The mesh plan: every node with its data center, components, Consul role and proxy ports.
 * `planView` is the shape scripts read from `--format json` and from plan.json.
 */
export type ConsulRole = 'server' | 'client'

export interface PlanNode {
  ip: string
  name: string
  datacenter: string
  components: Component[]
  consulRole: ConsulRole
  ports: NodePorts
}

export interface PlanDatacenter {
  name: string
  /** IPs of its nodes, in cluster order. */
  nodes: string[]
  /** IPs of its Consul servers (its ZooKeeper nodes). */
  servers: string[]
}

export interface MeshPlan {
  topologyFile: string
  nodes: PlanNode[]
  datacenters: PlanDatacenter[]
  ranges: PortRanges
  multiDc: boolean
}

/** What `--format json` prints: `{"nodes": [{ip, name, datacenter, components, consulRole, ports}]}`. */
export interface PlanView {
  nodes: PlanNode[]
}

/** Where a node's bundle is unpacked; the configs refer to files there. */
export const NODE_DIR = '/opt/apigee/mtls-bundle'

/** Consul agent data folder on a node. */
export const CONSUL_DATA_DIR = '/opt/apigee/data/apigee-mtls/consul'

export function buildPlan(topology: Topology, ports: Map<MeshNode, NodePorts>, ranges: PortRanges): MeshPlan {
  const nodes = topology.nodes.map((n) => ({
    ip: n.ip,
    name: n.name,
    datacenter: n.datacenter,
    components: [...n.components],
    consulRole: (n.components.includes('zookeeper') ? 'server' : 'client') as ConsulRole,
    ports: ports.get(n) ?? {},
  }))
  const datacenters = topology.datacenters.map((dc) => ({
    name: dc.name,
    nodes: dc.nodes.map((n) => n.ip),
    servers: nodes.filter((n) => n.datacenter === dc.name && n.consulRole === 'server').map((n) => n.ip),
  }))
  return {topologyFile: topology.file, nodes, datacenters, ranges, multiDc: datacenters.length > 1}
}

export function planView(plan: MeshPlan): PlanView {
  return {
    nodes: plan.nodes.map((n) => ({
      ip: n.ip,
      name: n.name,
      datacenter: n.datacenter,
      components: n.components,
      consulRole: n.consulRole,
      ports: n.ports,
    })),
  }
}

/** Consul's file base of a node's certificate: `<dc>-<role>-consul-<n>`, n counted per data center and role. */
export function agentFileBase(plan: MeshPlan, node: PlanNode): string {
  const n = plan.nodes.filter((o) => o.datacenter === node.datacenter && o.consulRole === node.consulRole).indexOf(node)
  return `${node.datacenter}-${node.consulRole}-consul-${n}`
}

export function datacenterOf(plan: MeshPlan, name: string): PlanDatacenter {
  return plan.datacenters.find((d) => d.name === name)!
}

/** `10000-10002` or `10700`. */
export function formatPorts(ports: number[]): string {
  if (ports.length === 0) return ''
  const contiguous = ports.every((p, i) => i === 0 || p === ports[i - 1] + 1)
  if (contiguous) return ports.length === 1 ? `${ports[0]}` : `${ports[0]}-${ports[ports.length - 1]}`
  return ports.join(',')
}
