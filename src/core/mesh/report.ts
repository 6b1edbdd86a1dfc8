import type {MeshPlan, PlanNode} from './model.js'
import {PORT_KEYS} from './ports.js'

/**
 * The ports the mesh should listen on, in the shape of `apigee-service apigee-mtls report`:
 * keyed by host IP, with the data center, the daemons and the listeners. Compare it with the
 * report a node prints once apigee-mtls runs.
 */
export const REPORT_FILE = 'port-report.json'

export interface Listener {
  purpose: string
  ip_address: string
  port: number
}

export interface NodeReport {
  datacenter_member: string
  daemons: string[]
  listeners: Listener[]
}

export function nodeReport(node: PlanNode): NodeReport {
  const server = node.consulRole === 'server'
  const on = (purpose: string, port: number, ip = node.ip): Listener => ({purpose, ip_address: ip, port})
  const consul: Listener[] = server
    ? [
        on('consul-server-rpc', 8300),
        on('consul-serf-lan', 8301),
        on('consul-serf-wan', 8302),
        on('consul-http', 8500, '127.0.0.1'),
        on('consul-grpc', 8502),
        on('consul-https', 8503),
        on('consul-dns', 8600, '127.0.0.1'),
      ]
    : [on('consul-serf-lan', 8301), on('consul-http', 8500, '127.0.0.1'), on('consul-grpc', 8502, '127.0.0.1'), on('consul-dns', 8600, '127.0.0.1')]
  const proxies = PORT_KEYS.flatMap((key) => (node.ports[key] ?? []).map((port) => on(key === 'egress' ? 'egress-proxy' : `${key}-ingress-proxy`, port)))
  return {
    datacenter_member: node.datacenter,
    daemons: [server ? 'consul-server' : 'consul-client', 'ingress-proxy', 'egress-proxy'],
    listeners: [...consul, ...proxies],
  }
}

export function portReport(plan: MeshPlan): Record<string, NodeReport> {
  return Object.fromEntries(plan.nodes.map((n) => [n.ip, nodeReport(n)]))
}
