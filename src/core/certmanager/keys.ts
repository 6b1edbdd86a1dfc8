import * as crypto from 'node:crypto'

import {newKey} from '../ca/keys.js'
import type {PrivateKeySpec} from './spec.js'

/** Private keys as cert-manager makes and encodes them (pkg/util/pki/generate.go). */

const CURVES: Record<number, string> = {256: 'P-256', 384: 'P-384', 521: 'P-521'}

/** A new key on libuv's thread pool (several are made at once, on every core). */
export function generatePrivateKey(spec: PrivateKeySpec): Promise<crypto.KeyObject> {
  if (spec.algorithm === 'RSA' && [2048, 3072, 4096].includes(spec.size)) return newKey(`rsa-${spec.size}` as 'rsa-2048')
  if (spec.algorithm === 'ECDSA' && spec.size === 256) return newKey('ec-p256')
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, _pub: crypto.KeyObject, key: crypto.KeyObject) => (error ? reject(error) : resolve(key))
    if (spec.algorithm === 'RSA') crypto.generateKeyPair('rsa', {modulusLength: spec.size, publicExponent: 0x10001}, done)
    else if (spec.algorithm === 'ECDSA') crypto.generateKeyPair('ec', {namedCurve: CURVES[spec.size]}, done)
    else crypto.generateKeyPair('ed25519', {}, done)
  })
}

/** PKCS1 (the default): `RSA PRIVATE KEY`, `EC PRIVATE KEY`; Ed25519 is always PKCS#8. */
export function encodeKey(key: crypto.KeyObject, encoding: PrivateKeySpec['encoding']): string {
  if (encoding === 'PKCS8' || key.asymmetricKeyType === 'ed25519') return key.export({type: 'pkcs8', format: 'pem'}) as string
  return key.export({type: key.asymmetricKeyType === 'ec' ? 'sec1' : 'pkcs1', format: 'pem'}) as string
}

/** Whether a stored key is what the spec asks for (rotationPolicy Never reuses it only then). */
export function keyConforms(key: crypto.KeyObject, spec: PrivateKeySpec): boolean {
  const details = key.asymmetricKeyDetails ?? {}
  switch (spec.algorithm) {
    case 'RSA':
      return key.asymmetricKeyType === 'rsa' && details.modulusLength === spec.size
    case 'ECDSA':
      return key.asymmetricKeyType === 'ec' && details.namedCurve === {256: 'prime256v1', 384: 'secp384r1', 521: 'secp521r1'}[spec.size]
    default:
      return key.asymmetricKeyType === 'ed25519'
  }
}
