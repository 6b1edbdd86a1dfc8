import * as path from 'node:path'

import {invalidArgument} from '../errors.js'
import type {Store} from '../store/index.js'
import {
  checkDays,
  checkUsage,
  issueCertificate,
  parseCertificate,
  parseSerial,
  type Usage,
} from './certificates.js'
import {loadAsn1} from './asn1.js'
import {createCsr, readCsr} from './csr.js'
import {checkOutputs, writeOutputs} from './files.js'
import {hexColons} from './info.js'
import {type LoadedIssuer, loadIssuerFromFiles} from './issuer.js'
import {checkKeyType, encodePrivateKey, newKey} from './keys.js'
import {loadRegisteredIssuer} from './registry.js'
import {commonName, type DistinguishedName, formatName, formatSan, parseSans, parseSubject, sanFromCommonName, type SubjectAltName} from './subject.js'

/** Which CA signs: a registered one by name, or a certificate and key file pair. */
export interface CaSelection {
  name?: string
  certFile?: string
  keyFile?: string
  /** The flags that named certFile and keyFile, for messages (`ca-cert`, `ca-key`). */
  certFlag?: string
  keyFlag?: string
  password?: string
  /** Asked only when the CA key is encrypted and no password was given. */
  askPassword?: (keyFile: string) => Promise<string>
}

export async function loadCa(store: Store, selection: CaSelection, at?: Date): Promise<LoadedIssuer> {
  const {name, certFile, keyFile} = selection
  if (name !== undefined && (certFile !== undefined || keyFile !== undefined)) {
    throw invalidArgument('Give either a registered CA (--ca NAME) or its files (--ca-cert FILE --ca-key FILE), not both.')
  }
  const key = {password: selection.password, askPassword: selection.askPassword}
  if (name !== undefined) return loadRegisteredIssuer(store, name, key, at)
  if (certFile === undefined || keyFile === undefined) {
    throw invalidArgument('A CA given by its files needs both --ca-cert FILE and --ca-key FILE.')
  }
  return loadIssuerFromFiles(certFile, {...key, keyFile, flag: selection.keyFlag}, at, selection.certFlag)
}

/** What was issued (the result of `certs create` and `certs sign`). */
export interface IssuedCertificate {
  name: string
  subject: string
  issuer: string
  serialNumber: string
  notBefore: string
  notAfter: string
  sans: string[]
  usage: Usage
  files: {key?: string; csr?: string; cert: string}
  warnings: string[]
}

export interface CreateCertificateOptions {
  /** Base name of NAME.key, NAME.csr and NAME.pem. */
  name: string
  subject: string
  sans?: string | string[]
  usage?: string
  days?: number
  serial?: string
  keyType?: string
  outDir?: string
  keyPassword?: string
  force?: boolean
  notBefore?: Date
  notAfter?: Date
}

const FILE_BASE = /^[\w][\w.-]{0,254}$/

function checkBaseName(name: string): string {
  if (!FILE_BASE.test(name)) {
    throw invalidArgument(
      `Invalid certificate name "${name}": use letters, digits, "_", "." and "-" (it names NAME.key, NAME.csr and NAME.pem; use --out-dir for the folder).`,
    )
  }
  return name
}

/**
 * A server certificate needs a SAN (clients match host names against SANs, not the CN):
 * without one it gets its CN as a SAN, with a warning.
 */
function withServerSan(subject: DistinguishedName, sans: SubjectAltName[], usage: Usage, warnings: string[]): SubjectAltName[] {
  if (usage === 'client' || sans.length > 0) return sans
  const cn = commonName(subject)
  const fromCn = cn === undefined ? undefined : sanFromCommonName(cn)
  if (fromCn) {
    warnings.push(`No SAN given for a server certificate: added ${formatSan(fromCn)} from its CN (clients check SANs, not the CN).`)
    return [fromCn]
  }
  warnings.push('A server certificate without a SAN: TLS clients that check host names will reject it. Give --san DNS:host.')
  return sans
}

function outlivesCa(notAfter: Date, issuer: LoadedIssuer, warnings: string[]): void {
  // A day of slack: a CA and a certificate made minutes apart with the same --days are fine.
  if (notAfter.getTime() > issuer.certificate.notAfter.getTime() + 86_400_000) {
    warnings.push(`The certificate outlives its CA, which expires on ${issuer.certificate.notAfter.toISOString()}.`)
  }
}

