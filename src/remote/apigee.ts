import * as path from 'node:path'

import type {Alias} from '../core/aliases.js'
import {checkAliasMaterial} from '../core/aliases.js'
import {readAliasSource, type AliasSource} from '../core/alias-sources.js'
import type {ApigeeApi, DeployOptions} from '../core/apigee/api.js'
import type {ApiProxy, ArchiveDeployment} from '../core/archives/deployments.js'
import {parseSans, parseSubject} from '../core/ca/subject.js'
import type {Environment} from '../core/environments.js'
import {invalidArgument, MtlsError} from '../core/errors.js'
import {checkId, type IdKind} from '../core/names.js'
import type {Keystore} from '../core/keystores.js'
import type {Operation, OperationFilter} from '../core/operations.js'
import type {Reference, ReferenceInput} from '../core/references.js'
import type {Store} from '../core/store/index.js'
import type {ApigeeHttpClient, FormPart} from './client.js'

/** gcloud's page size for archive deployments and operations. */
const PAGE_SIZE = 100

/**
 * An id as one path segment. `.`, `..` and the empty id cannot be one: the URL would resolve
 * them away and the request name another resource (`aliases describe ..` the keystore's
 * URL). They are refused here, before any request, with the engine's own words.
 */
function e(kind: IdKind | 'archive deployment', id: string): string {
  if (id === '' || id === '.' || id === '..') {
    if (kind === 'archive deployment') throw invalidArgument(`Invalid archive deployment id "${id}".`)
    checkId(kind, id)
  }
  return encodeURIComponent(id)
}
const orgPath = (org: string) => `organizations/${e('organization', org)}`
const envPath = (org: string, env: string) => `${orgPath(org)}/environments/${e('environment', env)}`
const keystorePath = (org: string, env: string, ks: string) => `${envPath(org, env)}/keystores/${e('keystore', ks)}`
const aliasPath = (org: string, env: string, ks: string, alias: string) => `${keystorePath(org, env, ks)}/aliases/${e('alias', alias)}`
const referencePath = (org: string, env: string, name: string) => `${envPath(org, env)}/references/${e('reference', name)}`
const archivePath = (org: string, env: string, id: string) => `${envPath(org, env)}/archiveDeployments/${e('archive deployment', id)}`

/** Apigee's `subject` fields of a `selfsignedcert` request, by openssl attribute type. */
const SUBJECT_FIELDS: Record<string, string> = {
  C: 'countryCode',
  ST: 'state',
  L: 'locality',
  O: 'org',
  OU: 'orgUnit',
  CN: 'commonName',
  emailAddress: 'email',
}

/**
 * Archive deployment times: gcloud reads them in microseconds (`unit=1000000`), the engine
 * keeps milliseconds. A value past the year 5138 in ms is taken as µs.
 */
function millis(value: string | undefined): string {
  if (value === undefined || value === '') return ''
  const n = Number(value)
  return Number.isFinite(n) && n > 1e14 ? String(Math.floor(n / 1000)) : value
}

function fromApi(d: ArchiveDeployment): ArchiveDeployment {
  return {...d, createdAt: millis(d.createdAt), updatedAt: millis(d.updatedAt)}
}

const ok = <T>(promise: Promise<T>): Promise<T | undefined> =>
  promise.catch((error: unknown) => {
    if (error instanceof MtlsError && error.status === 'NOT_FOUND') return undefined
    throw error
  })

/**
 * The Apigee v1 REST API as an `ApigeeApi`: a real organization, or `mtlsctl emulator start`.
 * Alias sources that need this machine (a key to open and check, the local CA) are resolved
 * and checked here first, with the engine's own code; what the server then says is final.
 */
export class RemoteApigee implements ApigeeApi {
  readonly backend = 'remote' as const

  constructor(
    private readonly http: ApigeeHttpClient,
    /** The local state folder: the CAs that `--ca` issues from live there. */
    private readonly localStore: Store,
  ) {}

  get where(): string {
    return this.http.endpoint
  }

  listEnvironmentNames(org: string) {
    return this.http.call<string[]>({method: 'GET', path: `${orgPath(org)}/environments`})
  }

  getEnvironment(org: string, env: string) {
    return this.http.call<Environment>({method: 'GET', path: envPath(org, env)})
  }

  createKeystore(org: string, env: string, ks: string) {
    return this.http.call<Keystore>({method: 'POST', path: `${envPath(org, env)}/keystores`, json: {name: ks}})
  }

  getKeystore(org: string, env: string, ks: string) {
    return this.http.call<Keystore>({method: 'GET', path: keystorePath(org, env, ks)})
  }

  listKeystoreNames(org: string, env: string) {
    return this.http.call<string[]>({method: 'GET', path: `${envPath(org, env)}/keystores`})
  }

  deleteKeystore(org: string, env: string, ks: string) {
    return this.http.call<Keystore>({method: 'DELETE', path: keystorePath(org, env, ks)})
  }

