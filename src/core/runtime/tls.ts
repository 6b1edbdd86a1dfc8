import {createHash} from 'node:crypto'
import * as tls from 'node:tls'

import type {TlsInfo} from '../archives/validate.js'
import {findReference} from '../references.js'
import {aliasName, isValidId, keystoreName} from '../names.js'
import type {Store} from '../store/index.js'

/**
 * The southbound TLS of a target server, built from its `sSLInfo` and the keystores' material:
 * the key alias's chain and key as the client certificate, every certificate of the
 * truststore as the trusted CAs, the protocol range, ciphers, the commonName check and SNI.
 */
export interface UpstreamTls {
  /** The options for tls.connect (key material included: never print them). */
  options: tls.ConnectionOptions
  /** Hash of the options, key material included: which connections can be shared. */
  fingerprint: string
  /** The client certificate's alias, for logs. */
  clientAlias?: string
}

/** Blob names of an alias in the store (aliases.ts writes them). */
const CERT_BLOB = 'cert.pem'
const KEY_BLOB = 'key.pem'

const VERSIONS: Record<string, tls.SecureVersion> = {
  '1': 'TLSv1',
  '1.0': 'TLSv1',
  '1.1': 'TLSv1.1',
  '1.2': 'TLSv1.2',
  '1.3': 'TLSv1.3',
}
const ORDER: tls.SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']

/** `["1.2"]` → TLS 1.2 only; `["1.2", "1.3"]` → 1.2 to 1.3 (`TLSv1.2` is read as `1.2`). */
export function protocolRange(protocols: string[] | undefined): {minVersion?: tls.SecureVersion; maxVersion?: tls.SecureVersion; unknown: string[]} {
  if (!protocols || protocols.length === 0) return {unknown: []}
  const known: tls.SecureVersion[] = []
  const unknown: string[] = []
  for (const p of protocols) {
    const v = VERSIONS[String(p).replace(/^TLSv?/i, '')]
    if (v) known.push(v)
    else unknown.push(String(p))
  }
  if (known.length === 0) return {unknown}
  const sorted = known.sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b))
  return {minVersion: sorted[0], maxVersion: sorted[sorted.length - 1], unknown}
}

interface CommonName {
  value: string
  wildcardMatch: boolean
}

function commonNameOf(value: unknown): CommonName | undefined {
  if (typeof value === 'string' && value !== '') return {value, wildcardMatch: false}
  if (value && typeof value === 'object' && typeof (value as {value?: unknown}).value === 'string') {
    const v = value as {value: string; wildcardMatch?: unknown}
    return v.value === '' ? undefined : {value: v.value, wildcardMatch: v.wildcardMatch === true}
  }
  return undefined
}

/** `*.example.com` matches one label; without wildcardMatch only the exact name. */
export function commonNameMatches(expected: CommonName, actual: string | undefined): boolean {
  if (actual === undefined) return false
  const a = actual.toLowerCase()
  const e = expected.value.toLowerCase()
  if (a === e) return true
  if (!expected.wildcardMatch) return false
  const [first, ...rest] = e.split('.')
  if (first !== '*' || rest.length < 2) return false
  const [aFirst, ...aRest] = a.split('.')
  return aFirst !== '' && aRest.join('.') === rest.join('.')
}

function commonNameCheck(expected: CommonName): tls.ConnectionOptions['checkServerIdentity'] {
  return (_host, cert) => {
    const cn = Array.isArray(cert.subject?.CN) ? cert.subject.CN[0] : cert.subject?.CN
    if (commonNameMatches(expected, cn)) return undefined
    const error = new Error(`The target's certificate common name "${cn ?? ''}" does not match sSLInfo.commonName "${expected.value}".`) as Error & {code: string}
    error.code = 'ERR_MTLSCTL_COMMON_NAME_MISMATCH'
    return error
  }
}

async function resolveKeystore(store: Store, org: string, env: string, value: string): Promise<{ks?: string; problem?: string}> {
  if (!value.startsWith('ref://')) return {ks: value}
  const ref = value.slice('ref://'.length)
  const found = isValidId('reference', ref) ? await findReference(store, org, env, ref) : undefined
  return found ? {ks: found.refers} : {problem: `reference "${value}" not found`}
}

/** The result of reading a target server's TLS settings now. */
export type TargetTls = {tls: UpstreamTls} | {problem: string}

/**
 * Builds a target server's TLS from its sSLInfo; `problem` says what is missing when the
 * material the deployment named is gone (a deleted alias, keystore, reference or truststore).
 */
export async function targetTls(store: Store, org: string, env: string, host: string, ssl: TlsInfo): Promise<TargetTls> {
  const options: tls.ConnectionOptions = {}
  const hashed: Record<string, unknown> = {host}
  let clientAlias: string | undefined
  if (ssl.clientAuthEnabled === true && ssl.keyStore && ssl.keyAlias) {
    const {ks, problem} = await resolveKeystore(store, org, env, ssl.keyStore)
    if (problem) return {problem}
    const name = aliasName(org, env, ks as string, ssl.keyAlias)
    const valid = isValidId('keystore', ks) && isValidId('alias', ssl.keyAlias)
    const [cert, key] = valid ? await Promise.all([store.getBlob(name, CERT_BLOB), store.getBlob(name, KEY_BLOB)]) : [undefined, undefined]
    if (!valid || !(await store.get(name)) || !cert || !key) return {problem: `alias "${name}" (the client certificate) not found`}
    options.cert = cert
    options.key = key
    hashed.cert = cert.toString('base64')
    hashed.key = createHash('sha256').update(key).digest('hex')
    clientAlias = name
  }
  if (ssl.trustStore) {
    const {ks, problem} = await resolveKeystore(store, org, env, ssl.trustStore)
    if (problem) return {problem}
    const full = keystoreName(org, env, ks as string)
    const ids = isValidId('keystore', ks) && (await store.get(full)) ? await store.ids(`${full}/aliases`) : []
    const ca: Buffer[] = []
    for (const id of ids) {
      const pem = await store.getBlob(aliasName(org, env, ks as string, id), CERT_BLOB)
      if (pem) ca.push(pem)
    }
    if (ca.length === 0) return {problem: `truststore "${full}" not found or empty`}
    options.ca = ca
    hashed.ca = ca.map((c) => c.toString('base64'))
  }
  options.rejectUnauthorized = ssl.ignoreValidationErrors !== true
  const range = protocolRange(ssl.protocols)
  if (range.minVersion) options.minVersion = range.minVersion
  if (range.maxVersion) options.maxVersion = range.maxVersion
  if (ssl.ciphers && ssl.ciphers.length > 0) options.ciphers = ssl.ciphers.join(':')
  const cn = commonNameOf(ssl.commonName)
  if (cn) options.checkServerIdentity = commonNameCheck(cn)
  // SNI is the host, as a name only (an IP address is not sent as SNI).
  if (!/^[\d.]+$/.test(host) && !host.includes(':')) options.servername = host
  Object.assign(hashed, {
    rejectUnauthorized: options.rejectUnauthorized,
    minVersion: options.minVersion,
    maxVersion: options.maxVersion,
    ciphers: options.ciphers,
    cn,
  })
  const fingerprint = createHash('sha256').update(JSON.stringify(hashed)).digest('hex')
  return {tls: {options, fingerprint, clientAlias}}
}
