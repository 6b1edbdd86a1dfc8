import type {IncomingMessage} from 'node:http'

import type {AliasSource} from '../../core/alias-sources.js'
import {checkDays} from '../../core/ca/certificates.js'
import {invalidArgument} from '../../core/errors.js'
import {checkId} from '../../core/names.js'
import {mediaType, readJson, readMultipart, type MultipartForm, type UploadedFile} from '../bodies.js'
import {unsupportedMediaType} from '../http-errors.js'
import type {ApiContext, Router} from '../router.js'
import {optionalInteger, optionalString, queryFlag} from './inputs.js'

/**
 * Aliases, as Apigee's REST API takes them:
 *   POST .../aliases?alias=A&format=keycertfile   multipart: certFile, keyFile (optional), password
 *   POST .../aliases?alias=A&format=pkcs12        multipart: file, password
 *   POST .../aliases?alias=A&format=selfsignedcert JSON: subject {commonName, org, ...}, keySize,
 *        sigAlg, certValidityInDays, subjectAlternativeDNSNames {subjectAlternativeName}
 *   PUT  .../aliases/A                            multipart: certFile (replaces the certificate)
 * `ignoreExpiryValidation` is a query parameter; the password may come as one too (apigeecli).
 */
const PEM = 'application/x-pem-file'

function requiredFile(form: MultipartForm, field: string, format: string): UploadedFile {
  const file = form.files[field] ?? (form.fields[field] !== undefined ? {data: Buffer.from(form.fields[field])} : undefined)
  if (!file || file.data.length === 0) {
    throw invalidArgument(`Missing required multipart field '${field}' for format ${format}.`)
  }
  return file
}

function password(form: MultipartForm, query: URLSearchParams): string | undefined {
  return form.fields.password ?? query.get('password') ?? undefined
}

/** Apigee's `subject` object as an openssl-style DN (`/C=US/O=Acme/CN=host`) for the engine. */
const SUBJECT_FIELDS: Array<[string, string]> = [
  ['countryCode', 'C'],
  ['state', 'ST'],
  ['locality', 'L'],
  ['org', 'O'],
  ['orgUnit', 'OU'],
  ['commonName', 'CN'],
  ['email', 'emailAddress'],
]

function subjectOf(body: Record<string, unknown>): string {
  const subject = body.subject
  if (typeof subject === 'string') return subject
  if (subject === null || typeof subject !== 'object' || Array.isArray(subject)) {
    throw invalidArgument("Missing required field 'subject' (an object with commonName, org, orgUnit, locality, state, countryCode, email).")
  }
  const fields = subject as Record<string, unknown>
  const parts: string[] = []
  for (const [field, type] of SUBJECT_FIELDS) {
    const value = optionalString(fields, field)
    if (value !== undefined && value !== '') parts.push(`/${type}=${value.replaceAll('\\', '\\\\').replaceAll('/', '\\/')}`)
  }
  if (parts.length === 0) throw invalidArgument("Invalid value at 'subject': give at least commonName.")
  return parts.join('')
}

function sansOf(body: Record<string, unknown>): string[] | undefined {
  const sans = body.subjectAlternativeDNSNames
  if (sans === undefined || sans === null) return undefined
  if (typeof sans !== 'object' || Array.isArray(sans)) {
    throw invalidArgument("Invalid value at 'subjectAlternativeDNSNames': expected {\"subjectAlternativeName\": \"host\"}.")
  }
  const name = optionalString(sans as Record<string, unknown>, 'subjectAlternativeName')
  return name ? name.split(',').map((n) => `DNS:${n.trim()}`) : undefined
}

/** The API names its own field: the engine's check, worded with `certValidityInDays`. */
function validityDays(body: Record<string, unknown>): number | undefined {
  const days = optionalInteger(body, 'certValidityInDays')
  return days === undefined ? undefined : checkDays(days, `value at 'certValidityInDays' (${days})`)
}

function keySizeOf(body: Record<string, unknown>): number | undefined {
  const size = optionalInteger(body, 'keySize')
  if (size !== undefined && ![2048, 3072, 4096].includes(size)) throw invalidArgument(`Invalid value at 'keySize' (${size}): use 2048, 3072 or 4096.`)
  return size
}

