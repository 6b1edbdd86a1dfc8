import * as path from 'node:path'

import {alreadyExists, notFound} from '../errors.js'
import {checkId} from '../names.js'
import type {Store} from '../store/index.js'
import {type Certificate, parseCertificate} from './certificates.js'
import {type IssuerKeySource, loadIssuer, type LoadedIssuer} from './issuer.js'
import {describePublicKey} from './keys.js'
import {formatName} from './subject.js'
import {hexColons} from './info.js'

/**
 * Registered CAs: `cas/NAME` in the store, so later commands can say `--ca NAME`. The record
 * holds the certificate and the key file's path, never the key itself.
 */
export interface CertificateAuthority {
  name: string
  subject: string
  serialNumber: string
  notBefore: string
  notAfter: string
  publicKey: string
  pathLen?: number
  certFile: string
  keyFile: string
  keyEncrypted: boolean
  /** The CA certificate, PEM: the registered certificate even if the file changes later. */
  certificate: string
  createdAt: string
}

export const caResourceName = (name: string) => `cas/${checkId('ca', name)}`

export function caRecord(
  name: string,
  cert: Certificate,
  files: {certFile: string; keyFile: string; keyEncrypted: boolean},
): CertificateAuthority {
  return {
    name,
    subject: formatName(cert.subject),
    serialNumber: hexColons(cert.serialNumber),
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    publicKey: describePublicKey(cert.publicKey),
    ...(cert.basicConstraints?.pathLen === undefined ? {} : {pathLen: cert.basicConstraints.pathLen}),
    certFile: path.resolve(files.certFile),
    keyFile: path.resolve(files.keyFile),
    keyEncrypted: files.keyEncrypted,
    certificate: cert.pem,
    createdAt: new Date().toISOString(),
  }
}

/** Registers a CA; an existing registration is replaced only with `replace`. */
export async function registerCa(store: Store, ca: CertificateAuthority, options: {replace?: boolean} = {}): Promise<void> {
  const name = caResourceName(ca.name)
  if (options.replace) {
    await store.withLock(() => store.put(name, ca))
    return
  }
  if (!(await store.create(name, ca))) throw caExists(ca.name)
}

export function caExists(name: string) {
  return alreadyExists(`CA "${name}" is already registered.`, 'Give --force to replace it (and its files), or choose another name.')
}

export async function findCa(store: Store, name: string): Promise<CertificateAuthority | undefined> {
  return store.get<CertificateAuthority>(caResourceName(name))
}

export async function getCa(store: Store, name: string): Promise<CertificateAuthority> {
  const ca = await findCa(store, name)
  if (!ca) {
    throw notFound(
      `CA "${name}" not found.`,
      `Create it with: mtlsctl ca create ${name} --subject '/CN=${name}', or give its files with --ca-cert FILE --ca-key FILE.`,
    )
  }
  return ca
}

export async function listCas(store: Store): Promise<CertificateAuthority[]> {
  return store.list<CertificateAuthority>('cas')
}

/** The registered CA's certificate, parsed. */
export async function caCertificate(ca: CertificateAuthority): Promise<Certificate> {
  return parseCertificate(ca.certificate, `the certificate of CA "${ca.name}"`)
}

/** A registered CA ready to sign; its key is read from the recorded path. */
export async function loadRegisteredIssuer(
  store: Store,
  name: string,
  key: Omit<IssuerKeySource, 'keyFile'> = {},
  at?: Date,
): Promise<LoadedIssuer> {
  const ca = await getCa(store, name)
  return loadIssuer(await caCertificate(ca), ca.certFile, {...key, keyFile: ca.keyFile}, {name, at, label: `the certificate of CA "${name}"`})
}
