import * as crypto from 'node:crypto'

import {ALIAS_CHAIN, readAliasSource, type AliasMaterial, type AliasSource} from './alias-sources.js'
import {parseCertificateChain, type Certificate} from './ca/certificates.js'
import {createCsr} from './ca/csr.js'
import {certInfo, validity, validityAt, type CertInfo} from './ca/info.js'
import {keysMatch, parsePrivateKey} from './ca/keys.js'
import {getEnvironment} from './environments.js'
import {alreadyExists, failedPrecondition, invalidArgument, notFound} from './errors.js'
import {aliasCollection, getKeystore, keystoreExists, listKeystores} from './keystores.js'
import {aliasName, checkId, keystoreName} from './names.js'
import type {Store} from './store/index.js'

export type AliasType = 'CERT' | 'KEY_CERT' | 'ALIAS_TYPE_UNSPECIFIED'

/** Apigee v1 `Alias`. */
export interface Alias {
  alias: string
  type: AliasType
  certsInfo: {certInfo: CertInfo[]}
}

interface AliasDoc extends Alias {
  createdAt: string
}

export const ALIAS_UPDATE_DISABLED =
  'Alias updates are currently disabled for configurable proxy environments. To update the certificate, create a new alias and reference it within a new archive deployment.'

const CERT_BLOB = 'cert.pem'
const KEY_BLOB = 'key.pem'

/** isValid depends on when it is read, not when the alias was stored. */
function current(doc: AliasDoc, now = Date.now()): Alias {
  const certInfo = doc.certsInfo.certInfo.map((info) => ({
    ...info,
    isValid: validityAt(Number(info.validFrom), Number(info.expiryDate), now),
  }))
  return {alias: doc.alias, type: doc.type, certsInfo: {certInfo}}
}

/** Leaf first, each certificate issued by the next; a key must be the leaf's. */
export function checkAliasMaterial(material: AliasMaterial, ignoreExpiry: boolean): Certificate[] {
  let chain = material.chain
  if (material.key) {
    const leaf = chain.findIndex((c) => keysMatch(material.key as crypto.KeyObject, c.publicKey))
    if (leaf < 0) {
      throw invalidArgument(
        `The private key in ${material.keyWhere ?? 'the key file'} does not match the certificate in ${material.certWhere}.`,
        'Give the key that the certificate was issued for (compare `openssl x509 -noout -pubkey` with `openssl pkey -pubout`).',
      )
    }
    if (leaf > 0 && material.keyWhere === material.certWhere && material.certWhere.endsWith('.p12')) {
      chain = [chain[leaf], ...chain.filter((_, i) => i !== leaf)]
    } else if (leaf > 0) {
      throw invalidArgument(`The certificate chain in ${material.certWhere} must start with the certificate of the private key (leaf first).`)
    }
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i].x509.checkIssued(chain[i + 1].x509) || !chain[i].x509.verify(chain[i + 1].publicKey)) {
      throw invalidArgument(
        `The certificate chain in ${material.certWhere} is out of order: certificate ${i + 2} did not issue certificate ${i + 1}.`,
        'Put the leaf certificate first, then its issuer, then the issuer\'s issuer.',
      )
    }
  }
  if (!ignoreExpiry) {
    for (const [i, cert] of chain.entries()) {
      const state = validity(cert)
      if (state === 'Yes') continue
      const which = chain.length > 1 ? `certificate ${i + 1} in ${material.certWhere}` : `the certificate in ${material.certWhere}`
      throw invalidArgument(
        state === 'No'
          ? `Certificate has expired: ${which} expired on ${cert.notAfter.toISOString()}.`
          : `Certificate is not yet valid: ${which} is valid from ${cert.notBefore.toISOString()}.`,
        'Use a valid certificate, or pass --ignore-expiry-validation to store it anyway.',
      )
    }
  }
  return chain
}

export interface AddAliasOptions {
  ignoreExpiryValidation?: boolean
}

/** Creates an alias: every check passes before anything is written, and it is written whole. */
export async function addAlias(
  store: Store,
  org: string,
  env: string,
  ks: string,
  alias: string,
  source: AliasSource,
  options: AddAliasOptions = {},
): Promise<Alias> {
  checkId('keystore', ks)
  checkId('alias', alias)
  const material = await readAliasSource(store, source)
  const chain = checkAliasMaterial(material, options.ignoreExpiryValidation ?? false)
  const doc: AliasDoc = {
    alias,
    type: material.key ? 'KEY_CERT' : 'CERT',
    certsInfo: {certInfo: await Promise.all(chain.map((c) => certInfo(c)))},
    createdAt: String(Date.now()),
  }
  const blobs: Record<string, {data: string; secret?: boolean}> = {[CERT_BLOB]: {data: chain.map((c) => c.pem).join('')}}
  if (material.key) blobs[KEY_BLOB] = {data: material.key.export({type: 'pkcs8', format: 'pem'}) as string, secret: true}
  await store.withLock(async () => {
    await requireKeystore(store, org, env, ks)
    if (!(await store.create(aliasName(org, env, ks, alias), doc, blobs))) {
      throw alreadyExists(`Alias "${aliasName(org, env, ks, alias)}" already exists.`, 'Choose another alias name, or delete the alias first.')
    }
  })
  return current(doc)
}

