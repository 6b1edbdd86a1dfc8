import * as path from 'node:path'

import type {AliasSource} from '../alias-sources.js'
import type {ApigeeApi} from '../apigee/api.js'
import {orUndefined, validateArchiveFor} from '../apigee/views.js'
import {checkArchiveSyntax, parseJsonFile} from '../archives/parse.js'
import {archiveRoot, readSource, type ArchiveFiles} from '../archives/source.js'
import type {AliasView, Problem, TargetServer, TlsLookup} from '../archives/validate.js'
import type {CaSelection} from '../ca/issuance.js'
import {alreadyExists, failedPrecondition, invalidArgument} from '../errors.js'
import {checkId, isValidId} from '../names.js'
import type {Reference, ReferenceInput} from '../references.js'
import {editTargetServers, unifiedDiff, type SslField, type ValueEdit} from './json-edit.js'
import {renewalOf, renewalSource, type Renewal} from './renewal.js'

/**
 * Planning a rotation (the seed's "Update a certificate for your proxy"): the new names, which
 * target servers of the environment's targetservers.json change and how (a diff), the new
 * references, the archive that will be deployed, and what its preflight says, as if the new
 * resources existed. Planning reads only: the dry run is the plan.
 */

export interface TargetServerChange {
  targetServer: string
  field: SslField
  from: string
  to: string
  /** The reference (`ref://NAME`) through which the target server reaches the keystore. */
  reference?: string
}

export interface NewReference {
  name: string
  refers: string
  resourceType: string
  /** The reference it replaces in targetservers.json (updates are refused on configurable environments). */
  replaces: string
}

export interface NewAlias {
  keystore: string
  alias: string
  /** Where its certificate comes from, in words. */
  from: string
}

export interface FileChange {
  /** Relative to the source folder (`src/main/apigee/environments/dev/targetservers.json`). */
  file: string
  diff: string
}

/** A target server that names what is rotated but is not rewritten, and why. */
export interface LeftAlone {
  file: string
  targetServer: string
  why: string
}

export interface RotationPlan {
  kind: 'alias' | 'keystore'
  organization: string
  environment: string
  source: string
  /** The keystore holding the alias (aliases rotate), or the truststore replaced (keystores rotate). */
  keystore: string
  alias?: string
  newAlias?: string
  newKeystore?: string
  /** Aliases created: the new alias, or the new keystore's. */
  newAliases: NewAlias[]
  newReferences: NewReference[]
  /** `--ca`: what the renewed certificate keeps from the old one. */
  renewal?: Renewal & {ca: string}
  targetServers: TargetServerChange[]
  files: FileChange[]
  leftAlone: LeftAlone[]
  notes: string[]
  /** The archive deployment that follows: the source folder as rewritten. */
  deployment: {environment: string; proxies: Array<{name: string; revision: number}>}
  /** What the preflight finds, with the new resources taken as made: none, or the rotation stops before making anything. */
  problems: Problem[]
  deleteOld: boolean
}

export type CreateStep =
  | {kind: 'keystore'; name: string}
  | {kind: 'alias'; keystore: string; alias: string; source: AliasSource}
  | {kind: 'reference'; name: string; input: ReferenceInput}

/** A plan with what carrying it out needs (not printed). */
export interface PreparedRotation {
  plan: RotationPlan
  create: CreateStep[]
  /** The archive to deploy: the source's files with the rewritten targetservers.json. */
  archive: ArchiveFiles
  /** The source folder's files to write once the deployment has succeeded. */
  writes: Array<{absolute: string; file: string; before: Buffer; after: Buffer}>
  labels?: Record<string, string>
}

export interface AliasRotationRequest {
  org: string
  env: string
  /** The --source folder (holding src/main/apigee/ or main/apigee/). */
  source: string
  keystore: string
  alias: string
  newAlias?: string
  /** The new certificate: from a source given (files), or the old one renewed by a local CA. */
  from: {kind: 'source'; source: AliasSource} | {kind: 'renew'; ca: CaSelection; keyType?: string; days?: number}
  deleteOld?: boolean
  labels?: Record<string, string>
  now?: Date
}

