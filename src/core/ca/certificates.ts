import * as crypto from 'node:crypto'

import {invalidArgument} from '../errors.js'
import {
  type Asn1,
  bitStringBytes,
  bits,
  bytesOf,
  children,
  decode,
  encode,
  explicit,
  firstElement,
  loadAsn1,
  type Node,
  nullNode,
  octets,
  oid,
  oidOf,
  raw,
  readTime,
  seq,
  smallInt,
  time,
  unsignedInt,
} from './asn1.js'
import {type CertificateExtensions, type ExplicitProfile, extensionsFor, readExtensions} from './extensions.js'
import {readInputFile, sign, signatureAlgorithm} from './keys.js'
import {decodeName, type DistinguishedName, encodeName, type SubjectAltName} from './subject.js'

export {type ExplicitProfile, EXT_KEY_USAGE_OIDS, KEY_USAGE_BITS} from './extensions.js'

/** What a leaf certificate is for: extKeyUsage clientAuth, serverAuth or both. */
export const USAGES = ['client', 'server', 'both'] as const
export type Usage = (typeof USAGES)[number]

export function checkUsage(value: string): Usage {
  if (!(USAGES as readonly string[]).includes(value)) {
    throw invalidArgument(`Invalid usage "${value}": use client, server or both.`)
  }
  return value as Usage
}

/** A parsed X.509 certificate: Node's X509Certificate plus what it does not expose. */
export interface Certificate extends CertificateExtensions {
  pem: string
  der: Buffer
  x509: crypto.X509Certificate
  version: number
  /** The INTEGER's content bytes (sign byte included), as openssl prints them. */
  serialNumber: Buffer
  signatureOid: string
  subject: DistinguishedName
  issuer: DistinguishedName
  /** Exact DER of the subject Name: an issued certificate's issuer must be these bytes. */
  subjectDer: Buffer
  issuerDer: Buffer
  notBefore: Date
  notAfter: Date
  publicKey: crypto.KeyObject
}

// -- PEM ---------------------------------------------------------------------------------