async function requireKeystore(store: Store, org: string, env: string, ks: string): Promise<void> {
  if (!(await keystoreExists(store, org, env, ks))) await getKeystore(store, org, env, ks)
}

async function getDoc(store: Store, org: string, env: string, ks: string, alias: string): Promise<AliasDoc> {
  checkId('keystore', ks)
  checkId('alias', alias)
  const doc = await store.get<AliasDoc>(aliasName(org, env, ks, alias))
  if (!doc) {
    await requireKeystore(store, org, env, ks)
    throw notFound(`Alias "${aliasName(org, env, ks, alias)}" not found.`)
  }
  return doc
}

export async function getAlias(store: Store, org: string, env: string, ks: string, alias: string): Promise<Alias> {
  return current(await getDoc(store, org, env, ks, alias))
}

export async function listAliases(store: Store, org: string, env: string, ks: string): Promise<Alias[]> {
  await requireKeystore(store, org, env, ks)
  return (await store.list<AliasDoc>(aliasCollection(org, env, ks))).map((d) => current(d))
}

export async function deleteAlias(store: Store, org: string, env: string, ks: string, alias: string): Promise<Alias> {
  return store.withLock(async () => {
    const found = await getAlias(store, org, env, ks, alias)
    await store.delete(aliasName(org, env, ks, alias))
    return found
  })
}

/** The alias's certificate chain as PEM (Apigee's `GET .../certificate`). */
export async function aliasCertificate(store: Store, org: string, env: string, ks: string, alias: string): Promise<string> {
  await getDoc(store, org, env, ks, alias)
  const pem = await store.getBlob(aliasName(org, env, ks, alias), CERT_BLOB)
  if (!pem) throw notFound(`Alias "${aliasName(org, env, ks, alias)}" has no certificate.`)
  return pem.toString('utf8')
}

/** A CSR for a key+cert alias's key, with the certificate's subject and SANs. */
export async function aliasCsr(store: Store, org: string, env: string, ks: string, alias: string): Promise<string> {
  const doc = await getDoc(store, org, env, ks, alias)
  if (doc.type !== 'KEY_CERT') {
    throw failedPrecondition(`Alias "${aliasName(org, env, ks, alias)}" holds no private key: a CSR needs a key and certificate alias.`)
  }
  const name = aliasName(org, env, ks, alias)
  const key = parsePrivateKey((await store.getBlob(name, KEY_BLOB)) ?? '', {file: `the key of ${name}`})
  const [leaf] = await parseCertificateChain((await store.getBlob(name, CERT_BLOB)) ?? '', `the certificate of ${name}`)
  return createCsr(key, leaf.subject, leaf.sans)
}

/**
 * Replaces an alias's certificate (PROGRAMMABLE environments only; the stored key must match).
 * On CONFIGURABLE environments Apigee refuses with its documented text.
 */
export async function updateAliasCertificate(
  store: Store,
  org: string,
  env: string,
  ks: string,
  alias: string,
  cert: {data: Buffer; file: string},
  options: AddAliasOptions = {},
): Promise<Alias> {
  const environment = await getEnvironment(store, org, env)
  const doc = await getDoc(store, org, env, ks, alias)
  if (environment.apiProxyType === 'CONFIGURABLE') throw failedPrecondition(ALIAS_UPDATE_DISABLED)
  const name = aliasName(org, env, ks, alias)
  const chain = await parseCertificateChain(cert.data, cert.file, ALIAS_CHAIN)
  const key = doc.type === 'KEY_CERT' ? parsePrivateKey((await store.getBlob(name, KEY_BLOB)) ?? '', {file: `the key of ${name}`}) : undefined
  const checked = checkAliasMaterial({chain, key, certWhere: cert.file, keyWhere: `the stored key of ${name}`}, options.ignoreExpiryValidation ?? false)
  const updated: AliasDoc = {...doc, certsInfo: {certInfo: await Promise.all(checked.map((c) => certInfo(c)))}}
  await store.withLock(async () => {
    await getDoc(store, org, env, ks, alias)
    // The certificate and the document that describes it change together (one replace).
    await store.replace(name, updated, {[CERT_BLOB]: {data: checked.map((c) => c.pem).join('')}})
  })
  return current(updated)
}

/** One row per certificate: what the UI's "Expiration Status" shows. */
export interface CertificateRow {
  keystore: string
  alias: string
  type: AliasType
  subject: string
  expiryDate: string
  expiresAt: string
  isValid: CertInfo['isValid']
  daysLeft: number
}

/** An alias's certificates as rows, `daysLeft` counted from `now`. */
export function certificateRows(ks: string, alias: Alias, now: number): CertificateRow[] {
  return alias.certsInfo.certInfo.map((info) => ({
    keystore: ks,
    alias: alias.alias,
    type: alias.type,
    subject: info.subject,
    expiryDate: info.expiryDate,
    expiresAt: new Date(Number(info.expiryDate)).toISOString(),
    isValid: info.isValid,
    daysLeft: Math.floor((Number(info.expiryDate) - now) / 86_400_000),
  }))
}