export interface KeystoreRotationRequest {
  org: string
  env: string
  source: string
  truststore: string
  newKeystore: string
  /** The new keystore's aliases (certificates). */
  aliases: Array<{alias: string; source: AliasSource; from: string}>
  /** Also copy the old truststore's certificates into the new one (both trusted while backends move). */
  copyOld?: boolean
  /** Names of the new references, by the reference each replaces; default `OLD-YYYYMMDD`. */
  newReferences?: Record<string, string>
  deleteOld?: boolean
  labels?: Record<string, string>
  now?: Date
}

/** `YYYYMMDD` of the UTC date: the default suffix of new names. */
export function dateSuffix(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10).replaceAll('-', '')
}


/** A new name: valid, and not taken (ALREADY_EXISTS naming the flag that chooses another). */
async function freeName(kind: 'alias' | 'keystore' | 'reference', name: string, flag: string, exists: () => Promise<unknown>, what: string): Promise<string> {
  if (!isValidId(kind, name)) {
    try {
      checkId(kind, name)
    } catch (error) {
      throw invalidArgument((error as Error).message, `Give ${flag} NAME.`)
    }
  }
  if ((await orUndefined(Promise.resolve().then(exists))) !== undefined) {
    throw alreadyExists(`${what} already exists.`, `Give ${flag} with a name not taken (an earlier rotation that stopped leaves its new ${kind}: delete it, or choose another name).`)
  }
  return name
}

interface SourceRead {
  files: ArchiveFiles
  /** The archive root relative to the source folder (`src/main/apigee`). */
  rootRel: string
  rootAbs: string
  rel: string
  text: string
  servers: TargetServer[]
}

/** The source folder's archive and the environment's targetservers.json, checked as a deploy checks them. */
async function readSourceFor(source: string, env: string): Promise<SourceRead> {
  const files = readSource(source)
  await checkArchiveSyntax(files)
  const rootAbs = archiveRoot(source)
  const rootRel = path.relative(path.resolve(source), rootAbs).split(path.sep).join('/')
  const rel = `environments/${env}/targetservers.json`
  const data = files.get(rel)
  if (data === undefined) {
    throw failedPrecondition(
      `${source} has no ${rootRel}/${rel}: no target server of environment ${env} to rewrite.`,
      'Point --source at the archive deployed to this environment, or give --environment.',
    )
  }
  const text = data.toString('utf8')
  const servers = parseJsonFile<unknown>(text, `${rootRel}/${rel}`)
  if (!Array.isArray(servers)) throw invalidArgument(`${rootRel}/${rel} must be an array of target servers.`)
  return {files, rootRel, rootAbs, rel, text, servers: servers as TargetServer[]}
}

/** The other environments' targetservers.json files of the archive (keystores are per environment: never rewritten). */
function otherEnvironmentFiles(read: SourceRead, env: string): Array<{env: string; rel: string; servers: TargetServer[]}> {
  const found = []
  for (const [rel, data] of read.files) {
    const m = /^environments\/([^/]+)\/targetservers\.json$/.exec(rel)
    if (!m || m[1] === env) continue
    try {
      const servers = JSON.parse(data.toString('utf8').replace(/^\uFEFF/, ''))
      if (Array.isArray(servers)) found.push({env: m[1], rel, servers: servers as TargetServer[]})
    } catch {
      // checkArchiveSyntax has refused invalid JSON already
    }
  }
  return found
}

const sslOf = (t: TargetServer) => (t && typeof t === 'object' && t.sSLInfo && typeof t.sSLInfo === 'object' ? t.sSLInfo : undefined)
const nameOf = (t: TargetServer, i: number) => (t && typeof t.name === 'string' ? t.name : `#${i + 1}`)
const refName = (value: unknown) => (typeof value === 'string' && value.startsWith('ref://') ? value.slice('ref://'.length) : undefined)

/** The environment's references named by `ref://` in the file's fields, resolved through the API. */
async function references(api: ApigeeApi, org: string, env: string, servers: TargetServer[], field: SslField): Promise<Map<string, Reference | undefined>> {
  const names = new Set<string>()
  for (const t of servers) {
    const ref = refName(sslOf(t)?.[field])
    if (ref !== undefined && isValidId('reference', ref)) names.add(ref)
  }
  const found = new Map<string, Reference | undefined>()
  for (const name of [...names].sort()) found.set(name, await orUndefined(api.getReference(org, env, name)))
  return found
}