async function aliasSource(req: IncomingMessage, query: URLSearchParams, ctx: ApiContext): Promise<{source: AliasSource; alias?: string}> {
  const format = query.get('format')
  switch (format) {
    case 'keycertfile': {
      const form = await readMultipart(req, ctx.limits.multipart)
      const cert = requiredFile(form, 'certFile', format)
      const key = form.files.keyFile
      return {
        source: {
          format,
          cert: cert.data,
          certFile: cert.filename ?? 'certFile',
          ...(key && key.data.length > 0 ? {key: key.data, keyFile: key.filename ?? 'keyFile'} : {}),
          password: password(form, query),
        },
      }
    }
    case 'pkcs12': {
      const form = await readMultipart(req, ctx.limits.multipart)
      const file = requiredFile(form, 'file', format)
      return {source: {format, data: file.data, file: file.filename ?? 'file', password: password(form, query) ?? ''}}
    }
    case 'selfsignedcert': {
      if (mediaType(req) !== 'application/json') throw unsupportedMediaType(req.headers['content-type'], 'application/json')
      const body = await readJson(req, ctx.limits.json)
      const sigAlg = optionalString(body, 'sigAlg')
      if (sigAlg !== undefined && sigAlg.toUpperCase() !== 'SHA256WITHRSA') {
        throw invalidArgument(`Invalid value "${sigAlg}" at 'sigAlg': mtlsctl signs with SHA256withRSA only.`)
      }
      return {
        source: {
          format,
          subject: subjectOf(body),
          sans: sansOf(body),
          days: validityDays(body),
          keySize: keySizeOf(body),
        },
        alias: optionalString(body, 'alias'),
      }
    }
    case null:
      throw invalidArgument("Missing required query parameter 'format': use keycertfile, pkcs12 or selfsignedcert.")
    default:
      throw invalidArgument(`Invalid format "${format}": use keycertfile, pkcs12 or selfsignedcert.`)
  }
}

export function aliasRoutes(router: Router): void {
  const base = '/v1/organizations/:org/environments/:env/keystores/:ks/aliases'

  router.add('POST', base, async ({req, api, params, query, ctx}) => {
    const ignoreExpiryValidation = queryFlag(query, 'ignoreExpiryValidation')
    const fromQuery = query.get('alias') ?? undefined
    // The alias name is checked before the body is read: a bad name costs no upload.
    if (fromQuery !== undefined) checkId('alias', fromQuery)
    const {source, alias: fromBody} = await aliasSource(req, query, ctx)
    const alias = fromQuery ?? fromBody
    if (alias === undefined || alias === '') throw invalidArgument("Missing required query parameter 'alias'.")
    return {json: await api.createAlias(params.org, params.env, params.ks, alias, source, {ignoreExpiryValidation})}
  })

  router.add('GET', base, async ({api, params}) => ({json: await api.listAliasNames(params.org, params.env, params.ks)}))

  router.add('GET', `${base}/:alias`, async ({api, params}) => ({json: await api.getAlias(params.org, params.env, params.ks, params.alias)}))

  router.add('PUT', `${base}/:alias`, async ({req, api, params, query, ctx}) => {
    const ignoreExpiryValidation = queryFlag(query, 'ignoreExpiryValidation')
    const form = await readMultipart(req, ctx.limits.multipart)
    const cert = requiredFile(form, 'certFile', 'update')
    const updated = await api.updateAliasCertificate(params.org, params.env, params.ks, params.alias, {data: cert.data, file: cert.filename ?? 'certFile'}, {ignoreExpiryValidation})
    return {json: updated}
  })

  router.add('DELETE', `${base}/:alias`, async ({api, params}) => ({json: await api.deleteAlias(params.org, params.env, params.ks, params.alias)}))

  router.add('GET', `${base}/:alias/certificate`, async ({api, params}) => ({
    text: await api.aliasCertificate(params.org, params.env, params.ks, params.alias),
    contentType: PEM,
  }))

  router.add('GET', `${base}/:alias/csr`, async ({api, params}) => ({
    text: await api.aliasCsr(params.org, params.env, params.ks, params.alias),
    contentType: PEM,
  }))
}
