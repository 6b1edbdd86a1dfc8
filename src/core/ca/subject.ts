import * as net from 'node:net'

import {invalidArgument} from '../errors.js'
import {type Asn1, bytesOf, children, type Node, oid, oidOf, seq, set} from './asn1.js'

/**
 * Distinguished names and subject alternative names: parsed from what users type
 * (`/C=US/O=Acme/CN=host`, `DNS:a,IP:127.0.0.1`), encoded into and decoded from DER, and
 * formatted for people (`CN=host, O=Acme, C=US`).
 */
export interface NameAttribute {
  /** Short name: CN, O, OU, ... */
  type: string
  value: string
}

/** Attributes in DER order (the order typed in `/C=US/O=Acme/CN=host`). */
export type DistinguishedName = NameAttribute[]

type StringKind = 'utf8' | 'printable' | 'ia5'

const ATTRIBUTES: Record<string, {oid: string; kind: StringKind; max: number}> = {
  C: {oid: '2.5.4.6', kind: 'printable', max: 2},
  ST: {oid: '2.5.4.8', kind: 'utf8', max: 128},
  L: {oid: '2.5.4.7', kind: 'utf8', max: 128},
  O: {oid: '2.5.4.10', kind: 'utf8', max: 64},
  OU: {oid: '2.5.4.11', kind: 'utf8', max: 64},
  CN: {oid: '2.5.4.3', kind: 'utf8', max: 64},
  street: {oid: '2.5.4.9', kind: 'utf8', max: 128},
  postalCode: {oid: '2.5.4.17', kind: 'utf8', max: 40},
  serialNumber: {oid: '2.5.4.5', kind: 'printable', max: 64},
  title: {oid: '2.5.4.12', kind: 'utf8', max: 64},
  GN: {oid: '2.5.4.42', kind: 'utf8', max: 64},
  SN: {oid: '2.5.4.4', kind: 'utf8', max: 64},
  DC: {oid: '0.9.2342.19200300.100.1.25', kind: 'ia5', max: 63},
  UID: {oid: '0.9.2342.19200300.100.1.1', kind: 'utf8', max: 64},
  emailAddress: {oid: '1.2.840.113549.1.9.1', kind: 'ia5', max: 255},
}
const BY_LOWER = new Map(Object.keys(ATTRIBUTES).map((k) => [k.toLowerCase(), k]))
const BY_OID = new Map(Object.entries(ATTRIBUTES).map(([k, v]) => [v.oid, k]))
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/
const SUBJECT_HINT = "Write it as openssl does, e.g. '/C=US/O=Acme/CN=backend.example.com' (escape a '/' in a value as '\\/')."

/** Parses an openssl-style subject: `/TYPE=value/TYPE=value`, types case-insensitive. */
export function parseSubject(text: string): DistinguishedName {
  if (typeof text !== 'string' || !text.startsWith('/') || text.length < 2) {
    throw invalidArgument(`Invalid subject "${text}": it must start with "/" and hold at least one TYPE=value.`, SUBJECT_HINT)
  }
  const parts: string[] = []
  let current = ''
  for (let i = 1; i < text.length; i++) {
    const c = text[i]
    if (c === '\\' && i + 1 < text.length) {
      current += text[++i]
    } else if (c === '/') {
      parts.push(current)
      current = ''
    } else {
      current += c
    }
  }
  parts.push(current)
  return parts.map((part) => {
    const eq = part.indexOf('=')
    if (eq <= 0) throw invalidArgument(`Invalid subject "${text}": "${part}" is not TYPE=value.`, SUBJECT_HINT)
    const typed = part.slice(0, eq).trim()
    const value = part.slice(eq + 1)
    const type = BY_LOWER.get(typed.toLowerCase())
    if (!type) {
      throw invalidArgument(
        `Invalid subject "${text}": unknown attribute "${typed}".`,
        `Known attributes: ${Object.keys(ATTRIBUTES).join(', ')}.`,
      )
    }
    const spec = ATTRIBUTES[type]
    if (value.trim() === '') throw invalidArgument(`Invalid subject "${text}": ${type} has an empty value.`, SUBJECT_HINT)
    if ([...value].length > spec.max) {
      throw invalidArgument(`Invalid subject "${text}": ${type} is longer than ${spec.max} characters.`)
    }
    if (spec.kind === 'printable' && !PRINTABLE.test(value)) {
      throw invalidArgument(`Invalid subject "${text}": ${type} may hold only letters, digits, spaces and '()+,-./:=?.`)
    }
    if (spec.kind === 'ia5' && !/^[\x20-\x7e]*$/.test(value)) {
      throw invalidArgument(`Invalid subject "${text}": ${type} may hold only ASCII characters.`)
    }
    if (type === 'C' && !/^[A-Za-z]{2}$/.test(value)) {
      throw invalidArgument(`Invalid subject "${text}": C must be a two-letter country code.`)
    }
    return {type, value}
  })
}