/** A lookup that answers as if the rotation's new keystore, aliases and references existed. */
function overlay(base: TlsLookup, extra: {keystores: string[]; aliases: Array<{keystore: string; alias: string; view: AliasView}>; references: Array<{name: string; refers: string}>}): TlsLookup {
  const aliasKey = (ks: string, alias: string) => `${ks}\u0000${alias}`
  const aliases = new Map(extra.aliases.map((a) => [aliasKey(a.keystore, a.alias), a.view]))
  return {
    keystoreExists: async (ks) => extra.keystores.includes(ks) || (await base.keystoreExists(ks)),
    alias: async (ks, alias) => aliases.get(aliasKey(ks, alias)) ?? (extra.keystores.includes(ks) ? undefined : base.alias(ks, alias)),
    aliasIds: async (ks) => [
      ...(extra.keystores.includes(ks) ? [] : await base.aliasIds(ks)),
      ...extra.aliases.filter((a) => a.keystore === ks).map((a) => a.alias),
    ],
    reference: async (ref) => extra.references.find((r) => r.name === ref) ?? base.reference(ref),
  }
}

/** What a new alias will be, for the preflight before it exists: its type, valid from now. */
function expectedView(source: AliasSource, now: Date, days = 365): AliasView {
  const keyInPem = source.format === 'keycertfile' && /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(source.cert.toString('latin1'))
  const hasKey = source.format !== 'keycertfile' || source.key !== undefined || keyInPem
  return {
    type: hasKey ? 'KEY_CERT' : 'CERT',
    certsInfo: {certInfo: [{validFrom: String(now.getTime() - 60_000), expiryDate: String(now.getTime() + days * 86_400_000)}]},
  }
}

function sourceWords(source: AliasSource): string {
  switch (source.format) {
    case 'keycertfile':
      return source.key !== undefined ? `${source.certFile} and ${source.keyFile}` : source.certFile
    case 'pkcs12':
      return source.file
    case 'selfsignedcert':
      return 'a self-signed certificate'
    case 'ca':
      return `issued by CA ${source.ca.name ?? source.ca.certFile}`
  }
}

/** The rewrite, its diff, the archive to deploy, and the preflight with the new resources overlaid. */
async function finish(
  api: ApigeeApi,
  read: SourceRead,
  plan: Omit<RotationPlan, 'files' | 'deployment' | 'problems'>,
  edits: ValueEdit[],
  extra: Parameters<typeof overlay>[1],
): Promise<{plan: RotationPlan; archive: ArchiveFiles; writes: PreparedRotation['writes']}> {
  const file = `${read.rootRel}/${read.rel}`
  const after = await editTargetServers(read.text, edits, file)
  const archive: ArchiveFiles = new Map(read.files)
  archive.set(read.rel, Buffer.from(after, 'utf8'))
  const result = await validateArchiveFor(api, plan.organization, plan.environment, archive, {overlay: (base) => overlay(base, extra)})
  return {
    plan: {
      ...plan,
      files: [{file, diff: await unifiedDiff(file, read.text, after)}],
      deployment: {environment: plan.environment, proxies: result.proxies},
      problems: result.problems,
    },
    archive,
    writes: [{absolute: path.join(read.rootAbs, ...read.rel.split('/')), file, before: read.files.get(read.rel) as Buffer, after: Buffer.from(after, 'utf8')}],
  }
}

