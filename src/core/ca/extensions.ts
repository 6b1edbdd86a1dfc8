import type * as crypto from 'node:crypto'

import {type Asn1, bits, bitStringBytes, bool, bytesOf, children, decode, encode, type Node, OID, octets, oid, oidOf, seq, smallInt} from './asn1.js'
import type {CertificateProfile} from './certificates.js'
import {decodeSans, encodeSans, type SubjectAltName} from './subject.js'

/**
 * X.509 v3 extensions: the ones mtlsctl writes (basicConstraints, keyUsage, extKeyUsage,
 * key identifiers, subjectAltName) and reads back from any certificate.
 */
export interface CertificateExtensions {
  basicConstraints?: {ca: boolean; pathLen?: number}
  keyUsage?: string[]
  extKeyUsage?: string[]
  sans: SubjectAltName[]
  subjectKeyId?: Buffer
  authorityKeyId?: Buffer
}

/** What decides a new certificate's extensions. */
export interface ExtensionSpec {
  profile: CertificateProfile
  publicKey: crypto.KeyObject
  /** The subject's attributes: an empty subject makes the SAN extension critical. */
  subject: readonly unknown[]
  sans?: SubjectAltName[]
}

export const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const

/**
 * Extensions spelled out by the caller, laid out as Go's crypto/x509 writes them (what
 * cert-manager issues): keyUsage (critical) only when a bit is set, extKeyUsage,
 * basicConstraints (critical), subjectKeyIdentifier for a CA only, authorityKeyIdentifier only
 * when signed by another certificate, then subjectAltName.
 */
export interface ExplicitProfile {
  kind: 'explicit'
  ca: boolean
  keyUsage: (typeof KEY_USAGE_BITS)[number][]
  /** Dotted OIDs, in order. */
  extKeyUsage: string[]
  selfSigned: boolean
}

/** extKeyUsage OIDs by the names cert-manager's usages map to (Go's x509.ExtKeyUsage). */
export const EXT_KEY_USAGE_OIDS = {
  any: '2.5.29.37.0',
  serverAuth: OID.serverAuth,
  clientAuth: OID.clientAuth,
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  ipsecEndSystem: '1.3.6.1.5.5.7.3.5',
  ipsecTunnel: '1.3.6.1.5.5.7.3.6',
  ipsecUser: '1.3.6.1.5.5.7.3.7',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
  microsoftSGC: '1.3.6.1.4.1.311.10.3.3',
  netscapeSGC: '2.16.840.1.113730.4.1',
} as const

const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.5': 'ipsecEndSystem',
  '1.3.6.1.5.5.7.3.6': 'ipsecTunnel',
  '1.3.6.1.5.5.7.3.7': 'ipsecUser',
  '1.3.6.1.4.1.311.10.3.3': 'microsoftSGC',
  '2.16.840.1.113730.4.1': 'netscapeSGC',
  [OID.serverAuth]: 'serverAuth',
  [OID.clientAuth]: 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
}

