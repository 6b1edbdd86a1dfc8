import type * as crypto from 'node:crypto'
import * as net from 'node:net'

import {failedPrecondition} from '../errors.js'
import type {Store} from '../store/index.js'
import {type Certificate, isSelfSigned, readCertificateChain} from './certificates.js'
import {isEncryptedPrivateKey, keysMatch, parsePrivateKey, readInputFile} from './keys.js'
import {caCertificate, getCa} from './registry.js'
import {formatName} from './subject.js'

/**
 * `certs verify`: the checks a TLS peer makes, each named with openssl's words so a failure
 * reads the same here as in a server log: chain, validity window, key match, purpose, host.
 */
export type Purpose = 'client' | 'server'
export type CheckName = 'chain' | 'validity' | 'key' | 'usage' | 'hostname'

export interface VerificationCheck {
  check: CheckName
  ok: boolean
  detail: string
}

export interface VerificationReport {
  subject: string
  issuer: string
  valid: boolean
  checks: VerificationCheck[]
}

export interface VerifyOptions {
  /** The certificate, then any intermediates that came with it. */
  chain: Certificate[]
  /** Trusted CA certificates (the --ca's). */
  trusted: Certificate[]
  privateKey?: crypto.KeyObject
  hostname?: string
  usage?: Purpose
  at?: Date
}

const MAX_DEPTH = 10

export function verifyCertificate(options: VerifyOptions): VerificationReport {
  const at = options.at ?? new Date()
  const [leaf, ...intermediates] = options.chain
  const checks: VerificationCheck[] = []
  const path = [leaf]
  checks.push(checkChain(leaf, intermediates, options.trusted, path))
  checks.push(checkValidity(path, at))
  if (options.privateKey) {
    checks.push(
      keysMatch(options.privateKey, leaf.publicKey)
        ? {check: 'key', ok: true, detail: 'the private key matches the certificate'}
        : {check: 'key', ok: false, detail: 'key values mismatch: the private key is not the certificate\'s'},
    )
  }
  if (options.usage) checks.push(checkPurpose(leaf, options.usage))
  if (options.hostname) checks.push(checkHostname(leaf, options.hostname))
  return {subject: formatName(leaf.subject), issuer: formatName(leaf.issuer), valid: checks.every((c) => c.ok), checks}
}

const isTrusted = (cert: Certificate, trusted: Certificate[]) => trusted.some((t) => t.der.equals(cert.der))

function checkChain(leaf: Certificate, intermediates: Certificate[], trusted: Certificate[], path: Certificate[]): VerificationCheck {
  const fail = (detail: string): VerificationCheck => ({check: 'chain', ok: false, detail})
  let current = leaf
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    if (isTrusted(current, trusted)) {
      return {check: 'chain', ok: true, detail: depth === 0 ? 'the certificate is itself trusted' : `signed by ${path.slice(1).map((c) => formatName(c.subject)).join(' <- ')}`}
    }
    const named = [...trusted, ...intermediates].filter((c) => c !== current && current.x509.checkIssued(c.x509))
    if (named.length === 0) {
      return fail(
        isSelfSigned(current)
          ? `self-signed certificate: ${formatName(current.subject)} is not a trusted CA`
          : `unable to get local issuer certificate: no trusted CA named ${formatName(current.issuer)}`,
      )
    }
    const issuer = named.find((c) => current.x509.verify(c.publicKey))
    if (!issuer) return fail(`certificate signature failure: the signature does not verify with the key of ${formatName(named[0].subject)}`)
    const v1Root = issuer.version === 1 && isSelfSigned(issuer)
    if (!issuer.basicConstraints?.ca && !v1Root) return fail(`invalid CA certificate: ${formatName(issuer.subject)} is not a CA`)
    if (issuer.keyUsage && !issuer.keyUsage.includes('keyCertSign')) {
      return fail(`invalid CA certificate: the keyUsage of ${formatName(issuer.subject)} lacks keyCertSign`)
    }
    const pathLen = issuer.basicConstraints?.pathLen
    if (pathLen !== undefined && path.length - 1 > pathLen) return fail(`path length constraint exceeded at ${formatName(issuer.subject)}`)
    path.push(issuer)
    current = issuer
  }
  return fail('certificate chain too long')
}