/** `aliases rotate`: a new alias in the keystore, and every target server naming the old one moved to it. */
export async function planAliasRotation(api: ApigeeApi, request: AliasRotationRequest): Promise<PreparedRotation> {
  const {org, env, keystore: ks, alias} = request
  const now = request.now ?? new Date()
  await api.getAlias(org, env, ks, alias)
  const wanted = request.newAlias ?? `${alias}-${dateSuffix(now)}`
  const newAlias = await freeName('alias', wanted, '--new-alias', () => api.getAlias(org, env, ks, wanted), `Alias "${wanted}" of keystore "${ks}"`)
  const read = await readSourceFor(request.source, env)
  const refs = await references(api, org, env, read.servers, 'keyStore')
  const notes: string[] = []
  const edits: ValueEdit[] = []
  const changes: TargetServerChange[] = []
  const leftAlone: LeftAlone[] = []
  const file = `${read.rootRel}/${read.rel}`
  read.servers.forEach((t, i) => {
    const ssl = sslOf(t)
    if (!ssl || ssl.keyAlias !== alias || typeof ssl.keyStore !== 'string') return
    const ref = refName(ssl.keyStore)
    if (ref !== undefined) {
      const found = refs.get(ref)
      if (found === undefined) {
        leftAlone.push({file, targetServer: nameOf(t, i), why: `its keyStore ${ssl.keyStore} names no reference of environment ${env}`})
        return
      }
      if (found.refers !== ks) return
    } else if (ssl.keyStore !== ks) {
      return
    }
    edits.push({index: i, field: 'keyAlias', to: newAlias})
    changes.push({targetServer: nameOf(t, i), field: 'keyAlias', from: alias, to: newAlias, ...(ref !== undefined ? {reference: ref} : {})})
  })
  for (const other of otherEnvironmentFiles(read, env)) {
    other.servers.forEach((t, i) => {
      const ssl = sslOf(t)
      if (ssl?.keyAlias === alias && typeof ssl.keyStore === 'string' && (ssl.keyStore === ks || refName(ssl.keyStore) !== undefined)) {
        leftAlone.push({file: `${read.rootRel}/${other.rel}`, targetServer: nameOf(t, i), why: `environment ${other.env}'s keystores are its own (rotate there with --environment ${other.env})`})
      }
    })
  }
  if (edits.length === 0) {
    throw failedPrecondition(
      `No target server in ${file} names alias "${alias}" of keystore "${ks}": nothing to rotate in ${request.source}.`,
      `Check --keystore, --environment and --source; to add an alias without a deployment, use mtlsctl aliases add.`,
    )
  }
  if (changes.some((c) => c.reference)) {
    notes.push('Target servers that reach the keystore through a reference keep it: the reference still names the same keystore, only keyAlias changes.')
  }

  let source: AliasSource
  let renewal: RotationPlan['renewal']
  if (request.from.kind === 'renew') {
    const pem = await api.aliasCertificate(org, env, ks, alias)
    const spec = await renewalOf(pem, `alias "${alias}" of keystore "${ks}"`, {keyType: request.from.keyType, days: request.from.days})
    source = renewalSource(spec, request.from.ca)
    renewal = {...spec.renewal, ca: request.from.ca.name ?? request.from.ca.certFile ?? ''}
    notes.push(...spec.renewal.notes)
  } else {
    source = request.from.source
  }
  const newAliases = [{keystore: ks, alias: newAlias, from: sourceWords(source)}]
  const done = await finish(
    api,
    read,
    {
      kind: 'alias',
      organization: org,
      environment: env,
      source: request.source,
      keystore: ks,
      alias,
      newAlias,
      newAliases,
      newReferences: [],
      ...(renewal ? {renewal} : {}),
      targetServers: changes,
      leftAlone,
      notes,
      deleteOld: request.deleteOld ?? false,
    },
    edits,
    {keystores: [], aliases: [{keystore: ks, alias: newAlias, view: expectedView(source, now, renewal?.days)}], references: []},
  )
  return {...done, create: [{kind: 'alias', keystore: ks, alias: newAlias, source}], labels: request.labels}
}

