import {randomBytes, timingSafeEqual} from 'node:crypto'
import * as http from 'node:http'
import type {AddressInfo} from 'node:net'
import {performance} from 'node:perf_hooks'

import {MtlsError} from '../core/errors.js'
import {LocalApigee} from '../core/apigee/local.js'
import {openStore} from '../core/store/index.js'
import {DEFAULT_LIMITS, type BodyLimits} from './bodies.js'
import {startDeployment} from './deploy-worker.js'
import {aliasRoutes} from './handlers/aliases.js'
import {archiveRoutes, receiveUpload, sendDownload} from './handlers/archives.js'
import {environmentRoutes} from './handlers/environments.js'
import {keystoreRoutes} from './handlers/keystores.js'
import {operationRoutes} from './handlers/operations.js'
import {referenceRoutes} from './handlers/references.js'
import {invalidCredential, missingCredential, pathNotFound, toGoogleError} from './http-errors.js'
import {Router, type ApiContext, type ApiResponse} from './router.js'
import {LockQueue, queuedStore} from './queued-store.js'
import {redactUrl, scrub} from './redact.js'
import {DOWNLOAD_PATH, Downloads} from './downloads.js'
import {UPLOAD_PATH, Uploads} from './uploads.js'

export {redact} from './redact.js'

/**
 * The local Apigee API: Apigee's v1 REST paths served from the state folder by the same
 * engine functions the CLI calls. Node's own HTTP server; every request is answered, errors
 * in Google's shape, and nothing a client sends can stop the server.
 */
export interface ApiServerOptions {
  /** The state folder. */
  root: string
  host?: string
  /** 0 picks a free port. */
  port?: number
  /** When set, every /v1 request must carry `Authorization: Bearer <token>`. */
  token?: string
  limits?: Partial<BodyLimits>
  /** One line per request (`GET /v1/... 200 1.2 ms`), secrets in the URL redacted. */
  log?: (line: string) => void
  /** Failures that are not the client's fault (a bug, a full disk, a deployment worker), redacted. */
  onError?: (line: string) => void
}

export interface ApiServer {
  readonly url: string
  readonly host: string
  readonly port: number
  readonly server: http.Server
  /** Stops accepting requests, waits for running deployments, removes pending uploads. */
  close(): Promise<void>
  /** Deployments whose worker process has not exited yet. */
  readonly runningDeployments: number
}

export const STATUS_PATH = '/emulator/status'

function buildRouter(): Router {
  const router = new Router()
  environmentRoutes(router)
  keystoreRoutes(router)
  aliasRoutes(router)
  referenceRoutes(router)
  archiveRoutes(router)
  operationRoutes(router)
  return router
}

