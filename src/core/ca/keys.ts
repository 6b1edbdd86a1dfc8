import * as crypto from 'node:crypto'

import {invalidArgument, MtlsError} from '../errors.js'
import {type InputKind, readInput} from '../input.js'
import {OID} from './asn1.js'

/**
 * Private keys: generated with Node's native crypto (fast, unlike forge's pure-JS fallback),
 * written as PKCS#8 PEM (encrypted: PBES2, PBKDF2 with HMAC-SHA256, AES-256-CBC, which is
 * what OpenSSL 3 writes for `-aes256`), read from any PEM form openssl writes.
 */
export const KEY_TYPES = ['rsa-2048', 'rsa-3072', 'rsa-4096', 'ec-p256'] as const
export type KeyType = (typeof KEY_TYPES)[number]

export function checkKeyType(value: string): KeyType {
  if (!(KEY_TYPES as readonly string[]).includes(value)) {
    throw invalidArgument(`Invalid key type "${value}": use one of ${KEY_TYPES.join(', ')}.`)
  }
  return value as KeyType
}

/** A new private key (its public half is `crypto.createPublicKey(key)`), made on this thread. */
export function generateKey(type: KeyType = 'rsa-2048'): crypto.KeyObject {
  if (type === 'ec-p256') return crypto.generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey
  return crypto.generateKeyPairSync('rsa', {modulusLength: Number(type.slice(4)), publicExponent: 0x10001}).privateKey
}

function generateOnThreadPool(type: KeyType): Promise<crypto.KeyObject> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, _publicKey: crypto.KeyObject, privateKey: crypto.KeyObject) =>
      error ? reject(error) : resolve(privateKey)
    if (type === 'ec-p256') crypto.generateKeyPair('ec', {namedCurve: 'P-256'}, done)
    else crypto.generateKeyPair('rsa', {modulusLength: Number(type.slice(4)), publicExponent: 0x10001}, done)
  })
}

/**
 * Generations begun ahead of need by startKeyGeneration, by key type; each is taken once. One
 * map per process: bin/run.js begins a key from dist/prestart.js, the command takes it in the
 * CLI's bundle, and each bundle has its own copy of this module.
 */
const STARTED = Symbol.for('mtlsctl.startedKeys')
const started: Map<KeyType, Promise<crypto.KeyObject>> = ((globalThis as Record<symbol, unknown>)[STARTED] as
  | Map<KeyType, Promise<crypto.KeyObject>>
  | undefined) ?? new Map()
;(globalThis as Record<symbol, unknown>)[STARTED] = started

/**
 * Begins generating a key of this type on libuv's thread pool, for a later newKey(type) to
 * take. An RSA key takes 0.1-0.5 s; begun before the CLI loads, it is made on the other core
 * while oclif and the command load, instead of after them.
 */
export function startKeyGeneration(type: KeyType): void {
  if (started.has(type)) return
  const key = generateOnThreadPool(type)
  key.catch(() => {}) // a failure is reported by newKey(), which makes the key again
  started.set(type, key)
}

/**
 * A new private key, made on libuv's thread pool so the event loop keeps running; the one
 * startKeyGeneration began for this type, when there is one.
 */
export async function newKey(type: KeyType = 'rsa-2048'): Promise<crypto.KeyObject> {
  const early = started.get(type)
  started.delete(type)
  if (early) {
    try {
      return await early
    } catch {
      // made again below, where a failure is the caller's
    }
  }
  return generateOnThreadPool(type)
}

/** PKCS#8 PEM; encrypted with AES-256-CBC under PBKDF2-SHA256 when a password is given. */
export function encodePrivateKey(key: crypto.KeyObject, password?: string): string {
  if (password === undefined) return key.export({type: 'pkcs8', format: 'pem'}) as string
  if (password === '') throw invalidArgument('A key password must not be empty.')
  return key.export({type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: password}) as string
}

const KEY_BLOCK = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]*?-----END \1-----/

/** True when the PEM's private key needs a password (PKCS#8 or traditional OpenSSL encryption). */
export function isEncryptedPrivateKey(pem: string | Buffer): boolean {
  const block = KEY_BLOCK.exec(pem.toString())?.[0] ?? ''
  return block.startsWith('-----BEGIN ENCRYPTED PRIVATE KEY-----') || /Proc-Type:\s*4,ENCRYPTED/.test(block)
}

export interface ParseKeyOptions {
  password?: string
  /** Named in error messages. */
  file?: string
}

/**
 * Reads the private key out of PEM text; a file holding a certificate and its key together
 * is accepted. Errors name the file, never its contents.
 */
