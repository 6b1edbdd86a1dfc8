import * as path from 'node:path'

import {getArchiveZip, parseLabels, type ArchiveDeployment} from '../../core/archives/deployments.js'
import type {Store} from '../../core/store/index.js'
import {getEnvironment} from '../../core/environments.js'
import {invalidArgument, notFound} from '../../core/errors.js'
import {mediaType, readJson, readToFile} from '../bodies.js'
import {unsupportedMediaType} from '../http-errors.js'
import type {ApiContext, Router} from '../router.js'
import {DOWNLOAD_PATH} from '../downloads.js'
import {UPLOAD_PATH} from '../uploads.js'
import {optionalString} from './inputs.js'

/**
 * Archive deployments, in gcloud's order: `:generateUploadUrl`, the PUT of the zip to that
 * URL, `POST .../archiveDeployments {"gcs_uri": URL, "labels": {...}}` answering the
 * operation. The deployment is created and run by a worker process (deploy-worker.ts), which
 * holds the operation's lease as `dist/worker.js` does for `archives deploy --async`: the
 * server never reads a whole archive nor validates one on its own event loop.
 */
const DEFAULT_PAGE_SIZE = 25
const MAX_PAGE_SIZE = 100

function labelsOf(body: Record<string, unknown>): Record<string, string> | undefined {
  const labels = body.labels
  if (labels === undefined || labels === null) return undefined
  if (typeof labels !== 'object' || Array.isArray(labels)) throw invalidArgument("Invalid value at 'labels': expected an object of strings.")
  const checked: Record<string, string> = {}
  for (const [key, value] of Object.entries(labels)) {
    if (typeof value !== 'string') throw invalidArgument(`Invalid value at 'labels.${key}': expected a string.`)
    // The engine's label rule, applied to the key alone (a value may hold "," or "=").
    const parsed = parseLabels(key)
    if (Object.keys(parsed).length !== 1 || !(key in parsed)) throw invalidArgument(`Invalid label key "${key}".`)
    checked[key] = value
  }
  return checked
}

/** `{archiveDeployments, nextPageToken}`: the token is the offset of the next page. */
function page<T>(items: T[], query: URLSearchParams): {items: T[]; next?: string} {
  const sizeText = query.get('pageSize')
  const size = sizeText === null || sizeText === '' ? DEFAULT_PAGE_SIZE : Number(sizeText)
  if (!Number.isInteger(size) || size < 0) throw invalidArgument(`Invalid pageSize "${sizeText}".`)
  const token = query.get('pageToken')
  const start = token === null || token === '' ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8'))
  if (!Number.isInteger(start) || start < 0) throw invalidArgument(`Invalid pageToken "${token}".`)
  const end = start + Math.min(size === 0 ? DEFAULT_PAGE_SIZE : size, MAX_PAGE_SIZE)
  return {items: items.slice(start, end), ...(end < items.length ? {next: Buffer.from(String(end)).toString('base64url')} : {})}
}

/**
 * The stored deployment as Apigee's `ArchiveDeployment` (gcloud adds the status itself).
 * Times go out in microseconds: gcloud's `archives list` reads `createdAt` with `unit=1000000`
 * (the API reference says milliseconds; the real client is what scripts see).
 */
function apiView(deployment: ArchiveDeployment): ArchiveDeployment {
  return {...deployment, createdAt: `${deployment.createdAt}000`, updatedAt: `${deployment.updatedAt}000`}
}

export function archiveRoutes(router: Router): void {
  const base = '/v1/organizations/:org/environments/:env/archiveDeployments'

  router.add('POST', `${base}:generateUploadUrl`, async ({req, store, params, ctx}) => {
    await readJson(req, ctx.limits.json)
    await getEnvironment(store, params.org, params.env)
    const id = ctx.uploads.open(params.org, params.env)
    return {json: {uploadUri: `${ctx.origin(req)}${UPLOAD_PATH}${id}`}}
  })

  router.add('POST', base, async ({req, store, params, ctx}) => {
    const body = await readJson(req, ctx.limits.json)
    const gcsUri = optionalString(body, 'gcs_uri') ?? optionalString(body, 'gcsUri')
    if (gcsUri === undefined || gcsUri === '') {
      throw invalidArgument("Missing required field 'gcs_uri': upload the zip to the URL that archiveDeployments:generateUploadUrl returned, then pass that URL.")
    }
    const labels = labelsOf(body)
    await getEnvironment(store, params.org, params.env)
    const upload = ctx.uploads.file(gcsUri, params.org, params.env)
    let operation
    try {
      operation = await ctx.deploy({root: ctx.root, org: params.org, env: params.env, zipFile: upload.file, labels, gcsUri})
    } catch (error) {
      ctx.uploads.release(upload.id)
      throw error
    }
    ctx.uploads.discard(upload.id)
    return {json: operation}
  })

  router.add('GET', base, async ({api, params, query}) => {
    // Newest first, as gcloud lists them; each page reads only the documents (no operation).
    const docs = (await api.listArchiveDeployments(params.org, params.env)).sort(
      (a, b) => Number(b.createdAt) - Number(a.createdAt) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    )
    const {items, next} = page(docs, query)
    return {json: {archiveDeployments: items.map(apiView), ...(next ? {nextPageToken: next} : {})}}
  })

  router.add('GET', `${base}/:archive`, async ({api, params}) => ({json: apiView(await api.getArchiveDeployment(params.org, params.env, params.archive))}))

  // The proxies that successful deployments created (what the deploy preflight's revisions read).
  router.add('GET', '/v1/organizations/:org/apis/:api', async ({api, params}) => {
    const proxy = await api.getApiProxy(params.org, params.api)
    if (!proxy) throw notFound(`ApiProxy "organizations/${params.org}/apis/${params.api}" not found.`)
    return {json: proxy}
  })

  // A signed URL for the zip a deployment was created from (mtlsctl's where-used reads it).
  router.add('POST', `${base}/:archiveDownload`, async ({req, api, params, ctx}) => {
    await readJson(req, ctx.limits.json)
    const id = params.archiveDownload.slice(0, -':generateDownloadUrl'.length)
    await api.getArchiveDeployment(params.org, params.env, id)
    return {json: {downloadUri: `${ctx.origin(req)}${DOWNLOAD_PATH}${ctx.downloads.open(params.org, params.env, id)}`}}
  })

  router.add('DELETE', `${base}/:archive`, async ({api, params}) => {
    await api.deleteArchiveDeployment(params.org, params.env, params.archive)
    return {json: {}}
  })
}

/** The GET of a download URL: the zip, no bearer token (the URL is the credential). */
export async function sendDownload(ctx: ApiContext, req: import('node:http').IncomingMessage, token: string, store: Store): Promise<Buffer> {
  if (req.method !== 'GET') throw invalidArgument(`Download URLs take GET, not ${req.method}.`)
  const slot = ctx.downloads.slot(token)
  return getArchiveZip(store, slot.org, slot.env, slot.id)
}

/** The PUT of an archive to an upload URL (no bearer token: the URL is the credential). */
export async function receiveUpload(ctx: ApiContext, req: import('node:http').IncomingMessage, id: string): Promise<void> {
  if (req.method !== 'PUT') throw invalidArgument(`Upload URLs take PUT, not ${req.method}.`)
  const file = ctx.uploads.target(id)
  const type = mediaType(req)
  if (type !== 'application/zip') throw unsupportedMediaType(req.headers['content-type'], 'application/zip (and x-goog-content-length-range: 0,1073741824), as for a GCS signed URL')
  await readToFile(req, file, ctx.limits.archive)
  ctx.uploads.uploaded(path.basename(file))
}