export function toPem(label: string, der: Buffer): string {
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`
}

/** The DER bodies of every `label` block in the text; malformed base64 is refused. */
export function pemBlocks(text: string, label: string, where: string): Buffer[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g')
  const blocks: Buffer[] = []
  for (const match of text.matchAll(re)) {
    const body = match[1].replace(/\s+/g, '')
    if (body === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 !== 0) {
      throw invalidArgument(`${where} holds a malformed PEM ${label} block (bad base64).`)
    }
    blocks.push(Buffer.from(body, 'base64'))
  }
  return blocks
}

// -- reading -----------------------------------------------------------------------------

/**
 * The longest chain an alias may hold. Apigee documents no count for alias uploads, but its
 * runtime is Java, whose TLS stack refuses a peer's chain of more than 10 certificates
 * (jdk.tls.maxCertificateChainLength; Apigee's error: "The certificate chain length(11)
 * exceeds the maximum allowed length(10)"): a longer chain could never be used.
 */
export const MAX_CHAIN_CERTIFICATES = 10

export interface ChainOptions {
  /** Refuse more certificates than this (counted before any is parsed). */
  maxCertificates?: number
  /** Refuse a certificate given twice (a chain names each issuer once). */
  distinct?: boolean
}

/**
 * Parses every certificate of a PEM file (a leaf, then its chain), or one DER certificate.
 * Errors name the file and the certificate's position; nothing is echoed from the input.
 */
export async function parseCertificateChain(input: string | Buffer, file = 'the input', options: ChainOptions = {}): Promise<Certificate[]> {
  const text = input.toString('latin1')
  let ders = pemBlocks(text, 'CERTIFICATE', file)
  if (ders.length === 0) {
    if (Buffer.isBuffer(input) && input[0] === 0x30 && !text.includes('-----BEGIN')) ders = [input]
    else throw invalidArgument(`${file} holds no PEM certificate ("-----BEGIN CERTIFICATE-----").`)
  }
  checkChainShape(ders, file, options)
  const asn1 = await loadAsn1()
  return ders.map((der, i) => parseCertificateDer(asn1, der, ders.length > 1 ? `${file} (certificate ${i + 1})` : file))
}

function checkChainShape(ders: Buffer[], file: string, options: ChainOptions): void {
  const max = options.maxCertificates
  if (max !== undefined && ders.length > max) {
    throw invalidArgument(
      `${file} holds ${ders.length} certificates: a certificate chain holds at most ${max} (the leaf, then each issuer once).`,
      "Keep the leaf and the CAs that issued it; Apigee's runtime refuses a longer chain.",
    )
  }
  if (options.distinct) {
    const seen = new Map<string, number>()
    for (const [i, der] of ders.entries()) {
      const digest = crypto.createHash('sha256').update(der).digest('hex')
      const first = seen.get(digest)
      if (first !== undefined) {
        throw invalidArgument(
          `The certificate chain in ${file} holds the same certificate twice: certificate ${i + 1} repeats certificate ${first + 1}.`,
          'Give each certificate of the chain once: the leaf first, then its issuer, then the issuer\'s issuer.',
        )
      }
      seen.set(digest, i)
    }
  }
}

/** The certificates of a file (within the PEM input limit); --FLAG is named in errors when given. */
export async function readCertificateChain(file: string, flag?: string): Promise<Certificate[]> {
  return parseCertificateChain(readInputFile(file, 'certificate', flag), file)
}

/** The first certificate of a PEM text. */
export async function parseCertificate(input: string | Buffer, file?: string): Promise<Certificate> {
  return (await parseCertificateChain(input, file))[0]
}

function parseCertificateDer(asn1: Asn1, der: Buffer, where: string): Certificate {
  let x509: crypto.X509Certificate
  let root: Node
  try {
    x509 = new crypto.X509Certificate(der)
    root = decode(asn1, der)
  } catch {
    throw invalidArgument(`${where} is not a valid X.509 certificate.`)
  }
  try {
    const [tbs, sigAlg] = children(root)
    const fields = children(tbs)
    let i = 0
    let version = 1
    if (fields[0].tagClass === asn1.Class.CONTEXT_SPECIFIC && fields[0].type === 0) {
      version = bytesOf(children(fields[0])[0])[0] + 1
      i = 1
    }
    const serialNumber = bytesOf(fields[i])
    const [notBefore, notAfter] = children(fields[i + 3]).map((t) => readTime(asn1, t))
    const cert: Certificate = {
      pem: toPem('CERTIFICATE', der),
      der,
      x509,
      version,
      serialNumber,
      signatureOid: oidOf(asn1, children(sigAlg)[0]),
      issuer: decodeName(asn1, fields[i + 2]),
      subject: decodeName(asn1, fields[i + 4]),
      subjectDer: encode(asn1, fields[i + 4]),
      issuerDer: encode(asn1, fields[i + 2]),
      notBefore,
      notAfter,
      publicKey: x509.publicKey,
      sans: [],
    }
    const extensions = fields.slice(i + 6).find((f) => f.tagClass === asn1.Class.CONTEXT_SPECIFIC && f.type === 3)
    if (extensions) Object.assign(cert, readExtensions(asn1, children(children(extensions)[0])))
    return cert
  } catch {
    throw invalidArgument(`${where} is not a valid X.509 certificate (its structure could not be read).`)
  }
}

/**
 * Issued by itself: same name and its own key verifies the signature. (Node's checkIssued
 * also wants keyCertSign, which a self-signed leaf does not have.)
 */
export function isSelfSigned(cert: Certificate): boolean {
  return cert.issuerDer.equals(cert.subjectDer) && cert.x509.verify(cert.publicKey)
}

// -- building ----------------------------------------------------------------------------

export type CertificateProfile = {kind: 'ca'; pathLen?: number} | {kind: 'leaf'; usage: Usage} | ExplicitProfile

export interface CertificateTemplate {
  subject: DistinguishedName
  /** The subject's exact DER (a CSR's), used instead of encoding `subject`. */
  subjectDer?: Buffer
  /** The subject's public key (a KeyObject, public or private). */
  publicKey: crypto.KeyObject
  sans?: SubjectAltName[]
  profile: CertificateProfile
  /** Validity in days from now (default 365); ignored when notAfter is given. */
  days?: number
  notBefore?: Date
  notAfter?: Date
  /** Hex serial number; default 16 random bytes with the top bit clear (always positive). */
  serial?: string
}

/** The signing side: a CA certificate and its key (what `loadIssuer` returns). */
export interface Issuer {
  certificate: Certificate
  privateKey: crypto.KeyObject
}

export const MAX_DAYS = 36_525

export function checkDays(days: number | undefined, what = `validity of ${days} days`): number {
  const value = days ?? 365
  // `what` names the value as the caller's user knows it: the CLI's flag, the API's field.
  if (!Number.isInteger(value) || value < 1) throw invalidArgument(`Invalid ${what}: a certificate must be valid for at least 1 day.`)
  if (value > MAX_DAYS) throw invalidArgument(`Invalid ${what}: at most ${MAX_DAYS} days (100 years).`)
  return value
}

/** Parses a --serial value: hex (colons and a 0x prefix allowed), positive, at most 20 bytes. */
export function parseSerial(text: string): Buffer {
  const hex = text.trim().replace(/^0x/i, '').replaceAll(':', '')
  if (!/^[0-9a-fA-F]+$/.test(hex)) throw invalidArgument(`Invalid serial "${text}": use hexadecimal digits, e.g. 01 or 5f:3a:9c.`)
  const bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex')
  const magnitude = bytes.subarray(bytes.findIndex((b) => b !== 0))
  if (bytes.every((b) => b === 0)) throw invalidArgument(`Invalid serial "${text}": a serial number must be positive.`)
  // RFC 5280: at most 20 octets, sign byte included.
  if (magnitude.length > 20 || (magnitude.length === 20 && magnitude[0] & 0x80)) {
    throw invalidArgument(`Invalid serial "${text}": at most 20 bytes.`)
  }
  return magnitude
}

export function randomSerial(): Buffer {
  const bytes = crypto.randomBytes(16)
  bytes[0] &= 0x7f
  if (bytes[0] === 0) bytes[0] = 0x01 // keep 16 bytes: no leading zero to strip
  return bytes
}

/** A self-signed certificate (a CA, or Apigee's `selfsignedcert`), PEM. */
export async function createSelfSignedCertificate(template: CertificateTemplate, privateKey: crypto.KeyObject): Promise<string> {
  const asn1 = await loadAsn1()
  const ownKeyId = keyIdentifier(asn1, template.publicKey)
  return build(asn1, template, {privateKey, issuerName: encodeName(asn1, template.subject), authorityKeyId: ownKeyId})
}

/** A certificate signed by a CA, PEM. The issuer is copied byte for byte from the CA. */
export async function issueCertificate(template: CertificateTemplate, issuer: Issuer): Promise<string> {
  const asn1 = await loadAsn1()
  const ca = issuer.certificate
  return build(asn1, template, {
    privateKey: issuer.privateKey,
    issuerName: raw(asn1, ca.subjectDer),
    authorityKeyId: ca.subjectKeyId ?? keyIdentifier(asn1, ca.publicKey),
  })
}

interface Signer {
  privateKey: crypto.KeyObject
  issuerName: Node
  authorityKeyId: Buffer
}

async function build(asn1: Asn1, t: CertificateTemplate, signer: Signer): Promise<string> {
  const notBefore = t.notBefore ?? new Date(Math.floor(Date.now() / 1000) * 1000)
  const notAfter = t.notAfter ?? new Date(notBefore.getTime() + checkDays(t.days) * 86_400_000)
  if (notAfter.getTime() <= notBefore.getTime()) throw invalidArgument('A certificate must end after it starts.')
  const algorithm = signatureAlgorithm(signer.privateKey)
  const algorithmId = seq(asn1, [oid(asn1, algorithm.oid), ...(algorithm.nullParams ? [nullNode(asn1)] : [])])
  const spki = publicKeyOf(t.publicKey).export({type: 'spki', format: 'der'})
  const tbs = seq(asn1, [
    explicit(asn1, 0, smallInt(asn1, 2)),
    unsignedInt(asn1, t.serial ? parseSerial(t.serial) : randomSerial()),
    algorithmId,
    signer.issuerName,
    seq(asn1, [time(asn1, notBefore), time(asn1, notAfter)]),
    t.subjectDer ? raw(asn1, t.subjectDer) : encodeName(asn1, t.subject),
    raw(asn1, spki),
    explicit(asn1, 3, seq(asn1, extensionsFor(asn1, t, {subject: keyIdentifier(asn1, t.publicKey), authority: signer.authorityKeyId}))),
  ])
  const tbsDer = encode(asn1, tbs)
  const signature = sign(tbsDer, signer.privateKey)
  const der = encode(asn1, seq(asn1, [tbs, algorithmId, bits(asn1, signature)]))
  return toPem('CERTIFICATE', der)
}

/** The public half of a key pair, given either half. */
export function publicKeyOf(key: crypto.KeyObject): crypto.KeyObject {
  return key.type === 'private' ? crypto.createPublicKey(key) : key
}

/** RFC 5280 method 1: SHA-1 of the subjectPublicKey bits (what openssl writes as the SKI). */
export function keyIdentifier(asn1: Asn1, key: crypto.KeyObject): Buffer {
  const spki = decode(asn1, publicKeyOf(key).export({type: 'spki', format: 'der'}))
  return crypto.createHash('sha1').update(bitStringBytes(children(spki)[1])).digest()
}

/** The exact signed bytes of a certificate or CSR. */
export function signedPart(der: Buffer): Buffer {
  return firstElement(der)
}
