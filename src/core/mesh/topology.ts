import * as net from 'node:net'
import * as path from 'node:path'

import {clipUserText, parseJsonFile, parseYamlFile} from '../archives/parse.js'
import {invalidArgument} from '../errors.js'
import {readInputText} from '../input.js'
import type {Problems} from './problems.js'

/**
 * The cluster an Apigee mTLS mesh is planned for: data centers of nodes, each node an IP and
 * the Edge components it runs. Read from a YAML or JSON file and checked against what
 * apigee-mtls supports: at least three ZooKeeper nodes (a Consul server runs on each), and
 * the 5-, 9-, 13-node or 12-node two-data-center topologies.
 */
export const COMPONENTS = [
  'zookeeper',
  'cassandra',
  'management-server',
  'openldap',
  'ui',
  'router',
  'message-processor',
  'qpid',
  'postgres',
] as const
export type Component = (typeof COMPONENTS)[number]

/** The Edge install profiles, accepted in `components` for what they install. */
export const PROFILES: Record<string, Component[]> = {
  ds: ['zookeeper', 'cassandra'],
  ms: ['management-server', 'openldap', 'ui'],
  rmp: ['router', 'message-processor'],
  sax: ['qpid', 'postgres'],
  qs: ['qpid'],
  ps: ['postgres'],
  ld: ['openldap'],
  r: ['router'],
  mp: ['message-processor'],
  zk: ['zookeeper'],
  c: ['cassandra'],
}

export interface MeshNode {
  ip: string
  /** The node's name in the file, or its IP when it has none. */
  name: string
  datacenter: string
  components: Component[]
  /** Position in the cluster (data centers in file order, then nodes): ports follow it. */
  index: number
  /** Position in its data center's list, from 1 (named in problems). */
  position: number
}

export interface Datacenter {
  name: string
  nodes: MeshNode[]
}

export interface Topology {
  file: string
  datacenters: Datacenter[]
  /** Every node, in cluster order. */
  nodes: MeshNode[]
}

/** Single-data-center node counts apigee-mtls supports; two data centers: 12 nodes. */
export const SUPPORTED_SINGLE_DC = [5, 9, 13]
export const SUPPORTED_TWO_DC = 12

const DC_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/
const NODE_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,62})$/

/** What a topology's YAML aliases may add: a cluster has tens of nodes, not a million. */
export const TOPOLOGY_ALIAS_LIMITS = {aliases: 1_000, addedNodes: 100_000}

/** Problems listed from one topology file before reading stops (the rest would be more of the same). */
export const MAX_TOPOLOGY_PROBLEMS = 50

/**
 * Reads a topology file (within the 4 MiB document limit, a regular file or a pipe):
 * `.json` as JSON, anything else as YAML (which JSON also is), aliases bounded.
 */
export async function readTopologyFile(file: string): Promise<unknown> {
  const text = readInputText(file, {what: 'topology', kind: 'document'})
  const raw = path.extname(file).toLowerCase() === '.json' ? parseJsonFile<unknown>(text, file) : await parseYamlFile<unknown>(text, file, TOPOLOGY_ALIAS_LIMITS)
  if (raw === null || raw === undefined) throw invalidArgument(`The topology file ${file} is empty.`, TOPOLOGY_HINT)
  return raw
}

export const TOPOLOGY_HINT =
  'A topology file looks like:\n' +
  'datacenters:\n' +
  '  - name: dc-1\n' +
  '    nodes:\n' +
  '      - {ip: 10.0.0.1, name: node1, components: [zookeeper, cassandra, management-server, openldap, ui]}'

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

/** A scalar as text; undefined for a list or mapping (never String() of a structure). */
const scalarText = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' || v === null ? String(v) : undefined

const kindOf = (v: unknown) => (Array.isArray(v) ? 'a list' : 'a mapping')

/** A user's value quoted in a problem: clipped, control characters escaped. */
const shown = (text: string) => clipUserText(text, 100)

const stopped = new WeakSet<Problems>()

/** True once MAX_TOPOLOGY_PROBLEMS are listed: reading stops, with one line saying so. */
function tooMany(problems: Problems, file: string): boolean {
  if (problems.count < MAX_TOPOLOGY_PROBLEMS) return false
  if (!stopped.has(problems)) problems.add(`${file}: reading stopped after ${MAX_TOPOLOGY_PROBLEMS} problems; fix these and run again.`)
  stopped.add(problems)
  return true
}

