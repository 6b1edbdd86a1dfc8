import * as crypto from 'node:crypto'

import {invalidArgument} from '../errors.js'
import {readInputFile} from '../ca/keys.js'
import {CA_CERT_FILE} from './certs.js'
import {CONSUL_DATA_DIR, datacenterOf, type MeshPlan, NODE_DIR, type PlanNode} from './model.js'

/**
 * Consul's side of the mesh: the gossip encryption key (`consul keygen`) and each node's agent
 * configuration, in the flat form of Consul 1.6 that apigee-mtls ships (1.12+ would nest the
 * TLS keys under `tls.defaults`).
 */

/** 32 random bytes, base64, as `consul keygen` prints. */
export function generateGossipKey(): string {
  return crypto.randomBytes(32).toString('base64')
}

/** Reads a gossip key file (`consul keygen > F`): base64 of 16, 24 or 32 bytes (AES keys). */
export function readGossipKey(file: string): string {
  const text = readInputFile(file, 'gossip key', 'gossip-key-file', 'password').toString('utf8').trim()
  const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(text) && text.length % 4 === 0 ? Buffer.from(text, 'base64') : undefined
  if (!bytes || ![16, 24, 32].includes(bytes.length)) {
    throw invalidArgument(
      `The gossip key file ${file} does not hold a Consul gossip key (base64 of 32 bytes).`,
      'Make one with `consul keygen > FILE`, or leave --gossip-key-file out and mtlsctl makes one.',
    )
  }
  return text
}

/** A short, one-way fingerprint of a gossip key, for plan.json (never the key itself). */
export function gossipKeyFingerprint(key: string): string {
  return `sha256:${crypto.createHash('sha256').update(key).digest('hex').slice(0, 16)}`
}

export const CONSUL_AGENT_FILE = 'consul-agent.json'

export interface AgentFiles {
  /** `<dc>-server-consul-0` (the bundle holds `.pem` and `-key.pem`). */
  certBase: string
}

/** The agent configuration of one node, as JSON text. */
export function agentConfig(plan: MeshPlan, node: PlanNode, files: AgentFiles, gossipKey: string): string {
  const dc = datacenterOf(plan, node.datacenter)
  const server = node.consulRole === 'server'
  const others = plan.datacenters.filter((d) => d.name !== dc.name).flatMap((d) => d.servers)
  const config: Record<string, unknown> = {
    datacenter: node.datacenter,
    primary_datacenter: plan.datacenters[0].name,
    node_name: node.name,
    data_dir: CONSUL_DATA_DIR,
    bind_addr: node.ip,
    advertise_addr: node.ip,
    client_addr: '127.0.0.1',
    server,
    ...(server ? {bootstrap_expect: dc.servers.length} : {}),
    retry_join: dc.servers.filter((ip) => ip !== node.ip),
    ...(server && plan.multiDc ? {retry_join_wan: others} : {}),
    encrypt: gossipKey,
    ca_file: `${NODE_DIR}/${CA_CERT_FILE}`,
    cert_file: `${NODE_DIR}/${files.certBase}.pem`,
    key_file: `${NODE_DIR}/${files.certBase}-key.pem`,
    verify_incoming: true,
    verify_outgoing: true,
    verify_server_hostname: true,
    ports: server
      ? {server: 8300, serf_lan: 8301, serf_wan: 8302, http: 8500, grpc: 8502, https: 8503, dns: 8600}
      : {serf_lan: 8301, http: 8500, grpc: 8502, dns: 8600},
    connect: {enabled: true},
  }
  return `${JSON.stringify(config, null, 2)}\n`
}