/** The extensions mtlsctl reads (others are ignored). */
export function readExtensions(asn1: Asn1, extensions: Node[]): CertificateExtensions {
  const cert: CertificateExtensions = {sans: []}
  for (const extension of extensions) {
    const parts = children(extension)
    const id = oidOf(asn1, parts[0])
    const value = decode(asn1, bytesOf(parts[parts.length - 1]))
    switch (id) {
      case OID.basicConstraints: {
        const [first, second] = children(value)
        const ca = first?.type === asn1.Type.BOOLEAN ? bytesOf(first)[0] !== 0 : false
        const lenNode = first?.type === asn1.Type.INTEGER ? first : second
        cert.basicConstraints = {ca, ...(lenNode ? {pathLen: asn1.derToInteger(lenNode.value as string)} : {})}
        break
      }
      case OID.keyUsage: {
        const bytes = bitStringBytes(value)
        cert.keyUsage = KEY_USAGE_BITS.filter((_, bit) => ((bytes[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0)
        break
      }
      case OID.extKeyUsage:
        cert.extKeyUsage = children(value).map((n) => {
          const dotted = oidOf(asn1, n)
          return EKU_NAMES[dotted] ?? dotted
        })
        break
      case OID.subjectAltName:
        cert.sans = decodeSans(asn1, value)
        break
      case OID.subjectKeyIdentifier:
        cert.subjectKeyId = bytesOf(value)
        break
      case OID.authorityKeyIdentifier: {
        const keyId = children(value).find((n) => n.tagClass === asn1.Class.CONTEXT_SPECIFIC && n.type === 0)
        if (keyId) cert.authorityKeyId = bytesOf(keyId)
        break
      }
    }
  }
  return cert
}

// -- writing -----------------------------------------------------------------------

function extension(asn1: Asn1, id: string, critical: boolean, value: Node): Node {
  return seq(asn1, [oid(asn1, id), ...(critical ? [bool(asn1, true)] : []), octets(asn1, encode(asn1, value))])
}

function keyUsageNode(asn1: Asn1, names: readonly (typeof KEY_USAGE_BITS)[number][]): Node {
  const bitsSet = names.map((n) => KEY_USAGE_BITS.indexOf(n))
  const last = Math.max(...bitsSet)
  const bytes = Buffer.alloc((last >> 3) + 1)
  for (const bit of bitsSet) bytes[bit >> 3] |= 0x80 >> (bit & 7)
  // DER drops trailing zero bits of a named bit list.
  return bits(asn1, bytes, 7 - (last & 7))
}

/** The extensions of a new certificate: a CA's, or a TLS client/server leaf's. */
export function extensionsFor(asn1: Asn1, t: ExtensionSpec, keyIds: {subject: Buffer; authority: Buffer}): Node[] {
  if (t.profile.kind === 'explicit') return explicitExtensions(asn1, t, t.profile, keyIds)
  const list: Node[] = []
  if (t.profile.kind === 'ca') {
    const pathLen = t.profile.pathLen
    list.push(
      extension(asn1, OID.basicConstraints, true, seq(asn1, [bool(asn1, true), ...(pathLen === undefined ? [] : [smallInt(asn1, pathLen)])])),
      extension(asn1, OID.keyUsage, true, keyUsageNode(asn1, ['keyCertSign', 'cRLSign'])),
    )
  } else {
    const rsa = t.publicKey.asymmetricKeyType === 'rsa'
    const ekus = {client: [OID.clientAuth], server: [OID.serverAuth], both: [OID.serverAuth, OID.clientAuth]}[t.profile.usage]
    list.push(
      extension(asn1, OID.basicConstraints, true, seq(asn1, [])),
      extension(asn1, OID.keyUsage, true, keyUsageNode(asn1, rsa ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'])),
      extension(asn1, OID.extKeyUsage, false, seq(asn1, ekus.map((e) => oid(asn1, e)))),
    )
  }
  list.push(extension(asn1, OID.subjectKeyIdentifier, false, octets(asn1, keyIds.subject)))
  list.push(
    extension(asn1, OID.authorityKeyIdentifier, false, seq(asn1, [asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, keyIds.authority.toString('binary'))])),
  )
  if (t.sans && t.sans.length > 0) {
    // RFC 5280: the SAN extension is critical when the subject is empty.
    list.push(extension(asn1, OID.subjectAltName, t.subject.length === 0, encodeSans(asn1, t.sans)))
  }
  return list
}

function explicitExtensions(asn1: Asn1, t: ExtensionSpec, p: ExplicitProfile, keyIds: {subject: Buffer; authority: Buffer}): Node[] {
  const list: Node[] = []
  if (p.keyUsage.length > 0) list.push(extension(asn1, OID.keyUsage, true, keyUsageNode(asn1, p.keyUsage)))
  if (p.extKeyUsage.length > 0) list.push(extension(asn1, OID.extKeyUsage, false, seq(asn1, p.extKeyUsage.map((e) => oid(asn1, e)))))
  list.push(extension(asn1, OID.basicConstraints, true, seq(asn1, p.ca ? [bool(asn1, true)] : [])))
  if (p.ca) list.push(extension(asn1, OID.subjectKeyIdentifier, false, octets(asn1, keyIds.subject)))
  if (!p.selfSigned) {
    list.push(
      extension(asn1, OID.authorityKeyIdentifier, false, seq(asn1, [asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, keyIds.authority.toString('binary'))])),
    )
  }
  if (t.sans && t.sans.length > 0) list.push(extension(asn1, OID.subjectAltName, t.subject.length === 0, encodeSans(asn1, t.sans)))
  return list
}