export function commonName(dn: DistinguishedName): string | undefined {
  return [...dn].reverse().find((a) => a.type === 'CN')?.value
}

/** `CN=host, O=Acme, C=US`: most specific first, as Java, Apigee and RFC 4514 print names. */
export function formatName(dn: DistinguishedName): string {
  return [...dn]
    .reverse()
    .map((a) => `${a.type}=${a.value.replace(/([,+"\\<>;])/g, '\\$1')}`)
    .join(', ')
}

/** `/C=US/O=Acme/CN=host`: the form openssl's -subj takes. */
export function formatSubjectArgument(dn: DistinguishedName): string {
  return dn.map((a) => `/${a.type}=${a.value.replace(/([/\\])/g, '\\$1')}`).join('')
}

export function encodeName(asn1: Asn1, dn: DistinguishedName): Node {
  return seq(
    asn1,
    dn.map((attribute) => {
      const spec = ATTRIBUTES[attribute.type]
      if (!spec) throw invalidArgument(`Unknown name attribute "${attribute.type}".`)
      const type =
        spec.kind === 'printable' ? asn1.Type.PRINTABLESTRING : spec.kind === 'ia5' ? asn1.Type.IA5STRING : asn1.Type.UTF8
      const bytes = Buffer.from(attribute.value, 'utf8').toString('binary')
      return set(asn1, [seq(asn1, [oid(asn1, spec.oid), asn1.create(asn1.Class.UNIVERSAL, type, false, bytes)])])
    }),
  )
}

/** Decodes a Name; unknown attribute types print as their dotted OID. */
export function decodeName(asn1: Asn1, node: Node): DistinguishedName {
  const dn: DistinguishedName = []
  for (const rdn of children(node)) {
    for (const atv of children(rdn)) {
      const [typeNode, valueNode] = children(atv)
      const dotted = oidOf(asn1, typeNode)
      dn.push({type: BY_OID.get(dotted) ?? dotted, value: decodeString(asn1, valueNode)})
    }
  }
  return dn
}

function decodeString(asn1: Asn1, node: Node): string {
  // forge decodes a BMPString into a JS string itself.
  if (node.type === asn1.Type.BMPSTRING) return typeof node.value === 'string' ? node.value : ''
  const bytes = bytesOf(node)
  // UniversalString (28) is UTF-32BE.
  if ((node.type as number) === 28) {
    let text = ''
    for (let i = 0; i + 3 < bytes.length; i += 4) text += String.fromCodePoint(bytes.readUInt32BE(i))
    return text
  }
  return node.type === asn1.Type.UTF8 ? bytes.toString('utf8') : bytes.toString('latin1')
}

// -- subject alternative names -----------------------------------------------------------

export type SanType = 'DNS' | 'IP' | 'EMAIL' | 'URI'

export interface SubjectAltName {
  type: SanType
  value: string
}

const SAN_HINT = 'Write SANs as TYPE:value separated by commas, e.g. DNS:backend.example.com,IP:10.0.0.5,EMAIL:ops@example.com,URI:spiffe://example.org/gw.'
const DNS_NAME = /^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

