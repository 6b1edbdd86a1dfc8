import type * as crypto from 'node:crypto'

import {failedPrecondition, invalidArgument} from '../errors.js'
import {type Certificate, type Issuer, isSelfSigned, readCertificateChain} from './certificates.js'
import {isEncryptedPrivateKey, keysMatch, parsePrivateKey, readInputFile} from './keys.js'
import {formatName} from './subject.js'

/**
 * A CA that can sign: its certificate and key, checked to be a usable CA before anything is
 * issued (a CA certificate, within its validity, its key the certificate's other half).
 */
export interface LoadedIssuer extends Issuer {
  certFile: string
  keyFile: string
  /** The registered name, when it came from the store. */
  name?: string
}

export interface IssuerKeySource {
  keyFile: string
  /** The flag that named keyFile, for messages (`ca-key`). */
  flag?: string
  password?: string
  /** Called only when the key is encrypted and no password was given (a terminal prompt). */
  askPassword?: (keyFile: string) => Promise<string>
}

/** Throws unless the certificate may sign certificates now. */
export function checkCaCertificate(cert: Certificate, where: string, at: Date = new Date()): void {
  const selfSignedV1 = cert.version === 1 && isSelfSigned(cert)
  if (!cert.basicConstraints?.ca && !selfSignedV1) {
    throw invalidArgument(
      `${where} is not a CA certificate (basicConstraints CA:FALSE): it cannot sign certificates.`,
      'Give the certificate of a CA, e.g. one made by `mtlsctl ca create`.',
    )
  }
  if (cert.keyUsage && !cert.keyUsage.includes('keyCertSign')) {
    throw invalidArgument(`${where} is not allowed to sign certificates (its keyUsage lacks keyCertSign).`)
  }
  if (at.getTime() > cert.notAfter.getTime()) {
    throw failedPrecondition(
      `The CA certificate ${where} (${formatName(cert.subject)}) has expired: it was valid until ${cert.notAfter.toISOString()}.`,
      'Create a new CA with `mtlsctl ca create`, or renew this one.',
    )
  }
  if (at.getTime() < cert.notBefore.getTime()) {
    throw failedPrecondition(`The CA certificate ${where} is not valid yet: it starts at ${cert.notBefore.toISOString()}.`)
  }
}

/** Reads a CA key (asking for its password through the callback if it is encrypted). */
export async function readIssuerKey(source: IssuerKeySource): Promise<crypto.KeyObject> {
  const pem = readInputFile(source.keyFile, 'key', source.flag)
  let password = source.password
  if (password === undefined && isEncryptedPrivateKey(pem) && source.askPassword) {
    password = await source.askPassword(source.keyFile)
  }
  return parsePrivateKey(pem, {file: source.keyFile, password})
}

/** Assembles and checks a signing CA from a certificate already read and a key file. */
export async function loadIssuer(
  certificate: Certificate,
  certFile: string,
  key: IssuerKeySource,
  options: {name?: string; at?: Date; label?: string} = {},
): Promise<LoadedIssuer> {
  const label = options.label ?? certFile
  checkCaCertificate(certificate, label, options.at)
  const privateKey = await readIssuerKey(key)
  if (!keysMatch(privateKey, certificate.publicKey)) {
    throw invalidArgument(`The CA key ${key.keyFile} does not match the CA certificate ${label} (key values mismatch).`)
  }
  return {certificate, privateKey, certFile, keyFile: key.keyFile, ...(options.name ? {name: options.name} : {})}
}

/** A CA given as a pair of files (`--ca-cert F --ca-key F`). */
export async function loadIssuerFromFiles(certFile: string, key: IssuerKeySource, at?: Date, certFlag?: string): Promise<LoadedIssuer> {
  const [certificate] = await readCertificateChain(certFile, certFlag)
  return loadIssuer(certificate, certFile, key, {at})
}
