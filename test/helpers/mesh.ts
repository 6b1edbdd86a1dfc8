import {execFileSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {parse} from 'yaml'

import {ROOT} from './cli.js'

/**
 * Mesh test helpers that do not use the engine: the example topologies, and the proxy ports
 * the reference's linear rule gives, computed here on their own so that a test compares the
 * engine against an independent reading of the rule.
 */
export const EXAMPLES = path.join(ROOT, 'examples/mesh')

export const TOPOLOGIES = {
  5: path.join(EXAMPLES, '5-node.yaml'),
  9: path.join(EXAMPLES, '9-node.yaml'),
  12: path.join(EXAMPLES, '12-node-two-dc.yaml'),
  13: path.join(EXAMPLES, '13-node.yaml'),
} as const

/** The reference's table: range start and ports per node, by port key. */
const RULE: Record<string, {start: number; count: number}> = {
  zookeeper: {start: 10000, count: 3},
  cassandra: {start: 10100, count: 2},
  openldap: {start: 10200, count: 1},
  postgres: {start: 10300, count: 3},
  qpid: {start: 10400, count: 2},
  'message-processor': {start: 10500, count: 2},
  router: {start: 10600, count: 2},
  egress: {start: 10700, count: 1},
}

const SHORT: Record<string, string[]> = {
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

export interface RawNode {
  ip: string
  datacenter: string
  components: string[]
}

/** Nodes of a topology file in cluster order, shorthands expanded. */
export function readNodes(file: string): RawNode[] {
  const doc = parse(fs.readFileSync(file, 'utf8')) as {datacenters: {name: string; nodes: {ip: string; components: string[]}[]}[]}
  return doc.datacenters.flatMap((dc) =>
    dc.nodes.map((n) => ({ip: n.ip, datacenter: dc.name, components: n.components.flatMap((c) => SHORT[c] ?? [c])})),
  )
}

/** ip -> port key -> ports, by the linear rule: the k-th node running X gets start + k*count ... */
export function linearPorts(nodes: RawNode[], overrides: Record<string, {start?: number; count?: number}> = {}): Map<string, Record<string, number[]>> {
  const seen: Record<string, number> = {}
  const result = new Map<string, Record<string, number[]>>()
  for (const node of nodes) {
    const ports: Record<string, number[]> = {}
    const keys = [...node.components.filter((c) => c in RULE), 'egress']
    for (const key of keys) {
      const {start, count} = {...RULE[key], ...overrides[key]}
      const k = seen[key] ?? 0
      seen[key] = k + 1
      ports[key] = []
      for (let p = 0; p < count; p++) ports[key].push(start + k * count + p)
    }
    result.set(node.ip, ports)
  }
  return result
}

/** Writes a topology (as YAML-compatible JSON) to a file and returns its path. */
export function writeTopology(dir: string, name: string, datacenters: {name: string; nodes: {ip: string; name?: string; components: string[]}[]}[]): string {
  const file = path.join(dir, name)
  fs.writeFileSync(file, JSON.stringify({datacenters}, null, 2))
  return file
}

/** A single-data-center topology: three ds nodes and `extra` rmp nodes. */
export function simpleTopology(extra: number, base = '10.1'): {name: string; nodes: {ip: string; components: string[]}[]}[] {
  const nodes = [1, 2, 3].map((i) => ({ip: `${base}.0.${i}`, components: ['ds']}))
  for (let i = 0; i < extra; i++) nodes.push({ip: `${base}.${1 + Math.floor(i / 250)}.${(i % 250) + 1}`, components: ['rmp']})
  return [{name: 'dc-1', nodes}]
}

/** Every file under a folder, relative, sorted. */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir, {recursive: true, withFileTypes: true})
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort()
}

/** Unpacks every bundle of an install into target/<ip>/ with tar; returns the IPs. */
export function unpackBundles(out: string, target: string): string[] {
  const ips = fs.readdirSync(path.join(out, 'bundles')).map((f) => f.replace(/\.tar\.gz$/, ''))
  for (const ip of ips) {
    fs.mkdirSync(path.join(target, ip), {recursive: true})
    execFileSync('tar', ['-xzf', path.join(out, 'bundles', `${ip}.tar.gz`), '-C', path.join(target, ip)])
  }
  return ips
}
