import * as net from 'node:net'

import {EXT_KEY_USAGE_OIDS, KEY_USAGE_BITS} from '../ca/certificates.js'
import type {DistinguishedName, SubjectAltName} from '../ca/subject.js'
import {invalidArgument} from '../errors.js'
import {type CertificateResource, where} from './manifests.js'

/**
 * What cert-manager would issue for a Certificate: its names, subject, lifetime, usages and
 * key, with cert-manager's defaults and its webhook's refusals (pkg/util/pki, the validation
 * package of cert-manager.io/v1).
 */

export const DEFAULT_DURATION_MS = 2160 * 3_600_000
const MIN_DURATION_MS = 3_600_000
const MIN_RENEW_BEFORE_MS = 5 * 60_000

type KeyUsageBit = (typeof KEY_USAGE_BITS)[number]

/** cert-manager's usage strings → Go's x509.KeyUsage bit (apiutil.KeyUsageType). */
export const KEY_USAGES: Record<string, KeyUsageBit> = {
  signing: 'digitalSignature',
  'digital signature': 'digitalSignature',
  'content commitment': 'nonRepudiation',
  'key encipherment': 'keyEncipherment',
  'key agreement': 'keyAgreement',
  'data encipherment': 'dataEncipherment',
  'cert sign': 'keyCertSign',
  'crl sign': 'cRLSign',
  'encipher only': 'encipherOnly',
  'decipher only': 'decipherOnly',
}

/** cert-manager's usage strings → extKeyUsage OIDs (apiutil.ExtKeyUsageType). */
export const EXT_KEY_USAGES: Record<string, string> = {
  any: EXT_KEY_USAGE_OIDS.any,
  'server auth': EXT_KEY_USAGE_OIDS.serverAuth,
  'client auth': EXT_KEY_USAGE_OIDS.clientAuth,
  'code signing': EXT_KEY_USAGE_OIDS.codeSigning,
  'email protection': EXT_KEY_USAGE_OIDS.emailProtection,
  's/mime': EXT_KEY_USAGE_OIDS.emailProtection,
  'ipsec end system': EXT_KEY_USAGE_OIDS.ipsecEndSystem,
  'ipsec tunnel': EXT_KEY_USAGE_OIDS.ipsecTunnel,
  'ipsec user': EXT_KEY_USAGE_OIDS.ipsecUser,
  timestamping: EXT_KEY_USAGE_OIDS.timeStamping,
  'ocsp signing': EXT_KEY_USAGE_OIDS.OCSPSigning,
  'microsoft sgc': EXT_KEY_USAGE_OIDS.microsoftSGC,
  'netscape sgc': EXT_KEY_USAGE_OIDS.netscapeSGC,
}

export const DEFAULT_USAGES = ['digital signature', 'key encipherment']

export interface PrivateKeySpec {
  algorithm: 'RSA' | 'ECDSA' | 'Ed25519'
  /** RSA modulus bits or ECDSA curve bits; 0 for Ed25519. */
  size: number
  encoding: 'PKCS1' | 'PKCS8'
  /** Always unless set: cert-manager 1.18's default. */
  rotationPolicy: 'Never' | 'Always'
}

export interface IssuanceSpec {
  subject: DistinguishedName
  /** DNS, email, IP, URI: the order Go's x509 writes them. */
  sans: SubjectAltName[]
  durationMs: number
  /** Undefined when not set (one third of the lifetime). */
  renewBeforeMs?: number
  isCA: boolean
  /** The usage strings in effect (the defaults when none are given). */
  usages: string[]
  keyUsage: KeyUsageBit[]
  extKeyUsage: string[]
  privateKey: PrivateKeySpec
  issuerRef: {name: string; kind: 'Issuer' | 'ClusterIssuer'; group: string}
}