function unknownKeys(value: Record<string, unknown>, known: string[], where: string, problems: Problems): void {
  const unknown = Object.keys(value).filter((key) => !known.includes(key))
  for (const key of unknown.slice(0, 5)) problems.add(`${where}: unknown key "${shown(key)}" (known: ${known.join(', ')}).`)
  if (unknown.length > 5) problems.add(`${where}: ${unknown.length - 5} more unknown keys.`)
}

/** How a problem names a node: `node1 (10.0.0.1, dc-1)`, `10.0.0.2 (dc-1)` or `node 3 of dc-1`. */
export function nodeLabel(node: {ip?: string; name?: string; datacenter: string; position?: number}): string {
  const ipOk = node.ip !== undefined && net.isIPv4(node.ip)
  if (node.name && node.name !== node.ip) return `Node ${shown(node.name)} (${ipOk ? `${node.ip}, ` : ''}${node.datacenter})`
  if (ipOk) return `Node ${node.ip} (${node.datacenter})`
  return `Node ${node.position ?? '?'} of ${node.datacenter}${node.ip ? ` ("${shown(node.ip)}")` : ''}`
}

/**
 * Checks the parsed file's shape and content, adding every problem found; returns the
 * topology as far as it could be read (nodes with a bad IP or component are still in it, so
 * that port assignment can report its own problems in the same run).
 */
export function buildTopology(raw: unknown, file: string, problems: Problems): Topology {
  const topology: Topology = {file, datacenters: [], nodes: []}
  if (!isObject(raw) || !Array.isArray(raw.datacenters)) {
    problems.add(`${file} must hold a "datacenters" list.`, TOPOLOGY_HINT)
    return topology
  }
  unknownKeys(raw, ['datacenters'], file, problems)
  if (raw.datacenters.length === 0) problems.add(`${file} lists no data centers.`, TOPOLOGY_HINT)
  const dcNames = new Set<string>()
  const full = () => tooMany(problems, file)
  raw.datacenters.forEach((dcRaw, d) => {
    if (full()) return
    const where = `Data center ${d + 1}`
    if (!isObject(dcRaw)) {
      problems.add(`${where}: expected a mapping with "name" and "nodes".`, TOPOLOGY_HINT)
      return
    }
    unknownKeys(dcRaw, ['name', 'nodes'], where, problems)
    const name = typeof dcRaw.name === 'string' ? dcRaw.name : ''
    if (name === '') problems.add(`${where}: "name" is missing (e.g. dc-1).`)
    else if (!DC_NAME.test(name)) {
      problems.add(`Data center "${shown(name)}": invalid name; use lower-case letters, digits and "-" (it is part of the DNS name server.<dc>.consul in certificates).`)
    } else if (dcNames.has(name)) problems.add(`Data center "${name}" is listed twice.`)
    dcNames.add(name)
    const dcName = name && DC_NAME.test(name) ? name : name ? shown(name) : `#${d + 1}`
    const dc: Datacenter = {name: dcName, nodes: []}
    topology.datacenters.push(dc)
    if (!Array.isArray(dcRaw.nodes) || dcRaw.nodes.length === 0) {
      problems.add(`Data center ${dcName}: "nodes" must be a non-empty list.`)
      return
    }
    dcRaw.nodes.forEach((nodeRaw, n) => {
      if (full()) return
      const node = readNode(nodeRaw, dcName, n + 1, topology.nodes.length, problems)
      if (node) {
        dc.nodes.push(node)
        topology.nodes.push(node)
      }
    })
  })
  return topology
}

