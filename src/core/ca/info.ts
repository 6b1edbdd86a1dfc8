import * as crypto from 'node:crypto'

import {type Certificate, isSelfSigned, parseCertificateChain} from './certificates.js'
import {describePublicKey, signatureAlgorithmName} from './keys.js'
import {formatName, formatSan} from './subject.js'

/**
 * What a certificate says, in two shapes: Apigee's `certInfo` (the fields of an alias's
 * certsInfo, reused by keystores and aliases) and a fuller description for `certs describe`.
 */
export interface CertInfo {
  version: number
  subject: string
  issuer: string
  /** notAfter, milliseconds since the epoch, as a string (int64 in JSON). */
  expiryDate: string
  /** notBefore, milliseconds since the epoch, as a string. */
  validFrom: string
  isValid: 'Yes' | 'No' | 'Not yet'
  subjectAlternativeNames: string[]
  sigAlgName: string
  publicKey: string
  basicConstraints: 'CA:TRUE' | 'CA:FALSE'
  serialNumber: string
}

export interface CertificateDescription extends CertInfo {
  notBefore: string
  notAfter: string
  /** SANs with their type: `DNS:host`, `IP:10.0.0.1`. */
  sans: string[]
  pathLen?: number
  keyUsage: string[]
  extendedKeyUsage: string[]
  subjectKeyIdentifier?: string
  authorityKeyIdentifier?: string
  sha256Fingerprint: string
  selfSigned: boolean
}

/** `0a:1b:2c`: lowercase colon-separated hex. */
export function hexColons(bytes: Buffer): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':')
}

/** Apigee's isValid for a validity window at a moment (all in epoch milliseconds). */
export function validityAt(notBefore: number, notAfter: number, now: number): CertInfo['isValid'] {
  if (now < notBefore) return 'Not yet'
  return now > notAfter ? 'No' : 'Yes'
}

export function validity(cert: Certificate, at: Date = new Date()): CertInfo['isValid'] {
  return validityAt(cert.notBefore.getTime(), cert.notAfter.getTime(), at.getTime())
}

function toCertificate(input: string | Buffer | Certificate): Promise<Certificate> | Certificate {
  if (typeof input === 'string' || Buffer.isBuffer(input)) return parseCertificateChain(input).then((chain) => chain[0])
  return input
}

/** Apigee's certInfo of a certificate (the first of a PEM text). */
export async function certInfo(input: string | Buffer | Certificate, at: Date = new Date()): Promise<CertInfo> {
  const cert = await toCertificate(input)
  return {
    version: cert.version,
    subject: formatName(cert.subject),
    issuer: formatName(cert.issuer),
    expiryDate: String(cert.notAfter.getTime()),
    validFrom: String(cert.notBefore.getTime()),
    isValid: validity(cert, at),
    subjectAlternativeNames: cert.sans.map((s) => s.value),
    sigAlgName: signatureAlgorithmName(cert.signatureOid),
    publicKey: describePublicKey(cert.publicKey),
    basicConstraints: cert.basicConstraints?.ca ? 'CA:TRUE' : 'CA:FALSE',
    serialNumber: hexColons(cert.serialNumber),
  }
}

/** certInfo plus SAN types, usages, key identifiers and the SHA-256 fingerprint. */
export async function describeCertificate(input: string | Buffer | Certificate, at: Date = new Date()): Promise<CertificateDescription> {
  const cert = await toCertificate(input)
  const info = await certInfo(cert, at)
  const fingerprint = crypto.createHash('sha256').update(cert.der).digest()
  return {
    ...info,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    sans: cert.sans.map(formatSan),
    ...(cert.basicConstraints?.pathLen === undefined ? {} : {pathLen: cert.basicConstraints.pathLen}),
    keyUsage: cert.keyUsage ?? [],
    extendedKeyUsage: cert.extKeyUsage ?? [],
    ...(cert.subjectKeyId ? {subjectKeyIdentifier: hexColons(cert.subjectKeyId)} : {}),
    ...(cert.authorityKeyId ? {authorityKeyIdentifier: hexColons(cert.authorityKeyId)} : {}),
    sha256Fingerprint: hexColons(fingerprint).toUpperCase(),
    selfSigned: isSelfSigned(cert),
  }
}