function send(res: http.ServerResponse, status: number, body: string, contentType: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  res.writeHead(status, {'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers})
  res.end(body)
}

const JSON_TYPE = 'application/json; charset=UTF-8'

function sendJson(res: http.ServerResponse, status: number, value: unknown, headers?: Record<string, string>): void {
  send(res, status, JSON.stringify(value, null, 2) + '\n', JSON_TYPE, headers)
}

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  return match?.[1]
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const router = buildRouter()
  const uploads = new Uploads()
  const downloads = new Downloads()
  const limits: BodyLimits = {...DEFAULT_LIMITS, ...options.limits}
  const running = new Set<Promise<void>>()
  const queue = new LockQueue()
  const storeFor = () => queuedStore(openStore(options.root), queue)
  const expected = options.token === undefined ? undefined : Buffer.from(options.token)
  const onError = (line: string) => options.onError?.(scrub(line, []))
  let address: AddressInfo | undefined
  const startedAt = new Date().toISOString()

  const ctx: ApiContext = {
    root: options.root,
    store: storeFor,
    limits,
    uploads,
    downloads,
    async deploy(request) {
      const started = await startDeployment(request, storeFor, onError)
      const done: Promise<void> = started.finished.finally(() => running.delete(done))
      running.add(done)
      return started.operation
    },
    origin(req) {
      const host = req.headers.host
      if (host && /^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9a-fA-F:.]+\](?::\d{1,5})?$/.test(host)) return `http://${host}`
      return `http://${formatHost(address?.address ?? '127.0.0.1')}:${address?.port}`
    },
  }

  function authenticate(req: http.IncomingMessage): void {
    if (!expected) return
    const header = req.headers.authorization
    if (header === undefined) throw missingCredential()
    const given = Buffer.from(bearer(header) ?? '')
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidCredential()
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    if (path.startsWith(UPLOAD_PATH)) {
      await receiveUpload(ctx, req, path.slice(UPLOAD_PATH.length))
      send(res, 200, '', 'text/plain; charset=UTF-8')
      return
    }
    if (path.startsWith(DOWNLOAD_PATH)) {
      const zip = await sendDownload(ctx, req, path.slice(DOWNLOAD_PATH.length), storeFor())
      res.writeHead(200, {'content-type': 'application/zip', 'content-length': zip.length})
      res.end(zip)
      return
    }
    if (path === STATUS_PATH && req.method === 'GET') {
      // It names the process and the state folder: only for those who hold the token.
      authenticate(req)
      sendJson(res, 200, {pid: process.pid, url: server.url, stateFolder: options.root, startedAt, runningDeployments: running.size})
      return
    }
    if (!path.startsWith('/v1/')) throw pathNotFound(req.method ?? '', path)
    authenticate(req)
    const {handler, params} = router.match(req.method ?? '', path)
    const store = storeFor()
    const answer: ApiResponse = await handler({req, params, query, store, api: new LocalApigee(store), ctx})
    if (answer.text !== undefined) send(res, answer.status ?? 200, answer.text, answer.contentType ?? 'text/plain; charset=UTF-8')
    else sendJson(res, answer.status ?? 200, answer.json ?? {})
  }

  const http_ = http.createServer({requestTimeout: 30 * 60_000}, (req, res) => {
    const started = performance.now()
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q < 0 ? url : url.slice(0, q)
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1))
    const logged = redactUrl(url)
    route(req, res, path, query)
      .catch((error: unknown) => {
        const incident = randomBytes(4).toString('hex')
        const {httpStatus, body, headers, unexpected} = toGoogleError(error, incident)
        if (unexpected) onError(scrub(`incident ${incident}: ${req.method} ${logged.url}: ${(error as Error)?.stack ?? String(error)}`, logged.secrets))
        // A refused body may still be arriving: drain it so the client can read the answer.
        if (!req.complete) req.resume()
        sendJson(res, httpStatus, body, headers)
      })
      .finally(() => {
        if (options.log) {
          const ms = (performance.now() - started).toFixed(1)
          options.log(`${req.socket.remoteAddress ?? '-'} ${req.method} ${logged.url} ${res.statusCode} ${ms} ms`)
        }
      })
  })

  // Garbage that is not HTTP gets a 400 in Google's shape, and only that connection closes.
  http_.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy()
      return
    }
    const body = JSON.stringify({error: {code: 400, message: `Malformed HTTP request: ${error.message}`, status: 'INVALID_ARGUMENT'}}) + '\n'
    socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: ${JSON_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  })

  await new Promise<void>((resolve, reject) => {
    const refuse = (error: NodeJS.ErrnoException) => reject(listenError(error, options.host ?? '127.0.0.1', options.port ?? 8080))
    http_.once('error', refuse)
    http_.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => {
      http_.off('error', refuse)
      resolve()
    })
  })
  address = http_.address() as AddressInfo
  const host = options.host ?? '127.0.0.1'

  const server: ApiServer = {
    url: `http://${formatHost(host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host)}:${address.port}/`,
    host,
    port: address.port,
    server: http_,
    get runningDeployments() {
      return running.size
    },
    async close() {
      const closed = new Promise<void>((resolve) => http_.close(() => resolve()))
      http_.closeIdleConnections()
      await Promise.allSettled([...running])
      http_.closeAllConnections()
      await closed
      uploads.close()
      downloads.close()
    },
  }
  return server
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${formatHost(host)}:${port}`
  switch (error.code) {
    case 'EADDRINUSE':
      return new MtlsError('FAILED_PRECONDITION', `Cannot listen on ${where}: the port is in use.`, {hint: 'Choose another --port (0 picks a free one), or stop what uses it.'})
    case 'EACCES':
      return new MtlsError('PERMISSION_DENIED', `Cannot listen on ${where}: permission denied.`, {hint: 'Ports below 1024 need privileges: choose --port 8080, or 0 for a free one.'})
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new MtlsError('INVALID_ARGUMENT', `Cannot listen on ${where}: no such address on this machine.`, {hint: 'Use --host 127.0.0.1 (the default), or an address of this machine.'})
    default:
      return new MtlsError('INTERNAL', `Cannot listen on ${where}: ${error.message}`)
  }
}

function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}
