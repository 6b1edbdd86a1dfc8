import type * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {
  type Certificate,
  createSelfSignedCertificate,
  encodePrivateKey,
  generateKey,
  issueCertificate,
  type KeyType,
  parseCertificate,
  parseSans,
  parseSubject,
  type Usage,
} from '../../src/core/ca/index.js'

/** CAs and certificates made with the engine directly: the way to get expired ones. */
export interface TestCa {
  certificate: Certificate
  privateKey: crypto.KeyObject
  pem: string
}

export interface TestCert {
  pem: string
  privateKey: crypto.KeyObject
  certificate: Certificate
}

export async function makeCa(cn = 'test-ca', options: {keyType?: KeyType; notBefore?: Date; notAfter?: Date} = {}): Promise<TestCa> {
  const privateKey = generateKey(options.keyType ?? 'ec-p256')
  const pem = await createSelfSignedCertificate(
    {subject: parseSubject(`/CN=${cn}`), publicKey: privateKey, profile: {kind: 'ca'}, notBefore: options.notBefore, notAfter: options.notAfter},
    privateKey,
  )
  return {certificate: await parseCertificate(pem), privateKey, pem}
}

export async function makeCert(
  ca: TestCa,
  cn: string,
  options: {usage?: Usage; sans?: string; keyType?: KeyType; notBefore?: Date; notAfter?: Date} = {},
): Promise<TestCert> {
  const privateKey = generateKey(options.keyType ?? 'ec-p256')
  const pem = await issueCertificate(
    {
      subject: parseSubject(`/CN=${cn}`),
      publicKey: privateKey,
      sans: parseSans(options.sans),
      profile: {kind: 'leaf', usage: options.usage ?? 'both'},
      notBefore: options.notBefore,
      notAfter: options.notAfter,
    },
    {certificate: ca.certificate, privateKey: ca.privateKey},
  )
  return {pem, privateKey, certificate: await parseCertificate(pem)}
}

/** Writes NAME.pem and NAME.key (0600) into dir. */
export function writePair(dir: string, name: string, item: {pem: string; privateKey: crypto.KeyObject}): void {
  fs.writeFileSync(path.join(dir, `${name}.pem`), item.pem)
  fs.writeFileSync(path.join(dir, `${name}.key`), encodePrivateKey(item.privateKey), {mode: 0o600})
}

export const DAY = 86_400_000
export const LAST_YEAR = {notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - 35 * DAY)}