/** Parses `DNS:a,IP:127.0.0.1,EMAIL:x@y,URI:spiffe://...`; several flag values may be given. */
export function parseSans(values: string | string[] | undefined): SubjectAltName[] {
  const list = (Array.isArray(values) ? values : values === undefined ? [] : [values])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
  const sans: SubjectAltName[] = []
  for (const item of list) {
    if (item === '') throw invalidArgument(`Invalid SAN list "${[values].flat().join(',')}": an entry is empty.`, SAN_HINT)
    const colon = item.indexOf(':')
    const typed = colon > 0 ? item.slice(0, colon).toUpperCase() : ''
    const value = item.slice(colon + 1)
    const type = (typed === 'EMAIL' || typed === 'RFC822' ? 'EMAIL' : typed) as SanType
    if (!['DNS', 'IP', 'EMAIL', 'URI'].includes(type)) {
      throw invalidArgument(`Invalid SAN "${item}": the type must be DNS, IP, EMAIL or URI.`, SAN_HINT)
    }
    checkSan({type, value}, item)
    if (!sans.some((s) => s.type === type && s.value === value)) sans.push({type, value})
  }
  return sans
}

function checkSan(san: SubjectAltName, item: string): void {
  const {type, value} = san
  const bad = (why: string) => invalidArgument(`Invalid SAN "${item}": ${why}.`, SAN_HINT)
  if (value === '') throw bad('the value is empty')
  switch (type) {
    case 'DNS':
      if (value.length > 253 || !DNS_NAME.test(value)) throw bad('not a DNS name')
      break
    case 'IP':
      if (net.isIP(value) === 0) throw bad('not an IPv4 or IPv6 address')
      break
    case 'EMAIL':
      if (!/^[^\s@]+@[^\s@]+$/.test(value) || !/^[\x21-\x7e]+$/.test(value)) throw bad('not an email address')
      break
    case 'URI':
      if (!/^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+$/.test(value)) throw bad('not an absolute URI')
      break
  }
}

export function formatSan(san: SubjectAltName): string {
  return `${san.type}:${san.value}`
}

const SAN_TAGS: Record<SanType, number> = {EMAIL: 1, DNS: 2, URI: 6, IP: 7}

/** The GeneralNames sequence of a subjectAltName extension. */
export function encodeSans(asn1: Asn1, sans: SubjectAltName[]): Node {
  return seq(
    asn1,
    sans.map((san) => {
      const value = san.type === 'IP' ? ipBytes(san.value).toString('binary') : san.value
      return asn1.create(asn1.Class.CONTEXT_SPECIFIC, SAN_TAGS[san.type], false, value)
    }),
  )
}

/** Decodes GeneralNames; other name forms (directoryName, otherName ...) are skipped. */
export function decodeSans(asn1: Asn1, node: Node): SubjectAltName[] {
  const sans: SubjectAltName[] = []
  for (const name of children(node)) {
    if (name.tagClass !== asn1.Class.CONTEXT_SPECIFIC || name.constructed) continue
    const bytes = bytesOf(name)
    if (name.type === 2) sans.push({type: 'DNS', value: bytes.toString('latin1')})
    else if (name.type === 1) sans.push({type: 'EMAIL', value: bytes.toString('latin1')})
    else if (name.type === 6) sans.push({type: 'URI', value: bytes.toString('latin1')})
    else if (name.type === 7) sans.push({type: 'IP', value: formatIp(bytes)})
  }
  return sans
}

function ipBytes(ip: string): Buffer {
  if (net.isIPv4(ip)) return Buffer.from(ip.split('.').map(Number))
  // Expand "::" and a trailing dotted IPv4 part, then write eight 16-bit groups.
  let text = ip
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (v4) {
    const [a, b, c, d] = v4[1].split('.').map(Number)
    text = text.slice(0, -v4[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined]
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
  const out = Buffer.alloc(16)
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2))
  return out
}

function formatIp(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.')
  if (bytes.length !== 16) return bytes.toString('hex')
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16))
  // Compress the longest run of zero groups, as RFC 5952 asks.
  let best = {start: -1, length: 0}
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === '0') j++
    if (j - i > best.length && j - i > 1) best = {start: i, length: j - i}
    i = j
  }
  if (best.start < 0) return groups.join(':')
  return `${groups.slice(0, best.start).join(':')}::${groups.slice(best.start + best.length).join(':')}`
}

/** The SAN a server certificate gets from its CN when none is given. */
export function sanFromCommonName(cn: string): SubjectAltName | undefined {
  if (net.isIP(cn) !== 0) return {type: 'IP', value: cn}
  return DNS_NAME.test(cn) ? {type: 'DNS', value: cn} : undefined
}
