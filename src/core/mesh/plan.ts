import * as path from 'node:path'

import {checkDays, parseCertificate} from '../ca/certificates.js'
import {bundleFileName, type BundleEntry, makeBundle} from './bundles.js'
import {type AgentCertificate, CA_CERT_FILE, CA_KEY_FILE, CERT_DAYS, type ConsulCa, createConsulCa, issueAgentCertificate, loadConsulCa} from './certs.js'
import {agentConfig, CONSUL_AGENT_FILE, generateGossipKey, gossipKeyFingerprint, readGossipKey} from './consul.js'
import {diffPlans, type EarlierPlan, PLAN_FILE, PLAN_KIND, readEarlierPlan, type StoredPlan} from './diff.js'
import {checkOutDir, type OutFile, writeOutDir} from './files.js'
import {iptablesRules, RULES_FILE} from './firewall.js'
import {agentFileBase, buildPlan, type MeshPlan, type PlanNode} from './model.js'
import {assignPorts, resolveRanges} from './ports.js'
import {Problems} from './problems.js'
import {BUNDLE_CONFIG_FILE, configFileName, mtlsProperties} from './properties.js'
import {nodeReport, portReport, REPORT_FILE} from './report.js'
import {clusterRunbook, nodeRunbook, RUNBOOK_FILE} from './runbook.js'
import {buildTopology, checkTopology, readTopologyFile} from './topology.js'

/**
 * `mesh install`: plan the mesh from a topology file (every check, every problem at once),
 * then make and write everything the nodes need. Planning reads no key and writes nothing, so
 * `--dry-run` and the diff against an earlier plan come from `planMesh` alone.
 */
export interface PlanOptions {
  topologyFile: string
  /** Read for an earlier plan.json to diff against. */
  outDir?: string
  portRanges?: string[]
  portsPerNode?: string[]
  allowUnsupportedTopology?: boolean
}

export interface PlannedMesh {
  plan: MeshPlan
  warnings: string[]
  earlier: EarlierPlan
  /** What changed from the earlier plan's nodes, ports and ranges (empty if none, or no earlier plan). */
  changes: string[]
}

export async function planMesh(options: PlanOptions): Promise<PlannedMesh> {
  const problems = new Problems()
  const raw = await readTopologyFile(options.topologyFile)
  const topology = buildTopology(raw, options.topologyFile, problems)
  const warnings = checkTopology(topology, problems, {allowUnsupportedTopology: options.allowUnsupportedTopology})
  const ranges = resolveRanges(options.portRanges ?? [], options.portsPerNode ?? [], problems)
  const ports = assignPorts(topology.nodes, ranges, problems)
  problems.throwIfAny(`The mesh plan for ${options.topologyFile}`)
  const plan = buildPlan(topology, ports, ranges)
  const earlier = options.outDir === undefined ? undefined : readEarlierPlan(options.outDir)
  const changes = earlier && 'plan' in earlier ? diffPlans(earlier.plan, plan) : []
  if (earlier && 'unreadable' in earlier) warnings.push(`Cannot read the earlier plan (${earlier.unreadable}): no comparison with it.`)
  return {plan, warnings, earlier, changes}
}

export interface InstallOptions {
  outDir: string
  caCertFile?: string
  caKeyFile?: string
  /** Asked for an encrypted --ca-key (a terminal prompt in the CLI). */
  askPassword?: (keyFile: string) => Promise<string>
  gossipKeyFile?: string
  /** Validity of the agent certificates (default 365). */
  days?: number
  force?: boolean
}

export interface InstallResult {
  outDir: string
  /** Every file written, relative to outDir. */
  files: string[]
  /** `bundles/<ip>.tar.gz`, in node order. */
  bundles: string[]
  caGenerated: boolean
  /** CA and gossip key changes from the earlier plan. */
  changes: string[]
  warnings: string[]
}

const CERTS = 'certs'
const CONFIG = 'config'
const BUNDLES = 'bundles'
export const GOSSIP_KEY_FILE = 'gossip.key'

/** What a node's bundle holds, by name in the tar. */
function bundleNames(certBase: string): string[] {
  return [BUNDLE_CONFIG_FILE, CA_CERT_FILE, CA_KEY_FILE, `${certBase}.pem`, `${certBase}-key.pem`, CONSUL_AGENT_FILE, RULES_FILE, RUNBOOK_FILE, REPORT_FILE]
}

/** Paths written for a plan, in a stable order (checked before any key is made). */
function layout(plan: MeshPlan, bases: Map<PlanNode, string>): string[] {
  return [
    PLAN_FILE,
    REPORT_FILE,
    RUNBOOK_FILE,
    GOSSIP_KEY_FILE,
    `${CERTS}/${CA_CERT_FILE}`,
    `${CERTS}/${CA_KEY_FILE}`,
    ...plan.datacenters.map((d) => `${CONFIG}/${configFileName(d.name)}`),
    ...plan.nodes.flatMap((n) => [`${CERTS}/${bases.get(n)}.pem`, `${CERTS}/${bases.get(n)}-key.pem`, `${BUNDLES}/${bundleFileName(n.ip)}`]),
  ]
}