/** A Go duration (`2160h`, `1h30m`, `90m0s`) in milliseconds. */
export function parseGoDuration(text: string): number | undefined {
  const units: Record<string, number> = {h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 1e-3, 'µs': 1e-3, ns: 1e-6}
  if (!/^([0-9]+(\.[0-9]+)?(h|ms|m|s|us|µs|ns))+$/.test(text)) return text === '0' ? 0 : undefined
  let total = 0
  for (const m of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(h|ms|m|s|us|µs|ns)/g)) total += Number(m[1]) * units[m[2]]
  return total
}

/** `2160h0m0s`: how Go prints a duration (hours, minutes, seconds). */
export function formatGoDuration(ms: number): string {
  const s = Math.round(ms / 1000)
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m${s % 60}s`
}

export function issuanceSpec(crt: CertificateResource): IssuanceSpec {
  const at = `${where(crt.source)}: Certificate ${crt.namespace}/${crt.name}`
  const spec = crt.spec
  const bad = (field: string, why: string) => invalidArgument(`${at}: spec.${field} ${why}.`)

  if (spec.literalSubject !== undefined && spec.literalSubject !== '') {
    if (spec.commonName) throw bad('commonName', 'must not be set with literalSubject')
    if (spec.subject && Object.values(spec.subject).some((v) => (Array.isArray(v) ? v.length > 0 : v))) {
      throw bad('subject', 'must not be set with literalSubject')
    }
  }
  const subject = spec.literalSubject ? parseLiteralSubject(spec.literalSubject, (why) => bad('literalSubject', why)) : structuredSubject(crt)
  const sans: SubjectAltName[] = [
    ...(spec.dnsNames ?? []).map((value) => ({type: 'DNS' as const, value})),
    ...(spec.emailAddresses ?? []).map((value) => ({type: 'EMAIL' as const, value})),
    ...(spec.ipAddresses ?? []).map((value, i) => {
      if (net.isIP(value) === 0) throw bad(`ipAddresses[${i}]`, `"${value}" is not an IP address`)
      return {type: 'IP' as const, value}
    }),
    ...(spec.uris ?? []).map((value, i) => {
      if (!/^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+$/.test(value)) throw bad(`uris[${i}]`, `"${value}" is not an absolute URI`)
      return {type: 'URI' as const, value}
    }),
  ]
  if (!subject.some((a) => a.type === 'CN') && sans.length === 0) {
    throw invalidArgument(
      `${at}: at least one of commonName (from the commonName field or from a literalSubject), dnsNames, emailAddresses, ipAddresses or uris must be set.`,
    )
  }

  const durationMs = spec.duration === undefined ? DEFAULT_DURATION_MS : parseGoDuration(spec.duration)
  if (durationMs === undefined) throw bad('duration', `"${spec.duration}" is not a duration (e.g. 2160h, 90m)`)
  if (durationMs < MIN_DURATION_MS) throw bad('duration', `${spec.duration} is shorter than cert-manager's minimum, 1h`)
  let renewBeforeMs: number | undefined
  if (spec.renewBefore !== undefined) {
    renewBeforeMs = parseGoDuration(spec.renewBefore)
    if (renewBeforeMs === undefined) throw bad('renewBefore', `"${spec.renewBefore}" is not a duration (e.g. 720h, 30m)`)
    if (renewBeforeMs < MIN_RENEW_BEFORE_MS) throw bad('renewBefore', `${spec.renewBefore} is shorter than cert-manager's minimum, 5m`)
  }

  const isCA = spec.isCA === true
  const usages = spec.usages && spec.usages.length > 0 ? [...spec.usages] : [...DEFAULT_USAGES]
  const keyUsage = new Set<KeyUsageBit>(isCA ? ['keyCertSign'] : [])
  const extKeyUsage: string[] = []
  for (const [i, usage] of usages.entries()) {
    if (KEY_USAGES[usage]) keyUsage.add(KEY_USAGES[usage])
    else if (EXT_KEY_USAGES[usage]) extKeyUsage.push(EXT_KEY_USAGES[usage])
    else throw bad(`usages[${i}]`, `"${usage}" is not a cert-manager usage`)
  }

  const algorithm = spec.privateKey?.algorithm ?? 'RSA'
  let size = spec.privateKey?.size ?? (algorithm === 'RSA' ? 2048 : algorithm === 'ECDSA' ? 256 : 0)
  if (algorithm === 'RSA' && (size < 2048 || size > 8192)) throw bad('privateKey.size', `${size} is not an RSA key size cert-manager accepts (2048 to 8192)`)
  if (algorithm === 'ECDSA' && ![256, 384, 521].includes(size)) throw bad('privateKey.size', `${size} is not an ECDSA curve size (256, 384 or 521)`)
  if (algorithm === 'Ed25519') size = 0

  const ref = spec.issuerRef
  const kind = ref.kind ?? 'Issuer'
  const group = ref.group ?? 'cert-manager.io'
  if (group !== 'cert-manager.io') {
    throw bad('issuerRef.group', `"${group}" names an external issuer: mtlsctl issues with cert-manager.io Issuers and ClusterIssuers only`)
  }
  if (kind !== 'Issuer' && kind !== 'ClusterIssuer') throw bad('issuerRef.kind', `"${kind}" is not Issuer or ClusterIssuer`)

  return {
    subject,
    sans,
    durationMs,
    renewBeforeMs,
    isCA,
    usages,
    // Go writes the bits in bit order.
    keyUsage: KEY_USAGE_BITS.filter((b) => keyUsage.has(b)),
    extKeyUsage,
    privateKey: {algorithm, size, encoding: spec.privateKey?.encoding ?? 'PKCS1', rotationPolicy: spec.privateKey?.rotationPolicy ?? 'Always'},
    issuerRef: {name: ref.name, kind, group},
  }
}

