import * as Flags from '@oclif/core/flags'

import {aliasIdentity, type AliasIdentity, keystoreCertificates} from '../core/alias-material.js'
import {parseCertificateChain} from '../core/ca/certificates.js'
import {keysMatch, parsePrivateKey} from '../core/ca/keys.js'
import {invalidArgument} from '../core/errors.js'
import {readInput} from '../core/input.js'
import type {Store} from '../core/store/index.js'
import {UsageError} from './usage-error.js'

/**
 * The trust anchors and the client certificate of a TLS client (certs probe, hybrid check):
 * from files, or from the current backend's keystores (--truststore KS, --keystore KS --alias A).
 */
export const trustFlags = {
  ca: Flags.string({description: "CA certificate(s) the server's chain must verify against (PEM). Default: the system roots.", helpValue: 'FILE', exclusive: ['truststore']}),
  truststore: Flags.string({description: 'Verify against every certificate of this keystore (a truststore) of the environment.', helpValue: 'KS'}),
}

export const identityFlags = {
  cert: Flags.string({description: 'Client certificate (PEM, leaf first).', helpValue: 'F', dependsOn: ['key'], exclusive: ['keystore']}),
  key: Flags.string({description: 'Private key of the client certificate (PEM, unencrypted).', helpValue: 'F', dependsOn: ['cert']}),
  keystore: Flags.string({description: "Keystore holding the client certificate's alias (with --alias).", helpValue: 'KS', dependsOn: ['alias']}),
  alias: Flags.string({description: 'Key and certificate alias to present as the client certificate.', helpValue: 'A', dependsOn: ['keystore']}),
}

export async function readTrust(flags: {ca?: string}): Promise<{pem: string; name: string} | undefined> {
  if (flags.ca === undefined) return undefined
  const chain = await parseCertificateChain(readInput(flags.ca, {what: 'CA certificate', kind: 'pem', flag: 'ca'}), flags.ca)
  return {pem: chain.map((c) => c.pem).join(''), name: flags.ca}
}

export async function readStoreTrust(store: Store, org: string, env: string, ks: string): Promise<{pem: string; name: string}> {
  return {pem: await keystoreCertificates(store, org, env, ks), name: `truststore ${ks}`}
}

export async function readIdentity(flags: {cert?: string; key?: string}): Promise<AliasIdentity | undefined> {
  if (flags.cert === undefined || flags.key === undefined) return undefined
  const chain = await parseCertificateChain(readInput(flags.cert, {what: 'client certificate', kind: 'pem', flag: 'cert'}), flags.cert)
  const privateKey = parsePrivateKey(readInput(flags.key, {what: 'private key', kind: 'pem', flag: 'key'}), {file: flags.key})
  if (!keysMatch(privateKey, chain[0].publicKey)) {
    throw invalidArgument(`The key ${flags.key} does not match the certificate ${flags.cert} (key values mismatch).`, 'Give --key the private key of the certificate in --cert.')
  }
  return {certificate: chain.map((c) => c.pem).join(''), privateKey}
}

export async function readStoreIdentity(store: Store, org: string, env: string, ks: string, alias: string): Promise<AliasIdentity> {
  return aliasIdentity(store, org, env, ks, alias)
}

export function checkTlsVersion(value: string | undefined): '1.2' | '1.3' | undefined {
  if (value === undefined || value === '1.2' || value === '1.3') return value
  throw new UsageError(`Invalid --tls "${value}": use 1.2 or 1.3.`)
}