  async createAlias(org: string, env: string, ks: string, alias: string, source: AliasSource, options: {ignoreExpiryValidation?: boolean} = {}): Promise<Alias> {
    const query: Record<string, string | undefined> = {alias, ...(options.ignoreExpiryValidation ? {ignoreExpiryValidation: 'true'} : {})}
    const post = (format: string, body: {form?: FormPart[]; json?: unknown; secrets?: string[]}) =>
      this.http.call<Alias>({method: 'POST', path: `${keystorePath(org, env, ks)}/aliases`, query: {...query, format}, ...body})

    if (source.format === 'selfsignedcert') return post('selfsignedcert', {json: selfSignedSpec(alias, source)})

    // Everything else is opened and checked here, with the engine's checks, before any upload.
    let password = source.format === 'keycertfile' ? source.password : undefined
    const checked =
      source.format === 'keycertfile' && source.askPassword
        ? {...source, askPassword: async (file: string) => (password = await source.askPassword!(file))}
        : source
    const material = await readAliasSource(this.localStore, checked)
    const chain = checkAliasMaterial(material, options.ignoreExpiryValidation ?? false)

    if (source.format === 'pkcs12') {
      return post('pkcs12', {
        form: [
          {name: 'file', value: source.data, filename: path.basename(source.file), contentType: 'application/x-pkcs12'},
          {name: 'password', value: source.password},
        ],
        secrets: [source.password],
      })
    }
    const form: FormPart[] = [{name: 'certFile', value: chain.map((c) => c.pem).join(''), filename: 'cert.pem', contentType: 'application/x-pem-file'}]
    if (source.format === 'keycertfile' && source.key !== undefined) {
      // The key as the user gave it (still encrypted when it was), with its password.
      form.push({name: 'keyFile', value: source.key, filename: path.basename(source.keyFile ?? 'key.pem'), contentType: 'application/x-pem-file'})
      if (password) form.push({name: 'password', value: password})
    } else if (material.key) {
      // A key from the local CA, or one that sat in the certificate's PEM: sent as PKCS#8.
      form.push({name: 'keyFile', value: material.key.export({type: 'pkcs8', format: 'pem'}) as string, filename: 'key.pem', contentType: 'application/x-pem-file'})
    }
    return post('keycertfile', {form, secrets: password ? [password] : []})
  }

  getAlias(org: string, env: string, ks: string, alias: string) {
    return this.http.call<Alias>({method: 'GET', path: aliasPath(org, env, ks, alias)})
  }

  async listAliasNames(org: string, env: string, ks: string) {
    return (await this.getKeystore(org, env, ks)).aliases ?? []
  }

  deleteAlias(org: string, env: string, ks: string, alias: string) {
    return this.http.call<Alias>({method: 'DELETE', path: aliasPath(org, env, ks, alias)})
  }

  updateAliasCertificate(org: string, env: string, ks: string, alias: string, cert: {data: Buffer; file: string}, options: {ignoreExpiryValidation?: boolean} = {}) {
    return this.http.call<Alias>({
      method: 'PUT',
      path: aliasPath(org, env, ks, alias),
      query: options.ignoreExpiryValidation ? {ignoreExpiryValidation: 'true'} : undefined,
      form: [{name: 'certFile', value: cert.data, filename: path.basename(cert.file), contentType: 'application/x-pem-file'}],
    })
  }

  aliasCertificate(org: string, env: string, ks: string, alias: string) {
    return this.http.call<string>({method: 'GET', path: `${aliasPath(org, env, ks, alias)}/certificate`, accept: 'text'})
  }

  aliasCsr(org: string, env: string, ks: string, alias: string) {
    return this.http.call<string>({method: 'GET', path: `${aliasPath(org, env, ks, alias)}/csr`, accept: 'text'})
  }

  createReference(org: string, env: string, name: string, input: ReferenceInput) {
    return this.http.call<Reference>({method: 'POST', path: `${envPath(org, env)}/references`, json: {name, ...referenceBody(input)}})
  }

  getReference(org: string, env: string, name: string) {
    return this.http.call<Reference>({method: 'GET', path: referencePath(org, env, name)})
  }

  listReferenceNames(org: string, env: string) {
    return this.http.call<string[]>({method: 'GET', path: `${envPath(org, env)}/references`})
  }

  updateReference(org: string, env: string, name: string, input: ReferenceInput) {
    return this.http.call<Reference>({method: 'PUT', path: referencePath(org, env, name), json: {name, ...referenceBody(input)}})
  }

  deleteReference(org: string, env: string, name: string) {
    return this.http.call<Reference>({method: 'DELETE', path: referencePath(org, env, name)})
  }

