import type {Problems} from './problems.js'
import {type Component, type MeshNode, nodeLabel} from './topology.js'

/**
 * Proxy port assignment as apigee-mtls does it: each component has a range and a number of
 * ports per node; the i-th node (in cluster order) running the component gets the i-th block
 * of that many ports. One port space for the whole cluster, across data centers, so the
 * ranges must not overlap, and no port may be a Consul or Apigee service port.
 */
export const PORT_KEYS = ['zookeeper', 'cassandra', 'openldap', 'postgres', 'qpid', 'message-processor', 'router', 'egress'] as const
export type PortKey = (typeof PORT_KEYS)[number]

/** Ports by key, in PORT_KEYS order, only the keys the node has. */
export type NodePorts = Partial<Record<PortKey, number[]>>

export interface PortRange {
  min: number
  max: number
  perNode: number
  /** From --port-range (written to the config as SMI_PROXY_*). */
  customRange: boolean
  /** From --ports-per-node. */
  customPerNode: boolean
}

export type PortRanges = Record<PortKey, PortRange>

/** The reference's ranges. Postgres takes three (the docs' table; their prose says two). */
export const DEFAULT_RANGES: Record<PortKey, {min: number; max: number; perNode: number}> = {
  zookeeper: {min: 10000, max: 10099, perNode: 3},
  cassandra: {min: 10100, max: 10199, perNode: 2},
  openldap: {min: 10200, max: 10299, perNode: 1},
  postgres: {min: 10300, max: 10399, perNode: 3},
  qpid: {min: 10400, max: 10499, perNode: 2},
  'message-processor': {min: 10500, max: 10599, perNode: 2},
  router: {min: 10600, max: 10699, perNode: 2},
  egress: {min: 10700, max: 10799, perNode: 1},
}

/** X in SMI_PROXY_MINIMUM_<X>_PROXY_PORT. */
export const SMI_NAMES: Record<PortKey, string> = {
  zookeeper: 'ZOOKEEPER',
  cassandra: 'CASSANDRA',
  openldap: 'LDAP',
  postgres: 'POSTGRES',
  qpid: 'QPID',
  'message-processor': 'MESSAGEPROCESSOR',
  router: 'ROUTER',
  egress: 'EGRESS',
}

export const CONSUL_PORTS: Record<number, string> = {
  8300: 'Consul server RPC',
  8301: 'Consul LAN serf',
  8302: 'Consul WAN serf',
  8500: 'Consul HTTP',
  8502: 'Consul gRPC',
  8503: 'Consul HTTPS',
  8600: 'Consul DNS',
}

/** Edge for Private Cloud's default service ports: a proxy listening there breaks the component. */
export const APIGEE_PORTS: Record<number, string> = {
  1099: 'Management Server JMX',
  1100: 'Router JMX',
  1101: 'Message Processor JMX',
  1102: 'Qpid Server JMX',
  1103: 'Postgres Server JMX',
  2181: 'ZooKeeper client',
  2888: 'ZooKeeper peer',
  3888: 'ZooKeeper leader election',
  4526: 'Management Server',
  4527: 'Router management',
  4528: 'Message Processor management',
  5432: 'PostgreSQL',
  5672: 'Qpid AMQP',
  7000: 'Cassandra inter-node',
  7199: 'Cassandra JMX',
  8080: 'Management Server API',
  8081: 'Router',
  8082: 'Message Processor',
  8083: 'Qpid Server',
  8084: 'Postgres Server',
  8998: 'Message Processor (from Router)',
  9000: 'Edge UI',
  9001: 'Router virtual host',
  9042: 'Cassandra CQL',
  9099: 'Edge SSO',
  9160: 'Cassandra Thrift',
  10389: 'OpenLDAP',
  15999: 'Router health check',
}

/** Which port key a component's ingress proxy uses (management-server and ui have none). */
export const COMPONENT_PORT_KEY: Partial<Record<Component, PortKey>> = {
  zookeeper: 'zookeeper',
  cassandra: 'cassandra',
  openldap: 'openldap',
  postgres: 'postgres',
  qpid: 'qpid',
  'message-processor': 'message-processor',
  router: 'router',
}

