import type * as crypto from 'node:crypto'

import {decode, loadAsn1} from './ca/asn1.js'
import {loadCa, type CaSelection} from './ca/issuance.js'
import {
  createSelfSignedCertificate,
  issueCertificate,
  parseCertificateChain,
  checkDays,
  checkUsage,
  type Certificate,
  type ChainOptions,
  MAX_CHAIN_CERTIFICATES,
} from './ca/certificates.js'
import {isEncryptedPrivateKey, newKey, parsePrivateKey, checkKeyType} from './ca/keys.js'
import {decodeName, parseSans, parseSubject, type DistinguishedName} from './ca/subject.js'
import {invalidArgument} from './errors.js'
import type {Store} from './store/index.js'

/**
 * Where an alias's certificate (and key) come from: Apigee's three formats plus mtlsctl's
 * "issue it from the local CA". Each turns into a parsed chain and an optional key.
 */
export type AliasSource =
  | {
      format: 'keycertfile'
      cert: Buffer
      certFile: string
      key?: Buffer
      keyFile?: string
      password?: string
      /** Called only when the key is encrypted and no password was given (a terminal prompt). */
      askPassword?: (keyFile: string) => Promise<string>
    }
  | {format: 'pkcs12'; data: Buffer; file: string; password: string}
  | {format: 'selfsignedcert'; subject: string; sans?: string[]; days?: number; keySize?: number}
  | {
      format: 'ca'
      ca: CaSelection
      subject: string
      /**
       * The subject's exact DER, kept instead of encoding `subject` (a rotation keeps the old
       * certificate's subject byte for byte, attributes mtlsctl cannot type included).
       */
      subjectDer?: Buffer
      sans?: string[]
      usage?: string
      days?: number
      keyType?: string
    }

export interface AliasMaterial {
  chain: Certificate[]
  key?: crypto.KeyObject
  /** Where the certificate came from, for error messages. */
  certWhere: string
  keyWhere?: string
}

const KEY_IN_PEM = /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/

/** What an alias's chain may be: at most the runtime's length, each certificate once. */
export const ALIAS_CHAIN: ChainOptions = {maxCertificates: MAX_CHAIN_CERTIFICATES, distinct: true}

async function keyPassword(pem: Buffer, file: string, password: string | undefined, ask?: (file: string) => Promise<string>) {
  if ((password === undefined || password === '') && ask && isEncryptedPrivateKey(pem)) return ask(file)
  return password
}

/** A Name's DER as attributes (refused when it is not a Name). */
async function decodeSubject(der: Buffer): Promise<DistinguishedName> {
  const asn1 = await loadAsn1()
  try {
    return decodeName(asn1, decode(asn1, der))
  } catch {
    throw invalidArgument('The subject to keep is not a valid X.509 Name.')
  }
}

export async function readAliasSource(store: Store, source: AliasSource): Promise<AliasMaterial> {
  switch (source.format) {
    case 'keycertfile': {
      const chain = await parseCertificateChain(source.cert, source.certFile, ALIAS_CHAIN)
      // A single PEM holding the key and the certificate(s) is accepted (apigeecli issue 128).
      if (source.key !== undefined) {
        const keyFile = source.keyFile ?? 'the key'
        const password = await keyPassword(source.key, keyFile, source.password, source.askPassword)
        const key = parsePrivateKey(source.key, {file: source.keyFile, password})
        return {chain, key, certWhere: source.certFile, keyWhere: source.keyFile}
      }
      if (KEY_IN_PEM.test(source.cert.toString('latin1'))) {
        const password = await keyPassword(source.cert, source.certFile, source.password, source.askPassword)
        const key = parsePrivateKey(source.cert, {file: source.certFile, password})
        return {chain, key, certWhere: source.certFile, keyWhere: source.certFile}
      }
      return {chain, certWhere: source.certFile}
    }
    case 'pkcs12': {
      const {readPkcs12} = await import('./pkcs12-import.js')
      const {certs, key} = await readPkcs12(source.data, source.password, source.file)
      const chain = await parseCertificateChain(certs.join(''), source.file, ALIAS_CHAIN)
      return {chain, key: parsePrivateKey(key, {file: source.file}), certWhere: source.file, keyWhere: source.file}
    }
    case 'selfsignedcert': {
      const keySize = source.keySize ?? 2048
      if (![2048, 3072, 4096].includes(keySize)) throw invalidArgument(`Invalid key size ${keySize}: use 2048, 3072 or 4096.`)
      const key = await newKey(checkKeyType(`rsa-${keySize}`))
      const pem = await createSelfSignedCertificate(
        {subject: parseSubject(source.subject), publicKey: key, sans: parseSans(source.sans), profile: {kind: 'leaf', usage: 'both'}, days: checkDays(source.days)},
        key,
      )
      return {chain: await parseCertificateChain(pem), key, certWhere: 'the self-signed certificate'}
    }
    case 'ca': {
      const subject = source.subjectDer ? await decodeSubject(source.subjectDer) : parseSubject(source.subject)
      const sans = parseSans(source.sans)
      const usage = checkUsage(source.usage ?? 'client')
      const days = checkDays(source.days)
      const key = await newKey(checkKeyType(source.keyType ?? 'rsa-2048'))
      const issuer = await loadCa(store, source.ca)
      const template = {subject, ...(source.subjectDer ? {subjectDer: source.subjectDer} : {}), publicKey: key, sans, profile: {kind: 'leaf' as const, usage}, days}
      const pem = await issueCertificate(template, issuer)
      return {chain: await parseCertificateChain(pem + issuer.certificate.pem), key, certWhere: 'the issued certificate'}
    }
  }
}
