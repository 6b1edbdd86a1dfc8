import type * as crypto from 'node:crypto'

import {invalidArgument} from '../errors.js'
import {probeEndpoint, type ProbeReport} from '../probe/probe.js'
import {componentId, INTERNAL_ROWS, securityKinds} from './ports.js'

/**
 * `hybrid check`: every port the seed lists for a component as a destination, probed at once,
 * with the security the seed expects beside the one observed: plain TCP, TLS, or mTLS (the
 * server requires a client certificate).
 */
export type Observed = 'closed' | 'plain TCP' | 'TLS' | 'TLS (client certificate optional)' | 'mTLS' | 'TLS handshake failed'

export interface PortCheck {
  port: number
  /** What the seed says (`mTLS`, `TLS`), or `open or closed` for a port it only mentions. */
  expected: string
  sources: string[]
  observed: Observed
  verdict: 'ok' | 'differs'
  detail: string | null
}

export interface CheckResult {
  host: string
  component: string
  ports: PortCheck[]
  ok: boolean
}

export interface CheckOptions {
  ca?: {pem: string; name: string}
  client?: {certificate: string; privateKey: crypto.KeyObject}
  timeoutMs?: number
}

/** Ports the seed mentions beside a component's rows without a security of their own. */
const MENTIONED: Record<string, Array<{port: number; source: string}>> = {
  // "Note that you can also leave port 7000 open for firewall configuration as a backup option"
  cassandra: [{port: 7000, source: 'Cassandra (backup option for troubleshooting)'}],
}

/** Component ids that are a destination in the seed's internal table. */
export function checkableComponents(): string[] {
  return [...new Set(INTERNAL_ROWS.map((r) => componentId(r.destination)))].sort()
}

function observe(report: ProbeReport): Observed {
  if (report.outcome === 'unreachable') return 'closed'
  if (report.outcome === 'not-tls') return 'plain TCP'
  if (!report.tls || (report.protocol === null && report.clientCertificate.server !== 'required')) return 'TLS handshake failed'
  if (report.clientCertificate.server === 'required') return 'mTLS'
  return report.clientCertificate.server === 'optional' ? 'TLS (client certificate optional)' : 'TLS'
}

function judge(expected: string, observed: Observed, report: ProbeReport, caGiven: boolean): {verdict: PortCheck['verdict']; detail: string | null} {
  if (expected === 'open or closed') return {verdict: 'ok', detail: report.error}
  const kind = securityKinds(expected)[0]
  const matches = (kind === 'mtls' && observed === 'mTLS') || (kind === 'tls' && (observed === 'TLS' || observed === 'TLS (client certificate optional)'))
  if (!matches) return {verdict: 'differs', detail: report.error}
  if (caGiven && report.outcome === 'verification-failed') return {verdict: 'differs', detail: report.error}
  if (report.clientCertificate.accepted === false) return {verdict: 'differs', detail: report.error}
  const given = report.clientCertificate.accepted ? `client certificate ${report.clientCertificate.given} accepted` : null
  return {verdict: 'ok', detail: given}
}

export async function checkComponent(host: string, component: string, options: CheckOptions = {}): Promise<CheckResult> {
  const id = componentId(component)
  const rows = INTERNAL_ROWS.filter((r) => componentId(r.destination) === id)
  if (rows.length === 0) {
    throw invalidArgument(`Unknown component "${component}": use one of ${checkableComponents().join(', ')}.`)
  }
  const byPort = new Map<number, {expected: string; sources: string[]}>()
  for (const row of rows) {
    for (const p of row.protocolPorts) {
      const port = Number(/^TCP\/(\d+)/.exec(p)?.[1])
      const entry = byPort.get(port) ?? {expected: securityKinds(row.security)[0] === 'mtls' ? 'mTLS' : 'TLS', sources: []}
      entry.sources.push(row.source)
      byPort.set(port, entry)
    }
  }
  for (const extra of MENTIONED[id] ?? []) byPort.set(extra.port, {expected: 'open or closed', sources: [extra.source]})
  const ports = [...byPort.entries()].sort(([a], [b]) => a - b)
  // Concurrently: the time of the slowest port, not of their sum.
  const checks = await Promise.all(
    ports.map(async ([port, {expected, sources}]) => {
      const report = await probeEndpoint({host, port, ca: options.ca, client: options.client, timeoutMs: options.timeoutMs, http: false})
      const observed = observe(report)
      return {port, expected, sources, observed, ...judge(expected, observed, report, options.ca !== undefined)}
    }),
  )
  return {host, component: id, ports: checks, ok: checks.every((c) => c.verdict === 'ok')}
}