export function parsePrivateKey(pem: string | Buffer, options: ParseKeyOptions = {}): crypto.KeyObject {
  const where = options.file ?? 'the key'
  const block = KEY_BLOCK.exec(pem.toString())?.[0]
  if (!block) {
    throw invalidArgument(
      `${where} holds no PEM private key ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY" or "ENCRYPTED PRIVATE KEY").`,
    )
  }
  const encrypted = isEncryptedPrivateKey(block)
  if (encrypted && (options.password === undefined || options.password === '')) {
    throw invalidArgument(`The private key in ${where} is encrypted and no password was given.`)
  }
  if (encrypted) checkKeyIterations(block, where)
  let key: crypto.KeyObject
  try {
    key = crypto.createPrivateKey(encrypted ? {key: block, format: 'pem', passphrase: options.password} : {key: block, format: 'pem'})
  } catch {
    // A wrong password shows as a padding or decoding failure of the decrypted bytes.
    if (encrypted) throw invalidArgument(`Wrong password for the private key in ${where}.`)
    throw invalidArgument(`${where} holds a malformed private key.`)
  }
  signatureAlgorithm(key, where)
  return key
}

/**
 * The most key-derivation iterations an encrypted key may ask for. Tools write 2048 (openssl)
 * to 600,000; the count is the file's to choose and OpenSSL runs it on this thread, so a
 * crafted key asking for 2^31 would keep the process busy for hours.
 */
export const MAX_KEY_ITERATIONS = 10_000_000

/** Refuses an ENCRYPTED PRIVATE KEY whose PBKDF2/PBE parameters ask for too many iterations. */
function checkKeyIterations(block: string, where: string): void {
  if (!block.startsWith('-----BEGIN ENCRYPTED PRIVATE KEY-----')) return // traditional PEM: one iteration
  const der = Buffer.from(block.replace(/-----[^-]+-----|\s/g, ''), 'base64')
  const iterations = derIterationCounts(der)
  if (iterations.length === 0) {
    // BER's indefinite lengths (which OpenSSL accepts) or anything else the walk cannot read
    // would hide the count: a key whose count cannot be checked is not opened.
    throw invalidArgument(
      `The private key in ${where} is encrypted with parameters that cannot be read (an encrypted PKCS#8 key must be DER-encoded).`,
      'Encrypt the key again with the default count (openssl pkcs8 -topk8 -v2 aes-256-cbc).',
    )
  }
  const most = Math.max(0, ...iterations)
  if (most > MAX_KEY_ITERATIONS) {
    throw invalidArgument(
      `The private key in ${where} asks for ${most > 1e12 ? 'more than a trillion' : most.toLocaleString('en-US')} key-derivation iterations: at most ${MAX_KEY_ITERATIONS.toLocaleString('en-US')} are accepted.`,
      'Encrypt the key again with the default count (openssl pkcs8 -topk8 -v2 aes-256-cbc).',
    )
  }
}

/**
 * Iteration counts in a DER structure: every INTEGER that follows an OCTET STRING (the salt)
 * as the first two elements of a SEQUENCE, which is how PBKDF2, PBES1 and PKCS#12 PBE write
 * their parameters. Malformed DER yields what was found before it; the parse proper is Node's.
 * With `nested` (a PKCS#12 file), the walk also goes into `[0]` wrappers and into OCTET
 * STRINGs that hold a whole DER SEQUENCE, where PKCS#12 keeps its SafeContents and bags.
 */
export function derIterationCounts(der: Buffer, options: {nested?: boolean} = {}): number[] {
  const found: number[] = []
  const maxDepth = options.nested ? 24 : 8
  const walk = (start: number, end: number, depth: number): void => {
    let i = start
    let previous: number | undefined
    let index = 0
    while (i < end && depth < maxDepth) {
      const tag = der[i]
      let length = der[i + 1]
      let at = i + 2
      if (length === undefined) return
      if (length & 0x80) {
        const n = length & 0x7f
        if (n === 0 || n > 4 || at + n > end) return
        length = 0
        for (let k = 0; k < n; k++) length = length * 256 + der[at + k]
        at += n
      }
      if (at + length > end) return
      if (tag === 0x02 && index === 1 && previous === 0x04) {
        const bytes = der.subarray(at, at + length)
        found.push(bytes.length > 6 ? Number.MAX_SAFE_INTEGER : bytes.reduce((v, b) => v * 256 + b, 0))
      }
      if (tag === 0x30 || (options.nested && tag === 0xa0)) walk(at, at + length, depth + 1)
      else if (options.nested && tag === 0x04 && length > 2 && der[at] === 0x30 && spansWhole(der, at, at + length)) walk(at, at + length, depth + 1)
      previous = tag
      index++
      i = at + length
    }
  }
  walk(0, der.length, 0)
  return found
}

/** Whether [start, end) is exactly one definite-length DER element (so an OCTET STRING holds DER, not a salt). */
function spansWhole(der: Buffer, start: number, end: number): boolean {
  let length = der[start + 1]
  let at = start + 2
  if (length === undefined) return false
  if (length & 0x80) {
    const n = length & 0x7f
    if (n === 0 || n > 4 || at + n > end) return false
    length = 0
    for (let k = 0; k < n; k++) length = length * 256 + der[at + k]
    at += n
  }
  return at + length === end
}