/**
 * `certs create`: a key, a CSR and a certificate signed by the CA: NAME.key (0600), NAME.csr,
 * NAME.pem, the seed's file set. Inputs are checked before the CA key is opened.
 */
export async function createCertificate(store: Store, ca: CaSelection, options: CreateCertificateOptions): Promise<IssuedCertificate> {
  const name = checkBaseName(options.name)
  const subject = parseSubject(options.subject)
  const requested = parseSans(options.sans)
  const usage = checkUsage(options.usage ?? 'both')
  const days = checkDays(options.days)
  if (options.serial !== undefined) parseSerial(options.serial)
  const keyType = checkKeyType(options.keyType ?? 'rsa-2048')
  const dir = path.resolve(options.outDir ?? '.')
  const files = {key: path.join(dir, `${name}.key`), csr: path.join(dir, `${name}.csr`), cert: path.join(dir, `${name}.pem`)}
  const force = options.force ?? false
  checkOutputs([{path: files.key, data: ''}, {path: files.csr, data: ''}, {path: files.cert, data: ''}], force)

  const issuer = await loadCa(store, ca)
  const warnings: string[] = []
  const sans = withServerSan(subject, requested, usage, warnings)
  // The key is made on libuv's thread pool: the ASN.1 codec loads meanwhile.
  const [key] = await Promise.all([newKey(keyType), loadAsn1()])
  const csr = await createCsr(key, subject, sans)
  const pem = await issueCertificate(
    {subject, publicKey: key, sans, profile: {kind: 'leaf', usage}, days, serial: options.serial, notBefore: options.notBefore, notAfter: options.notAfter},
    issuer,
  )
  const cert = await parseCertificate(pem)
  outlivesCa(cert.notAfter, issuer, warnings)
  writeOutputs(
    [
      {path: files.key, data: encodePrivateKey(key, options.keyPassword), secret: true},
      {path: files.csr, data: csr},
      {path: files.cert, data: pem},
    ],
    force,
  )
  return issued(name, cert, usage, files, warnings)
}

export interface SignRequestOptions {
  csrFile: string
  /** The certificate file to write. */
  out: string
  usage?: string
  days?: number
  force?: boolean
}

/**
 * `certs sign`: signs an existing CSR (the seed's `openssl x509 -req`). The subject is copied
 * and every SAN the CSR asks for is kept; the CA, not the CSR, decides the other extensions.
 */
export async function signRequest(store: Store, ca: CaSelection, options: SignRequestOptions): Promise<IssuedCertificate> {
  const usage = checkUsage(options.usage ?? 'both')
  const days = checkDays(options.days)
  const force = options.force ?? false
  checkOutputs([{path: options.out, data: ''}], force)
  const request = await readCsr(options.csrFile)
  if (!['rsa', 'ec', 'ed25519'].includes(request.publicKey.asymmetricKeyType ?? '')) {
    throw invalidArgument(`${options.csrFile} is for a ${request.publicKey.asymmetricKeyType} key: mtlsctl signs RSA, EC and Ed25519 keys.`)
  }
  if (request.subject.length === 0 && request.sans.length === 0) {
    throw invalidArgument(`${options.csrFile} has neither a subject nor a SAN: there is nothing to certify.`)
  }

  const issuer = await loadCa(store, ca)
  const warnings: string[] = []
  const sans = withServerSan(request.subject, request.sans, usage, warnings)
  const pem = await issueCertificate({subject: request.subject, subjectDer: request.subjectDer, publicKey: request.publicKey, sans, profile: {kind: 'leaf', usage}, days}, issuer)
  const cert = await parseCertificate(pem)
  outlivesCa(cert.notAfter, issuer, warnings)
  writeOutputs([{path: options.out, data: pem}], force)
  const name = path.basename(options.out).replace(/\.(pem|crt|cer)$/i, '')
  return issued(name, cert, usage, {cert: path.resolve(options.out)}, warnings)
}

function issued(
  name: string,
  cert: Awaited<ReturnType<typeof parseCertificate>>,
  usage: Usage,
  files: IssuedCertificate['files'],
  warnings: string[],
): IssuedCertificate {
  return {
    name,
    subject: formatName(cert.subject),
    issuer: formatName(cert.issuer),
    serialNumber: hexColons(cert.serialNumber),
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    sans: cert.sans.map(formatSan),
    usage,
    files,
    warnings,
  }
}
