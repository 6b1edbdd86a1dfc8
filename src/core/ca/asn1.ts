import {createRequire} from 'node:module'

import type forge from 'node-forge'

/**
 * DER through node-forge's ASN.1 codec. node-forge's X.509 layer is RSA-only and signs with
 * SHA-1 unless told otherwise, so mtlsctl builds certificates, CSRs and PKCS#12 files from
 * ASN.1 nodes itself and signs with Node's crypto. Only forge's ASN.1 module is loaded, lazily.
 *
 * forge represents bytes as "binary strings" (one char per byte); the helpers below convert
 * at the edges so the rest of the engine works with Buffers.
 */
export type Asn1 = typeof forge.asn1
export type Node = forge.asn1.Asn1

let loaded: Asn1 | undefined

/**
 * node-forge is CommonJS: `require` loads its ASN.1 module in about 5 ms where `import()`
 * takes 20-30 ms (ESM loader and CJS export scanning). Either way it is loaded on first use
 * only, never at start-up.
 */
export async function loadAsn1(): Promise<Asn1> {
  loaded ??= createRequire(import.meta.url)('node-forge/lib/asn1.js') as Asn1
  return loaded
}

/** The whole of node-forge (about 40 ms): only for what its ASN.1 module lacks. */
export async function loadForge(): Promise<typeof forge> {
  return createRequire(import.meta.url)('node-forge') as typeof forge
}

export const OID = {
  // Algorithms
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  sha384WithRSAEncryption: '1.2.840.113549.1.1.12',
  sha512WithRSAEncryption: '1.2.840.113549.1.1.13',
  sha1WithRSAEncryption: '1.2.840.113549.1.1.5',
  rsassaPss: '1.2.840.113549.1.1.10',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  ecdsaWithSHA384: '1.2.840.10045.4.3.3',
  ecdsaWithSHA512: '1.2.840.10045.4.3.4',
  ed25519: '1.3.101.112',
  sha256: '2.16.840.1.101.3.4.2.1',
  // Extensions
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  // PKCS#9 / PKCS#7 / PKCS#12
  extensionRequest: '1.2.840.113549.1.9.14',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  data: '1.2.840.113549.1.7.1',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
} as const

export const toBinary = (bytes: Buffer): string => bytes.toString('binary')
export const fromBinary = (bytes: string): Buffer => Buffer.from(bytes, 'binary')

/** Encodes a node to DER. */
export function encode(asn1: Asn1, node: Node): Buffer {
  return fromBinary(asn1.toDer(node).getBytes())
}

/** Decodes DER strictly; BIT STRING contents are left as bytes (never guessed to be ASN.1). */
export function decode(asn1: Asn1, der: Buffer): Node {
  const fromDer = asn1.fromDer as unknown as (bytes: string, options: object) => Node
  return fromDer(toBinary(der), {strict: true, parseAllBytes: true, decodeBitStrings: false})
}

// -- builders ----------------------------------------------------------------------------

export function seq(asn1: Asn1, items: Node[]): Node {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items)
}

export function set(asn1: Asn1, items: Node[]): Node {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, items)
}

export function oid(asn1: Asn1, dotted: string): Node {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(dotted).getBytes())
}

export function nullNode(asn1: Asn1): Node {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '')
}

export function bool(asn1: Asn1, value: boolean): Node {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BOOLEAN, false, value ? '\xff' : '\x00')
}

export function smallInt(asn1: Asn1, value: number): Node {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(value).getBytes())
}

/** A non-negative INTEGER from big-endian magnitude bytes (DER-minimal, sign byte added). */
export function unsignedInt(asn1: Asn1, magnitude: Buffer): Node {
  let start = 0
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++
  let bytes = magnitude.subarray(start)
  if (bytes.length === 0) bytes = Buffer.from([0])
  if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes])
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, toBinary(bytes))
}

export function octets(asn1: Asn1, bytes: Buffer): Node {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, toBinary(bytes))
}

export function bits(asn1: Asn1, bytes: Buffer, unusedBits = 0): Node {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, String.fromCharCode(unusedBits) + toBinary(bytes))
}

/** `[n] EXPLICIT` around one node. */
export function explicit(asn1: Asn1, tag: number, node: Node): Node {
  return asn1.create(asn1.Class.CONTEXT_SPECIFIC, tag, true, [node])
}

/** RFC 5280: UTCTime through 2049, GeneralizedTime from 2050. */
export function time(asn1: Asn1, date: Date): Node {
  return date.getUTCFullYear() < 2050
    ? asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(date))
    : asn1.create(asn1.Class.UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date))
}

/** Embeds bytes that are already DER (a public key info, a name copied from a CA). */
export function raw(asn1: Asn1, der: Buffer): Node {
  return decode(asn1, der)
}

// -- readers -----------------------------------------------------------------------------

export const children = (node: Node): Node[] => (Array.isArray(node.value) ? node.value : [])
export const bytesOf = (node: Node): Buffer => fromBinary(typeof node.value === 'string' ? node.value : '')

export function oidOf(asn1: Asn1, node: Node): string {
  return asn1.derToOid(typeof node.value === 'string' ? node.value : '')
}

export function readTime(asn1: Asn1, node: Node): Date {
  const text = typeof node.value === 'string' ? node.value : ''
  return node.type === asn1.Type.UTCTIME ? asn1.utcTimeToDate(text) : asn1.generalizedTimeToDate(text)
}

/** The BIT STRING's bytes without its unused-bits byte. */
export function bitStringBytes(node: Node): Buffer {
  return bytesOf(node).subarray(1)
}

/**
 * The exact bytes of the first element inside a top-level SEQUENCE (the signed part of a
 * certificate or CSR): signatures are checked over the bytes as received, never a re-encoding.
 */
export function firstElement(der: Buffer): Buffer {
  const inner = headerLength(der, 0)
  const length = contentLength(der, inner)
  return der.subarray(inner, inner + headerLength(der, inner) + length)
}

function headerLength(der: Buffer, at: number): number {
  const first = der[at + 1]
  if (first === undefined) throw new RangeError('truncated DER')
  return first < 0x80 ? 2 : 2 + (first & 0x7f)
}

function contentLength(der: Buffer, at: number): number {
  const first = der[at + 1]
  if (first < 0x80) return first
  let length = 0
  for (let i = 0; i < (first & 0x7f); i++) length = length * 256 + der[at + 2 + i]
  return length
}