const KEY_ALIASES: Record<string, PortKey> = {
  zk: 'zookeeper',
  c: 'cassandra',
  ld: 'openldap',
  ldap: 'openldap',
  ps: 'postgres',
  qs: 'qpid',
  mp: 'message-processor',
  messageprocessor: 'message-processor',
  r: 'router',
  'apigee-mtls': 'egress',
}

/** A port key from a flag value: the keys themselves, Edge profile names, SMI names. */
export function portKey(text: string): PortKey | undefined {
  const lower = text.trim().toLowerCase()
  if ((PORT_KEYS as readonly string[]).includes(lower)) return lower as PortKey
  return KEY_ALIASES[lower]
}

const KEYS_HINT = `Components with proxy ports: ${PORT_KEYS.join(', ')}.`

function splitAssignment(value: string, flag: string, problems: Problems): {key: PortKey; text: string} | undefined {
  const eq = value.indexOf('=')
  if (eq <= 0) {
    problems.add(`--${flag} "${value}": expected COMPONENT=${flag === 'port-range' ? 'MIN-MAX' : 'N'}.`, KEYS_HINT)
    return undefined
  }
  const key = portKey(value.slice(0, eq))
  if (!key) {
    problems.add(`--${flag} "${value}": unknown component "${value.slice(0, eq)}".`, KEYS_HINT)
    return undefined
  }
  return {key, text: value.slice(eq + 1).trim()}
}

const isPort = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535

/** Builds the ranges from the defaults and the flags, adding problems for bad values and overlaps. */
export function resolveRanges(portRanges: string[], portsPerNode: string[], problems: Problems): PortRanges {
  const ranges = Object.fromEntries(
    PORT_KEYS.map((k) => [k, {...DEFAULT_RANGES[k], customRange: false, customPerNode: false}]),
  ) as PortRanges
  const given = new Map<PortKey, string>()
  for (const value of portRanges) {
    const parsed = splitAssignment(value, 'port-range', problems)
    if (!parsed) continue
    const m = /^(\d+)\s*-\s*(\d+)$/.exec(parsed.text)
    const [min, max] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN]
    if (!m || !isPort(min) || !isPort(max) || min > max) {
      problems.add(`--port-range "${value}": expected MIN-MAX with 1 <= MIN <= MAX <= 65535, e.g. ${parsed.key}=20000-20199.`)
      continue
    }
    if (given.has(parsed.key)) {
      problems.add(`--port-range is given twice for ${parsed.key} ("${given.get(parsed.key)}" and "${value}").`)
      continue
    }
    given.set(parsed.key, value)
    Object.assign(ranges[parsed.key], {min, max, customRange: true})
  }
  const counted = new Set<PortKey>()
  for (const value of portsPerNode) {
    const parsed = splitAssignment(value, 'ports-per-node', problems)
    if (!parsed) continue
    const n = /^\d+$/.test(parsed.text) ? Number(parsed.text) : NaN
    if (!Number.isInteger(n) || n < 1 || n > 1000) {
      problems.add(`--ports-per-node "${value}": N must be a whole number from 1 to 1000.`)
      continue
    }
    if (counted.has(parsed.key)) {
      problems.add(`--ports-per-node is given twice for ${parsed.key}.`)
      continue
    }
    counted.add(parsed.key)
    Object.assign(ranges[parsed.key], {perNode: n, customPerNode: true})
  }
  checkOverlaps(ranges, problems)
  return ranges
}

export const formatRange = (r: {min: number; max: number}) => `${r.min}-${r.max}`

function describeRange(key: PortKey, r: PortRange): string {
  return r.customRange ? `--port-range ${key}=${formatRange(r)}` : `The default ${key} range ${formatRange(r)}`
}

