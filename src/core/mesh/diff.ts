import * as fs from 'node:fs'
import * as path from 'node:path'

import {readInputText} from '../input.js'
import {formatPorts, type MeshPlan, type PlanNode} from './model.js'
import {formatRange, PORT_KEYS, type PortRanges} from './ports.js'

/**
 * plan.json in the output folder: the plan an install was made from, with fingerprints of its
 * CA and gossip key (never the keys) and the files it wrote. A later run into the same folder
 * reads it to say what changed, since any change means reinstalling every node.
 */
export const PLAN_FILE = 'plan.json'
export const PLAN_KIND = 'mtlsctl#meshPlan'

export interface StoredPlan {
  kind: typeof PLAN_KIND
  version: 1
  createdAt: string
  topologyFile: string
  nodes: PlanNode[]
  ranges: PortRanges
  caFingerprint: string
  caGenerated: boolean
  gossipKeyFingerprint: string
  /** Bundles that hold the CA key: every node, because apigee-mtls setup reads PATH_TO_CA_KEY. */
  caKeyInBundles: 'every node'
  /** Files written, relative to the output folder. */
  files: string[]
}

export type EarlierPlan = {plan: StoredPlan} | {unreadable: string} | undefined

/** The earlier plan in DIR: undefined when there is none. */
export function readEarlierPlan(dir: string): EarlierPlan {
  const file = path.join(dir, PLAN_FILE)
  if (!fs.existsSync(file)) return undefined
  let text: string
  try {
    text = readInputText(file, {what: 'plan', kind: 'document'})
  } catch (error) {
    return {unreadable: (error as Error).message.replace(/\.$/, '')}
  }
  try {
    const plan = JSON.parse(text) as StoredPlan
    if (plan?.kind !== PLAN_KIND || !Array.isArray(plan.nodes)) return {unreadable: `${file} is not a plan written by mtlsctl mesh install`}
    return {plan}
  } catch {
    return {unreadable: `${file} is not valid JSON`}
  }
}

const label = (n: PlanNode) => (n.name && n.name !== n.ip ? `${n.ip} (${n.name})` : n.ip)

function portsText(ports: PlanNode['ports']): string {
  return PORT_KEYS.filter((k) => ports[k]).map((k) => `${k} ${formatPorts(ports[k]!)}`).join(', ')
}

export interface Secrets {
  caFingerprint?: string
  gossipKeyFingerprint?: string
}

/** What changed from the earlier plan, one line each (empty when nothing did). */
export function diffPlans(earlier: StoredPlan, plan: MeshPlan, secrets: Secrets = {}): string[] {
  const changes: string[] = []
  const before = new Map(earlier.nodes.map((n) => [n.ip, n]))
  const after = new Map(plan.nodes.map((n) => [n.ip, n]))
  for (const node of plan.nodes) {
    const old = before.get(node.ip)
    if (!old) {
      changes.push(`+ node ${label(node)} added: ${node.datacenter}, Consul ${node.consulRole}, ports ${portsText(node.ports)}`)
      continue
    }
    const what: string[] = []
    if (old.name !== node.name) what.push(`name ${old.name} -> ${node.name}`)
    if (old.datacenter !== node.datacenter) what.push(`data center ${old.datacenter} -> ${node.datacenter}`)
    if (old.components.join(',') !== node.components.join(',')) what.push(`components ${old.components.join(',')} -> ${node.components.join(',')}`)
    if (old.consulRole !== node.consulRole) what.push(`Consul ${old.consulRole} -> ${node.consulRole}`)
    for (const key of PORT_KEYS) {
      const [a, b] = [old.ports?.[key] ?? [], node.ports[key] ?? []]
      if (a.join(',') !== b.join(',')) what.push(`${key} ports ${a.length ? formatPorts(a) : 'none'} -> ${b.length ? formatPorts(b) : 'none'}`)
    }
    if (what.length > 0) changes.push(`~ node ${label(node)}: ${what.join('; ')}`)
  }
  for (const old of earlier.nodes) if (!after.has(old.ip)) changes.push(`- node ${label(old)} removed`)
  for (const key of PORT_KEYS) {
    const [a, b] = [earlier.ranges?.[key], plan.ranges[key]]
    if (a && (a.min !== b.min || a.max !== b.max || a.perNode !== b.perNode)) {
      changes.push(`~ ${key} range ${formatRange(a)} x${a.perNode} -> ${formatRange(b)} x${b.perNode}`)
    }
  }
  if (secrets.caFingerprint && secrets.caFingerprint !== earlier.caFingerprint) changes.push('~ Consul CA: a different CA signs the agent certificates')
  if (secrets.gossipKeyFingerprint && secrets.gossipKeyFingerprint !== earlier.gossipKeyFingerprint) changes.push('~ gossip key: a different key')
  return changes
}
