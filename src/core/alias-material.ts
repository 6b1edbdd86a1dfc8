import type * as crypto from 'node:crypto'

import {aliasCertificate, getAlias, listAliases} from './aliases.js'
import {parsePrivateKey} from './ca/keys.js'
import {failedPrecondition} from './errors.js'
import {aliasName} from './names.js'
import type {Store} from './store/index.js'

/**
 * An alias's material for a TLS client: its certificate chain and private key (a key+cert
 * alias), or every certificate of a keystore (a truststore). Read through the store, as the
 * runtime reads them for a target server. The key never leaves the process.
 */

/** The blob aliases.ts stores a key+cert alias's private key under. */
const KEY_BLOB = 'key.pem'

export interface AliasIdentity {
  /** PEM: the leaf, then its chain. */
  certificate: string
  privateKey: crypto.KeyObject
}

export async function aliasIdentity(store: Store, org: string, env: string, ks: string, alias: string): Promise<AliasIdentity> {
  const found = await getAlias(store, org, env, ks, alias)
  const name = aliasName(org, env, ks, alias)
  if (found.type !== 'KEY_CERT') {
    throw failedPrecondition(`Alias "${name}" holds no private key: a client certificate needs a key and certificate alias.`)
  }
  const certificate = await aliasCertificate(store, org, env, ks, alias)
  const key = await store.getBlob(name, KEY_BLOB)
  if (!key) throw failedPrecondition(`Alias "${name}" has no stored private key.`)
  return {certificate, privateKey: parsePrivateKey(key, {file: `the key of ${name}`})}
}

/** Every certificate of every alias of a keystore, as one PEM text (a truststore's anchors). */
export async function keystoreCertificates(store: Store, org: string, env: string, ks: string): Promise<string> {
  const aliases = await listAliases(store, org, env, ks)
  if (aliases.length === 0) {
    throw failedPrecondition(`Keystore "organizations/${org}/environments/${env}/keystores/${ks}" holds no certificate.`)
  }
  const pems = await Promise.all(aliases.map((a) => aliasCertificate(store, org, env, ks, a.alias)))
  return pems.join('')
}