function checkValidity(path: Certificate[], at: Date): VerificationCheck {
  for (const [i, cert] of path.entries()) {
    const who = i === 0 ? 'certificate' : `CA certificate ${formatName(cert.subject)}`
    if (at.getTime() > cert.notAfter.getTime()) {
      return {check: 'validity', ok: false, detail: `${i === 0 ? 'certificate has expired' : `${who} has expired`} (notAfter ${cert.notAfter.toISOString()})`}
    }
    if (at.getTime() < cert.notBefore.getTime()) {
      return {check: 'validity', ok: false, detail: `${i === 0 ? 'certificate is not yet valid' : `${who} is not yet valid`} (notBefore ${cert.notBefore.toISOString()})`}
    }
  }
  const leaf = path[0]
  return {check: 'validity', ok: true, detail: `valid from ${leaf.notBefore.toISOString()} to ${leaf.notAfter.toISOString()}`}
}

function checkPurpose(leaf: Certificate, usage: Purpose): VerificationCheck {
  const wanted = usage === 'client' ? 'clientAuth' : 'serverAuth'
  const eku = leaf.extKeyUsage
  if (eku && !eku.includes(wanted) && !eku.includes('anyExtendedKeyUsage')) {
    return {check: 'usage', ok: false, detail: `unsupported certificate purpose: extKeyUsage is ${eku.join(', ')}, not ${wanted}`}
  }
  if (leaf.keyUsage && !leaf.keyUsage.includes('digitalSignature') && !leaf.keyUsage.includes('keyEncipherment')) {
    return {check: 'usage', ok: false, detail: `unsupported certificate purpose: keyUsage ${leaf.keyUsage.join(', ')} allows no TLS use`}
  }
  return {check: 'usage', ok: true, detail: eku ? `extKeyUsage includes ${wanted}` : `no extKeyUsage: any purpose allowed`}
}

function checkHostname(leaf: Certificate, hostname: string): VerificationCheck {
  // SANs only, as modern TLS clients do: the CN is never used as a host name.
  const ip = net.isIP(hostname) !== 0
  const match = ip ? leaf.x509.checkIP(hostname) : leaf.x509.checkHost(hostname, {subject: 'never'})
  if (match) return {check: 'hostname', ok: true, detail: `${hostname} matches the certificate's SANs`}
  const sans = leaf.sans.map((s) => `${s.type}:${s.value}`).join(', ') || 'none'
  return {check: 'hostname', ok: false, detail: `${ip ? 'IP address mismatch' : 'hostname mismatch'}: ${hostname} is not in the SANs (${sans})`}
}

export interface VerifyFileOptions {
  file: string
  /** A registered CA's name, or */
  caName?: string
  /** a file of trusted CA certificates. */
  caFile?: string
  keyFile?: string
  /** The flags that named caFile and keyFile, for messages (`ca-cert`, `key`). */
  caFlag?: string
  keyFlag?: string
  keyPassword?: string
  askPassword?: (keyFile: string) => Promise<string>
  hostname?: string
  usage?: Purpose
  at?: Date
}

export async function verifyCertificateFile(store: Store, options: VerifyFileOptions): Promise<VerificationReport> {
  const chain = await readCertificateChain(options.file)
  let trusted: Certificate[]
  if (options.caName !== undefined) trusted = [await caCertificate(await getCa(store, options.caName))]
  else if (options.caFile !== undefined) trusted = await readCertificateChain(options.caFile, options.caFlag)
  else throw failedPrecondition('Give the CA to verify against: --ca NAME or --ca-cert FILE.')
  let privateKey: crypto.KeyObject | undefined
  if (options.keyFile !== undefined) {
    const pem = readInputFile(options.keyFile, 'key', options.keyFlag)
    let password = options.keyPassword
    if (password === undefined && isEncryptedPrivateKey(pem) && options.askPassword) password = await options.askPassword(options.keyFile)
    privateKey = parsePrivateKey(pem, {file: options.keyFile, password})
  }
  return verifyCertificate({chain, trusted, privateKey, hostname: options.hostname, usage: options.usage, at: options.at})
}

/** The error for a failed report: every failed check named, exit 1. */
export function verificationError(file: string, report: VerificationReport) {
  const failed = report.checks.filter((c) => !c.ok).map((c) => c.detail)
  return failedPrecondition(`${file} failed verification: ${failed.join('; ')}.`)
}