/** `keystores rotate`: a new keystore with the new certificate(s), and every trustStore naming the old one moved to it. */
export async function planKeystoreRotation(api: ApigeeApi, request: KeystoreRotationRequest): Promise<PreparedRotation> {
  const {org, env, truststore: ts} = request
  const now = request.now ?? new Date()
  const old = await api.getKeystore(org, env, ts)
  const newKs = await freeName('keystore', request.newKeystore, '--new-keystore', () => api.getKeystore(org, env, request.newKeystore), `Keystore "${request.newKeystore}"`)
  if (newKs === ts) throw invalidArgument(`The new keystore must differ from "${ts}".`)

  const aliases: Array<{alias: string; source: AliasSource; from: string}> = []
  if (request.copyOld) {
    for (const alias of [...old.aliases].sort()) {
      const pem = await api.aliasCertificate(org, env, ts, alias)
      const where = `alias "${alias}" of keystore "${ts}"`
      aliases.push({alias, source: {format: 'keycertfile', cert: Buffer.from(pem), certFile: where}, from: `a copy of ${where}`})
    }
  }
  for (const given of request.aliases) {
    checkId('alias', given.alias)
    if (aliases.some((a) => a.alias === given.alias)) {
      throw invalidArgument(`Two certificates of the new keystore would be alias "${given.alias}".`, 'Give each certificate its own --alias NAME.')
    }
    aliases.push(given)
  }
  if (aliases.length === 0) throw invalidArgument('The new keystore would hold no certificate.', 'Give --cert-file FILE or --ca CA (or --copy-old).')

  const read = await readSourceFor(request.source, env)
  const refs = await references(api, org, env, read.servers, 'trustStore')
  const file = `${read.rootRel}/${read.rel}`
  const edits: ValueEdit[] = []
  const changes: TargetServerChange[] = []
  const leftAlone: LeftAlone[] = []
  const newReferences: NewReference[] = []
  const suffix = dateSuffix(now)
  const replacement = async (ref: string, found: Reference): Promise<NewReference> => {
    const existing = newReferences.find((r) => r.replaces === ref)
    if (existing) return existing
    const wanted = request.newReferences?.[ref] ?? `${ref}-${suffix}`
    const flag = `--new-reference ${ref}=NAME`
    const name = await freeName('reference', wanted, flag, () => api.getReference(org, env, wanted), `Reference "${wanted}"`)
    const made = {name, refers: newKs, resourceType: found.resourceType, replaces: ref}
    newReferences.push(made)
    return made
  }
  for (const [i, t] of read.servers.entries()) {
    const ssl = sslOf(t)
    if (!ssl) continue
    if (typeof ssl.keyStore === 'string' && (ssl.keyStore === ts || (refName(ssl.keyStore) !== undefined && refs.get(refName(ssl.keyStore) as string)?.refers === ts))) {
      leftAlone.push({file, targetServer: nameOf(t, i), why: `it names ${ssl.keyStore} as its key store (rotate its alias with mtlsctl aliases rotate)`})
    }
    if (typeof ssl.trustStore !== 'string') continue
    const ref = refName(ssl.trustStore)
    if (ref !== undefined) {
      const found = refs.get(ref)
      if (found === undefined) {
        leftAlone.push({file, targetServer: nameOf(t, i), why: `its trustStore ${ssl.trustStore} names no reference of environment ${env}`})
        continue
      }
      if (found.refers !== ts) continue
      const made = await replacement(ref, found)
      edits.push({index: i, field: 'trustStore', to: `ref://${made.name}`})
      changes.push({targetServer: nameOf(t, i), field: 'trustStore', from: ssl.trustStore, to: `ref://${made.name}`, reference: ref})
    } else if (ssl.trustStore === ts) {
      edits.push({index: i, field: 'trustStore', to: newKs})
      changes.push({targetServer: nameOf(t, i), field: 'trustStore', from: ts, to: newKs})
    }
  }
  for (const other of otherEnvironmentFiles(read, env)) {
    other.servers.forEach((t, i) => {
      const ssl = sslOf(t)
      if (ssl?.trustStore === ts) {
        leftAlone.push({file: `${read.rootRel}/${other.rel}`, targetServer: nameOf(t, i), why: `environment ${other.env}'s keystores are its own (rotate there with --environment ${other.env})`})
      }
    })
  }
  if (edits.length === 0) {
    throw failedPrecondition(
      `No target server in ${file} names truststore "${ts}" (directly or through a reference): nothing to rotate in ${request.source}.`,
      'Check the truststore, --environment and --source.',
    )
  }
  const notes: string[] = []
  if (newReferences.length > 0) {
    notes.push('Reference updates are refused on configurable environments: each reference to the old truststore is replaced by a new one naming the new keystore, and targetservers.json names the new reference.')
  }
  const done = await finish(
    api,
    read,
    {
      kind: 'keystore',
      organization: org,
      environment: env,
      source: request.source,
      keystore: ts,
      newKeystore: newKs,
      newAliases: aliases.map((a) => ({keystore: newKs, alias: a.alias, from: a.from})),
      newReferences,
      targetServers: changes,
      leftAlone,
      notes,
      deleteOld: request.deleteOld ?? false,
    },
    edits,
    {
      keystores: [newKs],
      aliases: aliases.map((a) => ({keystore: newKs, alias: a.alias, view: expectedView(a.source, now)})),
      references: newReferences.map((r) => ({name: r.name, refers: r.refers})),
    },
  )
  return {
    ...done,
    create: [
      {kind: 'keystore', name: newKs},
      ...aliases.map((a): CreateStep => ({kind: 'alias', keystore: newKs, alias: a.alias, source: a.source})),
      ...newReferences.map((r): CreateStep => ({kind: 'reference', name: r.name, input: {refers: r.refers, resourceType: r.resourceType}})),
    ],
    labels: request.labels,
  }
}
