import type * as crypto from 'node:crypto'
import type {SecureVersion} from 'node:tls'

import {parseCertificateChain, toPem} from '../ca/certificates.js'
import {describeCertificate} from '../ca/info.js'
import {verifyCertificate} from '../ca/verify.js'
import {invalidArgument} from '../errors.js'
import {type Attempt, type AttemptOptions, attemptTls} from './attempt.js'
import {refusesClientCertificate, unreachableWords} from './tls-words.js'

/**
 * `certs probe`: what an mTLS client learns from a server, in one handshake without a client
 * certificate (does the server ask for one, and insist?), then, when the server asks and a
 * certificate is given, the same handshake again with it (is it accepted, or which alert
 * refuses it?).
 */
export type ProbeOutcome = 'ok' | 'unreachable' | 'not-tls' | 'tls-failure' | 'verification-failed' | 'client-certificate-refused'

export type ClientCertificatePolicy = 'required' | 'optional' | 'ignored' | 'unknown'

export interface PresentedCertificate {
  subject: string
  issuer: string
  sans: string[]
  notBefore: string
  notAfter: string
  daysLeft: number
  publicKey: string
  sha256Fingerprint: string
}

export interface ProbeReport {
  target: string
  serverName: string | null
  reachable: boolean
  tls: boolean
  protocol: string | null
  cipher: string | null
  chain: PresentedCertificate[]
  verification: {trusted: boolean; against: string; hostname: string | null; error: string | null} | null
  clientCertificate: {
    /** What the server does with a client certificate. */
    server: ClientCertificatePolicy
    /** How the server refused the connection without one (alert or HTTP status). */
    withoutOne: string | null
    /** The subject of the certificate given, if any. */
    given: string | null
    /** Whether the given one was accepted (null when not tried). */
    accepted: boolean | null
    /** How the server refused the given one. */
    refusal: string | null
  }
  outcome: ProbeOutcome
  /** One line: why the outcome is not ok. */
  error: string | null
}

export interface ProbeOptions {
  host: string
  port: number
  servername?: string
  /** PEM trust anchors, and how to name them in the report (`RootCA.pem`, `truststore ts`). */
  ca?: {pem: string; name: string}
  client?: {certificate: string; privateKey: crypto.KeyObject}
  tlsVersion?: '1.2' | '1.3'
  timeoutMs?: number
  /** Bound on waiting for the server's verdict after the handshake (default: 1 s or the timeout). */
  answerMs?: number
  /** Send an HTTP request after the handshake (default true): nginx refuses at the HTTP layer. */
  http?: boolean
}

/** `HOST:PORT`, `[::1]:443`; the port is required. */
export function parseTarget(text: string): {host: string; port: number} {
  const match = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text.trim())
  const port = match ? Number(match[3]) : 0
  if (!match || port < 1 || port > 65_535) {
    throw invalidArgument(`Invalid target "${text}": use HOST:PORT, e.g. backend.example.com:443 or [::1]:8443.`)
  }
  return {host: match[1] ?? match[2], port}
}

const DAY = 86_400_000

async function present(der: Buffer, now: number): Promise<PresentedCertificate> {
  const d = await describeCertificate(der)
  return {
    subject: d.subject,
    issuer: d.issuer,
    sans: d.sans,
    notBefore: d.notBefore,
    notAfter: d.notAfter,
    daysLeft: Math.floor((Date.parse(d.notAfter) - now) / DAY),
    publicKey: d.publicKey,
    sha256Fingerprint: d.sha256Fingerprint,
  }
}

/** nginx's refusals at the HTTP layer (`ssl_verify_client on`): status 400 and these titles. */
function httpRefusal(attempt: Attempt): string | undefined {
  if (attempt.httpStatus !== 400 || !attempt.httpBody) return undefined
  if (attempt.httpBody.includes('No required SSL certificate was sent')) return 'HTTP 400 "No required SSL certificate was sent"'
  if (attempt.httpBody.includes('The SSL certificate error')) return 'HTTP 400 "The SSL certificate error"'
  return undefined
}

/** How the server refused a certificate (or its absence), if it did. */
function refusal(attempt: Attempt): string | undefined {
  if (attempt.alert && refusesClientCertificate(attempt.alert)) return `alert "${attempt.alert}"`
  return httpRefusal(attempt)
}