/** Go's pkix.Name order: C, ST, L, street, postalCode, O, OU, CN, serialNumber. */
function structuredSubject(crt: CertificateResource): DistinguishedName {
  const s = crt.spec.subject ?? {}
  const dn: DistinguishedName = []
  const add = (type: string, values: string[] | undefined) => {
    for (const value of values ?? []) if (value !== '') dn.push({type, value})
  }
  add('C', s.countries)
  add('ST', s.provinces)
  add('L', s.localities)
  add('street', s.streetAddresses)
  add('postalCode', s.postalCodes)
  add('O', s.organizations)
  add('OU', s.organizationalUnits)
  if (crt.spec.commonName) dn.push({type: 'CN', value: crt.spec.commonName})
  if (s.serialNumber) dn.push({type: 'serialNumber', value: s.serialNumber})
  return dn
}

const LITERAL_TYPES: Record<string, string> = {
  CN: 'CN', C: 'C', O: 'O', OU: 'OU', L: 'L', ST: 'ST', STREET: 'street', POSTALCODE: 'postalCode',
  SERIALNUMBER: 'serialNumber', DC: 'DC', UID: 'UID', EMAILADDRESS: 'emailAddress', TITLE: 'title', GN: 'GN', SN: 'SN',
}

/**
 * An RFC 4514 string (`CN=app,O=Acme,C=US`: most specific first) as a DER-ordered name,
 * written exactly as given, as cert-manager does with literalSubject.
 */
function parseLiteralSubject(text: string, bad: (why: string) => Error): DistinguishedName {
  const rdns: string[] = []
  let current = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '\\' && i + 1 < text.length) current += text[i++] + text[i]
    else if (c === ',' || c === '+') {
      rdns.push(current)
      current = ''
    } else current += c
  }
  rdns.push(current)
  const dn = rdns.map((part) => {
    const eq = part.indexOf('=')
    if (eq <= 0) throw bad(`"${text}" is not an RFC 4514 name ("${part}" is not TYPE=value)`)
    const typed = part.slice(0, eq).trim().toUpperCase()
    const type = LITERAL_TYPES[typed]
    if (!type) throw bad(`"${text}" holds an attribute mtlsctl does not know ("${part.slice(0, eq).trim()}")`)
    const value = part.slice(eq + 1).trim().replace(/\\(.)/g, '$1')
    return {type, value}
  })
  return dn.reverse()
}