  /** gcloud's three steps: an upload URL, the PUT of the zip there, the deployment naming it. */
  async deployArchive(org: string, env: string, zip: Buffer, options: DeployOptions): Promise<Operation> {
    const base = `${envPath(org, env)}/archiveDeployments`
    // Asking for an upload URL creates nothing: safe to retry.
    const {uploadUri} = await this.http.call<{uploadUri?: string}>({method: 'POST', path: `${base}:generateUploadUrl`, json: {}, idempotent: true})
    if (typeof uploadUri !== 'string' || uploadUri === '') {
      throw new MtlsError('INTERNAL', `The Apigee API at ${this.http.endpoint} answered :generateUploadUrl without an uploadUri.`)
    }
    await this.http.uploadArchive(uploadUri, zip)
    const labels = options.labels && Object.keys(options.labels).length > 0 ? {labels: options.labels} : {}
    const operation = await this.http.call<Operation>({method: 'POST', path: base, json: {gcs_uri: uploadUri, ...labels}, secrets: [uploadUri]})
    options.onCreated?.(operation)
    return operation
  }

  async listArchiveDeployments(org: string, env: string): Promise<ArchiveDeployment[]> {
    const found: ArchiveDeployment[] = []
    let pageToken: string | undefined
    do {
      const page = await this.http.call<{archiveDeployments?: ArchiveDeployment[]; nextPageToken?: string}>({
        method: 'GET',
        path: `${envPath(org, env)}/archiveDeployments`,
        query: {pageSize: String(PAGE_SIZE), pageToken},
      })
      found.push(...(page.archiveDeployments ?? []).map(fromApi))
      pageToken = page.nextPageToken || undefined
    } while (pageToken)
    return found
  }

  async getArchiveDeployment(org: string, env: string, id: string) {
    return fromApi(await this.http.call<ArchiveDeployment>({method: 'GET', path: archivePath(org, env, id)}))
  }

  /** `:generateDownloadUrl`, then the GET of that signed URL (no Authorization header). */
  async getArchiveZip(org: string, env: string, id: string): Promise<Buffer> {
    const {downloadUri} = await this.http.call<{downloadUri?: string}>({
      method: 'POST',
      path: `${archivePath(org, env, id)}:generateDownloadUrl`,
      json: {},
      idempotent: true,
    })
    if (typeof downloadUri !== 'string' || downloadUri === '') {
      throw new MtlsError('INTERNAL', `The Apigee API at ${this.http.endpoint} answered :generateDownloadUrl without a downloadUri.`)
    }
    return this.http.downloadArchive(downloadUri)
  }

  async deleteArchiveDeployment(org: string, env: string, id: string) {
    await this.http.call({method: 'DELETE', path: archivePath(org, env, id)})
  }

  getApiProxy(org: string, api: string) {
    return ok(this.http.call<ApiProxy>({method: 'GET', path: `${orgPath(org)}/apis/${e('api', api)}`}))
  }

  getOperation(org: string, uuid: string) {
    const id = uuid.split('/').pop() as string
    return this.http.call<Operation>({method: 'GET', path: `${orgPath(org)}/operations/${encodeURIComponent(id)}`})
  }

  async listOperations(org: string, filter: OperationFilter = {}): Promise<Operation[]> {
    const found: Operation[] = []
    let pageToken: string | undefined
    do {
      const page = await this.http.call<{operations?: Operation[]; nextPageToken?: string}>({
        method: 'GET',
        path: `${orgPath(org)}/operations`,
        query: {pageSize: String(PAGE_SIZE), pageToken},
      })
      found.push(...(page.operations ?? []))
      pageToken = page.nextPageToken || undefined
    } while (pageToken)
    const state = filter.state?.toUpperCase()
    return state ? found.filter((op) => op.metadata?.state === state) : found
  }

  close() {
    return this.http.close()
  }
}

function referenceBody(input: ReferenceInput) {
  return {resourceType: input.resourceType, refers: input.refers, ...(input.description ? {description: input.description} : {})}
}

/** Apigee's `selfsignedcert` body from the CLI's openssl-style subject and SANs. */
function selfSignedSpec(alias: string, source: Extract<AliasSource, {format: 'selfsignedcert'}>) {
  const subject: Record<string, string> = {}
  for (const {type, value} of parseSubject(source.subject)) {
    const field = SUBJECT_FIELDS[type]
    if (!field) {
      throw invalidArgument(
        `Apigee's self-signed certificates take no ${type} in the subject.`,
        `Use ${Object.keys(SUBJECT_FIELDS).join(', ')}; or issue the certificate with --ca and upload it.`,
      )
    }
    subject[field] = value
  }
  const dns: string[] = []
  for (const san of parseSans(source.sans)) {
    if (san.type !== 'DNS') throw invalidArgument(`Apigee's self-signed certificates take DNS names only as subject alternative names, not ${san.type}.`)
    dns.push(san.value)
  }
  return {
    alias,
    keySize: String(source.keySize ?? 2048),
    sigAlg: 'SHA256withRSA',
    ...(source.days !== undefined ? {certValidityInDays: source.days} : {}),
    subject,
    ...(dns.length > 0 ? {subjectAlternativeDNSNames: {subjectAlternativeName: dns.join(',')}} : {}),
  }
}