function readNode(raw: unknown, datacenter: string, position: number, index: number, problems: Problems): MeshNode | undefined {
  if (!isObject(raw)) {
    problems.add(`Node ${position} of ${datacenter}: expected a mapping with "ip" and "components".`, TOPOLOGY_HINT)
    return undefined
  }
  const ipText = raw.ip === undefined ? '' : scalarText(raw.ip)
  const nameText = raw.name === undefined ? undefined : scalarText(raw.name)
  const ip = (ipText ?? '').trim()
  const name = nameText?.trim()
  const label = nodeLabel({ip, name, datacenter, position})
  unknownKeys(raw, ['ip', 'name', 'components'], label, problems)
  if (nameText === undefined && raw.name !== undefined) problems.add(`${label}: "name" must be text, not ${kindOf(raw.name)}.`)
  if (ipText === undefined) problems.add(`${label}: "ip" must be an IPv4 address such as 10.0.0.1, not ${kindOf(raw.ip)}.`)
  else if (ip === '') problems.add(`${label}: "ip" is missing.`)
  else if (!net.isIPv4(ip)) problems.add(`${label}: not a valid IPv4 address.`)
  else if (ip.startsWith('127.') || ip === '0.0.0.0' || ip === '255.255.255.255') {
    problems.add(`${label}: ${ip} cannot be a node's address; give its private IP.`)
  }
  if (name !== undefined && !NODE_NAME.test(name)) {
    problems.add(`${label}: invalid name "${shown(name)}"; use letters, digits, ".", "_" and "-" (at most 63), as Consul node names.`)
  }
  const components: Component[] = []
  if (!Array.isArray(raw.components) || raw.components.length === 0) {
    problems.add(`${label}: "components" must be a non-empty list, e.g. [zookeeper, cassandra] or [ds].`)
  } else {
    for (const item of raw.components) {
      // A node may list thousands of components: the cap holds inside a node too.
      if (problems.count >= MAX_TOPOLOGY_PROBLEMS) break
      const itemText = scalarText(item)
      const text = itemText === undefined ? '' : itemText.trim().toLowerCase()
      const expanded = (COMPONENTS as readonly string[]).includes(text) ? [text as Component] : Object.hasOwn(PROFILES, text) ? PROFILES[text] : undefined
      if (!expanded) {
        problems.add(
          itemText === undefined ? `${label}: a component must be a name, not ${kindOf(item)}.` : `${label}: unknown component "${shown(itemText)}".`,
          `Components: ${COMPONENTS.join(', ')}; Edge profiles: ${Object.keys(PROFILES).join(', ')}.`,
        )
        continue
      }
      for (const c of expanded) if (!components.includes(c)) components.push(c)
    }
  }
  return {ip, name: name || ip, datacenter, components, index, position}
}

export interface TopologyCheckOptions {
  allowUnsupportedTopology?: boolean
}

/**
 * The cluster-wide rules: unique IPs and names, three ZooKeeper nodes at least (and one in
 * every data center, or its Consul agents have no server), a supported node count.
 * Returns warnings (an unsupported topology allowed by the flag).
 */
export function checkTopology(topology: Topology, problems: Problems, options: TopologyCheckOptions = {}): string[] {
  const warnings: string[] = []
  const byIp = new Map<string, MeshNode>()
  const byName = new Map<string, MeshNode>()
  for (const node of topology.nodes) {
    if (tooMany(problems, topology.file)) return warnings
    if (node.ip !== '' && net.isIPv4(node.ip)) {
      const first = byIp.get(node.ip)
      if (first) {
        const where = (n: MeshNode) => `node ${n.position} of ${n.datacenter}${n.name !== n.ip ? ` (${shown(n.name)})` : ''}`
        problems.add(`Duplicate IP ${node.ip}: ${where(first)} and ${where(node)}; IPs must be unique across the cluster.`)
      } else {
        byIp.set(node.ip, node)
      }
    }
    if (node.name !== node.ip) {
      const first = byName.get(node.name)
      if (first) problems.add(`${nodeLabel(node)}: the name ${shown(node.name)} is also used by ${shown(first.ip)} (${first.datacenter}); Consul node names must be unique.`)
      else byName.set(node.name, node)
    }
  }
  if (topology.nodes.length === 0) return warnings

  const zk = topology.nodes.filter((n) => n.components.includes('zookeeper'))
  if (zk.length < 3) {
    const which = zk.length === 0 ? 'none' : zk.map((n) => shown(n.ip || n.name)).join(', ')
    problems.add(
      `Only ${zk.length} ZooKeeper node${zk.length === 1 ? '' : 's'} (${which}): apigee-mtls needs at least three, a Consul server runs on each.`,
      'Add zookeeper (or the ds profile) to at least three nodes.',
    )
  }
  for (const dc of topology.datacenters) {
    if (dc.nodes.length > 0 && !dc.nodes.some((n) => n.components.includes('zookeeper'))) {
      problems.add(`Data center ${dc.name} has no ZooKeeper node: its Consul agents would have no Consul server to join (nodes ${clipUserText(dc.nodes.map((n) => n.ip).join(', '))}).`)
    }
  }

  const count = topology.nodes.length
  const dcs = topology.datacenters.length
  const supported = dcs === 1 ? SUPPORTED_SINGLE_DC.includes(count) : dcs === 2 && count === SUPPORTED_TWO_DC
  if (!supported) {
    const what = `${count} node${count === 1 ? '' : 's'} in ${dcs} data center${dcs === 1 ? '' : 's'}`
    const rule = 'apigee-mtls supports 5, 9 or 13 nodes in one data center, or 12 nodes in two'
    if (options.allowUnsupportedTopology) warnings.push(`Unsupported topology: ${what}; ${rule}. Planning it anyway (--allow-unsupported-topology).`)
    else problems.add(`Unsupported topology: ${what}; ${rule}.`, 'Give --allow-unsupported-topology to plan it anyway.')
  }
  return warnings
}