/** Reads a key file; unreadable files are INVALID_ARGUMENT naming the file (and --FLAG). */
export function readPrivateKey(file: string, password?: string, flag?: string): crypto.KeyObject {
  return parsePrivateKey(readInputFile(file, 'key', flag), {file, password})
}

/**
 * Reads a user's input file through input.ts's readInput: within the limit of its kind (a PEM
 * file by default: a key, certificate, CSR or chain), a regular file or a pipe only. Errors are
 * INVALID_ARGUMENT naming the file and, when given, the flag that named it.
 */
export function readInputFile(file: string, what: string, flag?: string, kind: InputKind = 'pem'): Buffer {
  return readInput(file, {what, kind, ...(flag ? {flag} : {})})
}

/** `RSA Public Key, 2048 bits` / `EC Public Key, 256 bits`: the Apigee certInfo wording. */
export function describePublicKey(key: crypto.KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {}
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return `RSA Public Key, ${details.modulusLength} bits`
    case 'ec':
      return `EC Public Key, ${curveBits(details.namedCurve)} bits`
    case 'ed25519':
      return 'Ed25519 Public Key, 256 bits'
    default:
      return `${(key.asymmetricKeyType ?? 'unknown').toUpperCase()} Public Key`
  }
}

function curveBits(curve: string | undefined): number {
  return {prime256v1: 256, 'P-256': 256, secp384r1: 384, 'P-384': 384, secp521r1: 521, 'P-521': 521}[curve ?? ''] ?? 0
}

/** Whether a private key is the other half of a public key (a certificate's or a CSR's). */
export function keysMatch(privateKey: crypto.KeyObject, publicKey: crypto.KeyObject): boolean {
  const derived = crypto.createPublicKey(privateKey).export({type: 'spki', format: 'der'})
  return derived.equals(publicKey.export({type: 'spki', format: 'der'}))
}

export interface SignatureAlgorithm {
  oid: string
  /** RSA algorithm identifiers carry an explicit NULL parameter; ECDSA and Ed25519 none. */
  nullParams: boolean
  /** Digest for crypto.sign; null for Ed25519. */
  hash: 'sha256' | 'sha384' | null
}

/** How a CA key signs: always SHA-256 for RSA and P-256 (never forge's SHA-1 default). */
export function signatureAlgorithm(key: crypto.KeyObject, where = 'the key'): SignatureAlgorithm {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return {oid: OID.sha256WithRSAEncryption, nullParams: true, hash: 'sha256'}
    case 'ec':
      return curveBits(key.asymmetricKeyDetails?.namedCurve) >= 384
        ? {oid: OID.ecdsaWithSHA384, nullParams: false, hash: 'sha384'}
        : {oid: OID.ecdsaWithSHA256, nullParams: false, hash: 'sha256'}
    case 'ed25519':
      return {oid: OID.ed25519, nullParams: false, hash: null}
    default:
      throw new MtlsError('INVALID_ARGUMENT', `${where} is a ${key.asymmetricKeyType} key: use an RSA, EC or Ed25519 key.`)
  }
}

export function sign(data: Buffer, key: crypto.KeyObject): Buffer {
  return crypto.sign(signatureAlgorithm(key).hash, data, key)
}

/**
 * Signature algorithms by OID: the hash to verify with (null: none, Ed25519; absent: not one
 * mtlsctl verifies) and the Apigee certInfo sigAlgName wording.
 */
const SIGNATURE_ALGORITHMS = new Map<string, {hash?: string | null; name: string}>([
  [OID.sha256WithRSAEncryption, {hash: 'sha256', name: 'SHA256-RSA'}],
  [OID.sha384WithRSAEncryption, {hash: 'sha384', name: 'SHA384-RSA'}],
  [OID.sha512WithRSAEncryption, {hash: 'sha512', name: 'SHA512-RSA'}],
  [OID.sha1WithRSAEncryption, {hash: 'sha1', name: 'SHA1-RSA'}],
  [OID.rsassaPss, {name: 'RSASSA-PSS'}],
  [OID.ecdsaWithSHA256, {hash: 'sha256', name: 'SHA256-ECDSA'}],
  [OID.ecdsaWithSHA384, {hash: 'sha384', name: 'SHA384-ECDSA'}],
  [OID.ecdsaWithSHA512, {hash: 'sha512', name: 'SHA512-ECDSA'}],
  [OID.ed25519, {hash: null, name: 'Ed25519'}],
])

/** Hash of a signature algorithm OID, for verifying what others signed. */
export function hashOfSignatureOid(oid: string): string | null | undefined {
  return SIGNATURE_ALGORITHMS.get(oid)?.hash
}

/** `SHA256-RSA`, `SHA256-ECDSA`: the Apigee certInfo sigAlgName wording. */
export function signatureAlgorithmName(oid: string): string {
  return SIGNATURE_ALGORITHMS.get(oid)?.name ?? oid
}
