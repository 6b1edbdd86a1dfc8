import * as path from 'node:path'

import {invalidArgument} from '../errors.js'
import {checkId} from '../names.js'
import type {Store} from '../store/index.js'
import {loadAsn1} from './asn1.js'
import {checkDays, createSelfSignedCertificate, parseCertificate} from './certificates.js'
import {checkOutputs, writeOutputs} from './files.js'
import {checkKeyType, encodePrivateKey, newKey} from './keys.js'
import {caExists, caRecord, caResourceName, type CertificateAuthority, findCa} from './registry.js'
import {parseSubject} from './subject.js'

export interface CreateCaOptions {
  name: string
  /** openssl-style subject, e.g. `/CN=my-ca`. */
  subject: string
  days?: number
  keyType?: string
  /** basicConstraints pathLenConstraint; none when undefined. */
  pathLen?: number
  /** Where NAME.key and NAME.pem go (default: the current folder). */
  outDir?: string
  /** Encrypts NAME.key (PKCS#8, AES-256-CBC, PBKDF2-SHA256). */
  keyPassword?: string
  /** Overwrite existing files and replace an existing registration. */
  force?: boolean
  /** Validity window override (tests and engine users; the CLI uses days). */
  notBefore?: Date
  notAfter?: Date
}

/**
 * `ca create`: a root CA key and self-signed certificate written as NAME.key (0600) and
 * NAME.pem, and registered as `cas/NAME`. Every input is checked before a key is made, and
 * nothing is written when any check fails.
 */
export async function createCa(store: Store, options: CreateCaOptions): Promise<CertificateAuthority> {
  const name = checkId('ca', options.name)
  const subject = parseSubject(options.subject)
  const days = checkDays(options.days)
  const keyType = checkKeyType(options.keyType ?? 'rsa-2048')
  if (options.pathLen !== undefined && (!Number.isInteger(options.pathLen) || options.pathLen < 0)) {
    throw invalidArgument(`Invalid --path-len ${options.pathLen}: use 0 or more.`)
  }
  const dir = path.resolve(options.outDir ?? '.')
  const keyFile = path.join(dir, `${name}.key`)
  const certFile = path.join(dir, `${name}.pem`)
  const force = options.force ?? false
  if (!force && (await findCa(store, name))) throw caExists(name)
  checkOutputs([{path: keyFile, data: ''}, {path: certFile, data: ''}], force)

  // The key is made on libuv's thread pool: the ASN.1 codec loads meanwhile.
  const [key] = await Promise.all([newKey(keyType), loadAsn1()])
  const pem = await createSelfSignedCertificate(
    {subject, publicKey: key, profile: {kind: 'ca', pathLen: options.pathLen}, days, notBefore: options.notBefore, notAfter: options.notAfter},
    key,
  )
  const record = caRecord(name, await parseCertificate(pem), {certFile, keyFile, keyEncrypted: options.keyPassword !== undefined})
  const keyPem = encodePrivateKey(key, options.keyPassword)
  return store.withLock(async () => {
    if (!force && (await findCa(store, name))) throw caExists(name)
    writeOutputs(
      [
        {path: keyFile, data: keyPem, secret: true},
        {path: certFile, data: pem},
      ],
      force,
    )
    await store.put(caResourceName(name), record)
    return record
  })
}