function checkOverlaps(ranges: PortRanges, problems: Problems): void {
  for (let i = 0; i < PORT_KEYS.length; i++) {
    for (let j = i + 1; j < PORT_KEYS.length; j++) {
      const [a, b] = [PORT_KEYS[i], PORT_KEYS[j]]
      const [ra, rb] = [ranges[a], ranges[b]]
      if (!ra.customRange && !rb.customRange) continue
      if (ra.min <= rb.max && rb.min <= ra.max) {
        const from = Math.max(ra.min, rb.min)
        const to = Math.min(ra.max, rb.max)
        problems.add(
          `${describeRange(a, ra)} overlaps ${describeRange(b, rb).replace(/^The /, 'the ')} (ports ${from === to ? from : `${from}-${to}`}): proxy ports must be unique across the cluster.`,
          'Give each component a range of its own with --port-range COMPONENT=MIN-MAX.',
        )
      }
    }
  }
}

/** The port keys a node gets ports for, in PORT_KEYS order: its components' and egress. */
export function nodePortKeys(node: MeshNode): PortKey[] {
  const keys = new Set<PortKey>(['egress'])
  for (const c of node.components) {
    const key = COMPONENT_PORT_KEY[c]
    if (key) keys.add(key)
  }
  return PORT_KEYS.filter((k) => keys.has(k))
}

/**
 * Assigns ports linearly in cluster order. A range that runs out is one problem naming the
 * component, the ports needed, the range and the first node left without ports.
 */
export function assignPorts(nodes: MeshNode[], ranges: PortRanges, problems: Problems): Map<MeshNode, NodePorts> {
  const assigned = new Map<MeshNode, NodePorts>(nodes.map((n) => [n, {}]))
  for (const key of PORT_KEYS) {
    const range = ranges[key]
    const users = nodes.filter((n) => nodePortKeys(n).includes(key))
    const needed = users.length * range.perNode
    const available = range.max - range.min + 1
    if (needed > available) {
      const fits = Math.floor(available / range.perNode)
      const first = users[fits]
      const wider = freeRange(key, needed, ranges)
      problems.add(
        `The ${key} range ${formatRange(range)}${range.customRange ? ' (--port-range)' : ''} has ${available} ports; ${users.length} nodes × ${range.perNode} need ${needed}: ${nodeLabel(first).replace(/^Node /, 'node ')} is the first left without ports.`,
        wider ? `Give a wider range, e.g. --port-range ${key}=${formatRange(wider)}.` : 'Give a wider range with --port-range.',
      )
      continue
    }
    users.forEach((node, i) => {
      const start = range.min + i * range.perNode
      const ports = Array.from({length: range.perNode}, (_, p) => start + p)
      for (const port of ports) {
        const service = CONSUL_PORTS[port] ?? APIGEE_PORTS[port]
        if (service) {
          problems.add(
            `${nodeLabel(node)}: its ${key} proxy port ${port} is the ${service} port.`,
            'Move the range off Consul and Apigee service ports with --port-range COMPONENT=MIN-MAX.',
          )
        }
      }
      assigned.get(node)![key] = ports
    })
  }
  return assigned
}

/** A range of `size` ports for `key` clear of the other ranges and of service ports: at its own start, else past the others. */
function freeRange(key: PortKey, size: number, ranges: PortRanges): {min: number; max: number} | undefined {
  const others = PORT_KEYS.filter((k) => k !== key).map((k) => ranges[k])
  const clear = (min: number, max: number) =>
    max <= 65535 &&
    others.every((r) => max < r.min || min > r.max) &&
    !Object.keys({...CONSUL_PORTS, ...APIGEE_PORTS}).some((p) => Number(p) >= min && Number(p) <= max)
  let min = ranges[key].min
  if (clear(min, min + size - 1)) return {min, max: min + size - 1}
  min = Math.ceil((Math.max(...others.map((r) => r.max)) + 1) / 100) * 100
  while (min + size - 1 <= 65535) {
    if (clear(min, min + size - 1)) return {min, max: min + size - 1}
    min += 100
  }
  return undefined
}
