import type {IncomingMessage} from 'node:http'

import {checkId, type IdKind} from '../core/names.js'
import type {Operation} from '../core/operations.js'
import type {LocalApigee} from '../core/apigee/local.js'
import type {Store} from '../core/store/index.js'
import type {BodyLimits} from './bodies.js'
import type {DeployRequest} from './deploy-worker.js'
import {badRequest, methodNotFound, pathNotFound} from './http-errors.js'
import type {Downloads} from './downloads.js'
import type {Uploads} from './uploads.js'

/**
 * The emulator's routes: Apigee v1 paths (`/v1/organizations/:org/...`) to handlers. Every
 * path parameter is checked with the engine's own id rules before a handler runs, so a name
 * that would leave the state folder (`..`, `a%2Fb`) is refused with 400 whatever the handler.
 */
export interface ApiContext {
  /** The state folder. */
  root: string
  /** A fresh store for one flow of work (a request, a background deployment). */
  store(): Store
  limits: BodyLimits
  uploads: Uploads
  downloads: Downloads
  /**
   * Creates an archive deployment in a worker process and answers its operation; the worker
   * runs it after the answer (the server waits for it on close).
   */
  deploy(request: DeployRequest): Promise<Operation>
  /** `http://host:port` as the client reached it (for upload URLs). */
  origin(req: IncomingMessage): string
}

export interface ApiRequest {
  req: IncomingMessage
  params: Record<string, string>
  query: URLSearchParams
  /** A store of its own per request (see queued-store.ts). */
  store: Store
  /** The local implementation of Apigee's API over that store: what the emulator serves. */
  api: LocalApigee
  ctx: ApiContext
}

export interface ApiResponse {
  status?: number
  /** A JSON answer, or text with its content type. */
  json?: unknown
  text?: string
  contentType?: string
}

export type Handler = (request: ApiRequest) => Promise<ApiResponse>

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH'

interface Route {
  method: Method
  segments: string[]
  handler: Handler
}

/** Which id rule checks each path parameter. */
const PARAM_KINDS: Record<string, IdKind | 'uuid' | 'archive' | 'archiveDownload'> = {
  org: 'organization',
  env: 'environment',
  ks: 'keystore',
  alias: 'alias',
  ref: 'reference',
  operation: 'uuid',
  archive: 'archive',
  archiveDownload: 'archiveDownload',
  api: 'api',
}

function checkParam(name: string, value: string): void {
  const kind = PARAM_KINDS[name]
  if (kind === 'uuid') {
    if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(value)) {
      throw badRequest(`Invalid operation id "${value}": it must be a UUID.`)
    }
  } else if (kind === 'archive') {
    if (!/^[a-z0-9]{1,63}$/.test(value)) throw badRequest(`Invalid archive deployment id "${value}".`)
  } else if (kind === 'archiveDownload') {
    if (!/^[a-z0-9]{1,63}:generateDownloadUrl$/.test(value)) throw badRequest(`Invalid archive deployment "${value}": POST .../archiveDeployments/ID:generateDownloadUrl.`)
  } else if (kind !== undefined) {
    checkId(kind, value)
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

export class Router {
  private readonly routes: Route[] = []

  add(method: Method, path: string, handler: Handler): this {
    this.routes.push({method, segments: path.split('/'), handler})
    return this
  }

  /** The handler and decoded, checked parameters for a request path (without the query). */
  match(method: string, path: string): {handler: Handler; params: Record<string, string>} {
    const raw = path.split('/')
    const allowed: string[] = []
    for (const route of this.routes) {
      if (route.segments.length !== raw.length) continue
      const params: Record<string, string> = {}
      let matched = true
      for (let i = 0; i < raw.length && matched; i++) {
        const want = route.segments[i]
        if (want.startsWith(':')) {
          if (raw[i] === '') matched = false
          else params[want.slice(1)] = raw[i]
        } else if (want !== raw[i] && want !== safeDecode(raw[i])) {
          matched = false
        }
      }
      if (!matched) continue
      if (route.method !== method) {
        allowed.push(route.method)
        continue
      }
      for (const [name, value] of Object.entries(params)) {
        let decoded: string
        try {
          decoded = decodeURIComponent(value)
        } catch {
          throw badRequest(`Invalid percent-encoding in the path: "${value}".`)
        }
        checkParam(name, decoded)
        params[name] = decoded
      }
      return {handler: route.handler, params}
    }
    if (allowed.length > 0) throw methodNotFound(method, path, allowed)
    throw pathNotFound(method, path)
  }
}