export async function installMesh(planned: PlannedMesh, options: InstallOptions): Promise<InstallResult> {
  const {plan} = planned
  const outDir = options.outDir
  const force = options.force ?? false
  const days = checkDays(options.days ?? CERT_DAYS)
  const bases = new Map(plan.nodes.map((n) => [n, agentFileBase(plan, n)]))
  const paths = layout(plan, bases)
  checkOutDir(outDir, paths, force)

  const warnings: string[] = []
  const gossipKey = options.gossipKeyFile ? readGossipKey(options.gossipKeyFile) : generateGossipKey()
  const ca: ConsulCa =
    options.caCertFile !== undefined && options.caKeyFile !== undefined
      ? await loadConsulCa(options.caCertFile, options.caKeyFile, options.askPassword)
      : await createConsulCa()
  if (ca.keyEncrypted) {
    warnings.push(`The CA key ${options.caKeyFile} is password-protected: apigee-mtls setup reads PATH_TO_CA_KEY without a password.`)
  }

  const certs = new Map<PlanNode, AgentCertificate>()
  const counters = new Map<string, number>()
  for (const node of plan.nodes) {
    const key = `${node.datacenter}/${node.consulRole}`
    const n = counters.get(key) ?? 0
    counters.set(key, n + 1)
    certs.set(node, await issueAgentCertificate(ca, node.consulRole, node.datacenter, n, days))
  }
  const first = await parseCertificate(certs.get(plan.nodes[0])!.certPem)
  if (first.notAfter.getTime() > ca.issuer.certificate.notAfter.getTime()) {
    warnings.push(`The agent certificates (${days} days) outlive the Consul CA, which expires on ${ca.issuer.certificate.notAfter.toISOString()}.`)
  }

  const configs = new Map(plan.datacenters.map((d) => [d.name, mtlsProperties(plan, d.name, gossipKey)]))
  const files: OutFile[] = [
    {path: REPORT_FILE, data: `${JSON.stringify(portReport(plan), null, 2)}\n`},
    {path: RUNBOOK_FILE, data: clusterRunbook(plan)},
    {path: GOSSIP_KEY_FILE, data: `${gossipKey}\n`, secret: true},
    {path: `${CERTS}/${CA_CERT_FILE}`, data: ca.certPem},
    {path: `${CERTS}/${CA_KEY_FILE}`, data: ca.keyPem, secret: true},
    ...plan.datacenters.map((d) => ({path: `${CONFIG}/${configFileName(d.name)}`, data: configs.get(d.name)!, secret: true})),
  ]
  const bundles = await Promise.all(
    plan.nodes.map(async (node) => {
      const cert = certs.get(node)!
      const agent = agentConfig(plan, node, {certBase: cert.base}, gossipKey)
      const rules = iptablesRules(plan, node)
      const runbook = nodeRunbook(plan, node, bundleNames(cert.base))
      const entries: BundleEntry[] = [
        {name: BUNDLE_CONFIG_FILE, data: configs.get(node.datacenter)!, secret: true},
        {name: CA_CERT_FILE, data: ca.certPem},
        {name: CA_KEY_FILE, data: ca.keyPem, secret: true},
        {name: `${cert.base}.pem`, data: cert.certPem},
        {name: `${cert.base}-key.pem`, data: cert.keyPem, secret: true},
        {name: CONSUL_AGENT_FILE, data: agent, secret: true},
        {name: RULES_FILE, data: rules},
        {name: RUNBOOK_FILE, data: runbook},
        {name: REPORT_FILE, data: `${JSON.stringify({[node.ip]: nodeReport(node)}, null, 2)}\n`},
      ]
      const tarball = await makeBundle(entries)
      return [
        {path: `${CERTS}/${cert.base}.pem`, data: cert.certPem},
        {path: `${CERTS}/${cert.base}-key.pem`, data: cert.keyPem, secret: true},
        {path: `${BUNDLES}/${bundleFileName(node.ip)}`, data: tarball, secret: true},
      ] satisfies OutFile[]
    }),
  )
  files.push(...bundles.flat())

  const gossipFingerprint = gossipKeyFingerprint(gossipKey)
  const stored: StoredPlan = {
    kind: PLAN_KIND,
    version: 1,
    createdAt: new Date().toISOString(),
    topologyFile: path.resolve(plan.topologyFile),
    nodes: plan.nodes,
    ranges: plan.ranges,
    caFingerprint: ca.fingerprint,
    caGenerated: ca.generated,
    gossipKeyFingerprint: gossipFingerprint,
    caKeyInBundles: 'every node',
    files: paths,
  }
  files.unshift({path: PLAN_FILE, data: `${JSON.stringify(stored, null, 2)}\n`})

  const earlier = planned.earlier && 'plan' in planned.earlier ? planned.earlier.plan : undefined
  const changes = earlier ? diffPlans(earlier, plan, {caFingerprint: ca.fingerprint, gossipKeyFingerprint: gossipFingerprint}).filter((c) => !planned.changes.includes(c)) : []
  writeOutDir(outDir, files, {force, stale: earlier?.files})
  return {
    outDir,
    files: paths,
    bundles: plan.nodes.map((n) => `${BUNDLES}/${bundleFileName(n.ip)}`),
    caGenerated: ca.generated,
    changes,
    warnings,
  }
}