/** The checks a TLS client makes on the chain the server sent (verify.ts: chain, validity, purpose, host name). */
async function verifyChain(ders: Buffer[], hostname: string, ca: ProbeOptions['ca']): Promise<NonNullable<ProbeReport['verification']>> {
  const chain = await parseCertificateChain(Buffer.concat(ders.map((der) => Buffer.from(toPem('CERTIFICATE', der)))), 'the server certificate')
  let anchors: string
  if (ca) {
    anchors = ca.pem
  } else {
    const {rootCertificates} = await import('node:tls')
    anchors = rootCertificates.join('\n')
  }
  const trusted = await parseCertificateChain(anchors, ca?.name ?? 'the system roots')
  const result = verifyCertificate({chain, trusted, hostname, usage: 'server'})
  const failed = result.checks.find((c) => !c.ok)
  return {trusted: failed === undefined, against: ca?.name ?? 'the system roots', hostname, error: failed?.detail ?? null}
}

export async function probeEndpoint(options: ProbeOptions): Promise<ProbeReport> {
  const timeoutMs = options.timeoutMs ?? 5_000
  const version: SecureVersion | undefined = options.tlsVersion === '1.2' ? 'TLSv1.2' : options.tlsVersion === '1.3' ? 'TLSv1.3' : undefined
  const base: AttemptOptions = {
    host: options.host,
    port: options.port,
    servername: options.servername,
    minVersion: version ?? 'TLSv1.2',
    maxVersion: version,
    timeoutMs,
    answerMs: options.answerMs ?? Math.min(timeoutMs, 1_000),
    http: options.http ?? true,
  }
  const hostname = options.servername ?? options.host
  const report: ProbeReport = {
    target: `${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`,
    serverName: options.servername ?? null,
    reachable: false,
    tls: false,
    protocol: null,
    cipher: null,
    chain: [],
    verification: null,
    clientCertificate: {server: 'unknown', withoutOne: null, given: null, accepted: null, refusal: null},
    outcome: 'ok',
    error: null,
  }
  const first = await attemptTls(base)
  report.reachable = first.connected
  if (!first.connected) {
    report.outcome = 'unreachable'
    report.error = first.timedOut ? `no TCP connection within ${timeoutMs / 1000} s` : unreachableWords(first.errorCode, first.errorMessage ?? 'unknown error')
    return report
  }
  if (first.notTls) {
    report.outcome = 'not-tls'
    report.error = first.timedOut
      ? `the server did not answer a TLS ClientHello within ${timeoutMs / 1000} s`
      : `the server does not speak TLS (${first.errorCode === 'ECONNRESET' ? 'it closed the connection on our ClientHello' : (first.errorCode ?? first.errorMessage)})`
    return report
  }
  report.tls = true
  const withoutOne = refusal(first)
  if (!first.secure && !withoutOne) {
    report.outcome = 'tls-failure'
    report.error = first.alert
      ? `the server refused the handshake: alert "${first.alert}"`
      : first.timedOut
        ? `no TLS handshake within ${timeoutMs / 1000} s`
        : `handshake failed: ${first.errorCode ?? first.errorMessage}`
    return report
  }
  // A TLS 1.2 server that insists refuses before its Finished: its chain is read again with the certificate.
  const now = Date.now()
  report.protocol = first.protocol ?? null
  report.cipher = first.cipher ?? null
  report.chain = await Promise.all(first.chain.map((der) => present(der, now)))
  const cc = report.clientCertificate
  if (withoutOne) {
    cc.server = 'required'
    cc.withoutOne = withoutOne
  } else {
    cc.server = first.certificateRequested ? 'optional' : 'ignored'
  }
  let second: Attempt | undefined
  if (options.client) {
    cc.given = (await describeCertificate(options.client.certificate)).subject
    if (cc.server !== 'ignored') {
      second = await attemptTls({...base, cert: options.client.certificate, key: options.client.privateKey})
      const refused = refusal(second)
      cc.accepted = refused === undefined && (second.secure || !second.alert)
      cc.refusal = refused ?? (cc.accepted ? null : (second.alert ?? second.errorMessage ?? null))
      if (!first.secure && second.secure) {
        report.protocol = second.protocol ?? null
        report.cipher = second.cipher ?? null
        report.chain = await Promise.all(second.chain.map((der) => present(der, now)))
      }
    }
  }
  const chainSource = first.chain.length > 0 ? first : second?.chain.length ? second : undefined
  if (chainSource) report.verification = await verifyChain(chainSource.chain, hostname, options.ca)
  if (report.verification && !report.verification.trusted) {
    report.outcome = 'verification-failed'
    report.error = `the server certificate did not verify against ${report.verification.against}: ${report.verification.error}`
  } else if (cc.server === 'required' && cc.accepted !== true) {
    report.outcome = 'client-certificate-refused'
    report.error =
      cc.given === null
        ? `the server requires a client certificate and none was given (${cc.withoutOne})`
        : `the server refused the client certificate: ${cc.refusal}`
  } else if (cc.accepted === false) {
    report.outcome = 'client-certificate-refused'
    report.error = `the server refused the client certificate: ${cc.refusal}`
  }
  return report
}
