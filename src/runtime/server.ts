import * as http from 'node:http'
import * as https from 'node:https'
import type {AddressInfo} from 'node:net'
import type {TLSSocket} from 'node:tls'

import {
  CERTIFICATE_VERIFY_FAILED_REPLY,
  classifyUpstreamError,
  failureReply,
  REPLIES,
  route,
  SnapshotLoader,
  tlsFailureReason,
  type LocalReply,
  type RouteMatch,
  type RuntimeSnapshot,
  type UpstreamFailure,
} from '../core/runtime/index.js'
import type {Store} from '../core/store/index.js'
import {AccessLog} from './access-log.js'
import {Pools} from './pools.js'

/**
 * The runtime's HTTP(S) server: a transport around the engine (src/core/runtime), which says
 * which deployment, proxy and target answer and what the error replies are. This file moves
 * bytes: it forwards the request to the target through a keep-alive pool and streams back
 * whatever the target answers, untouched.
 */
export interface RuntimeServerOptions {
  store: Store
  host: string
  port: number
  /** Serve HTTPS with this certificate and key. */
  tls?: {cert: Buffer; key: Buffer}
  /** How often the state folder is read for new deployments (ms). */
  reloadMs?: number
  /** Envoy's route timeout: 504 when the target has not answered by then (ms). */
  timeoutMs?: number
  /** Where the access log goes: newline-terminated lines, one per request (a batch per write). */
  log?: (lines: string) => void
  /** A deployment starts or stops being served. */
  onChange?: (message: string) => void
}

export interface RuntimeServer {
  url: string
  host: string
  port: number
  /** Reads the state folder now (the periodic reload does the same). */
  reload(): Promise<RuntimeSnapshot>
  snapshot(): RuntimeSnapshot
  close(): Promise<void>
}

/** The runtime's own status (not a proxy route): which process, which deployments. */
export const STATUS_PATH = '/.mtlsctl/runtime/status'

export interface ServedEnvironment {
  organization: string
  environment: string
  deployment: string
  proxies: Array<{name: string; basepath: string}>
}

export function servedEnvironments(snapshot: RuntimeSnapshot): ServedEnvironment[] {
  return snapshot.environments.map((e) => ({
    organization: e.org,
    environment: e.env,
    deployment: e.deployment,
    proxies: e.proxies.map((p) => ({name: p.name, basepath: p.basepath})),
  }))
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'http2-settings', 'expect', 'host'])

function forwardHeaders(raw: string[], extra: Array<[string, string]> = []): string[] {
  const out: string[] = []
  for (let i = 0; i < raw.length; i += 2) {
    if (!HOP_BY_HOP.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1])
  }
  for (const [k, v] of extra) out.push(k, v)
  return out
}

function sendLocal(res: http.ServerResponse, reply: LocalReply): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const body = Buffer.from(reply.body, 'utf8')
  const headers: http.OutgoingHttpHeaders = {'content-length': body.length}
  if (reply.body !== '') headers['content-type'] = 'text/plain'
  res.writeHead(reply.status, headers)
  res.end(body)
}

function describeFailure(failure: UpstreamFailure, error?: Error): string {
  const detail = error ? ` (${(error as NodeJS.ErrnoException).code ?? ''}${error.message ? ` ${error.message}` : ''})` : ''
  switch (failure.kind) {
    case 'tls':
      return `${tlsFailureReason(failure.reason)}${detail}`
    case 'connect':
      return `connection failure${detail}`
    case 'reset':
      return `connection termination${detail}`
    case 'timeout':
      return 'upstream request timeout'
    case 'unhealthy':
      return 'no healthy upstream'
  }
}

export async function startRuntimeServer(options: RuntimeServerOptions): Promise<RuntimeServer> {
  const loader = new SnapshotLoader(options.store, {onChange: options.onChange})
  const pools = new Pools(await import('undici'))
  const accessLog = new AccessLog(options.log)
  const timeoutMs = options.timeoutMs ?? 15_000
  let current = await loader.load()
  let reloading: Promise<RuntimeSnapshot> | undefined

  const reload = (): Promise<RuntimeSnapshot> => {
    reloading ??= loader
      .load()
      .then((snapshot) => {
        current = snapshot
        const keys = new Set<string>()
        for (const e of snapshot.environments) for (const t of [...e.targets.values(), ...e.uriTargets.values()]) keys.add(t.poolKey)
        pools.retain(keys)
        return snapshot
      })
      .finally(() => (reloading = undefined))
    return reloading
  }

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const started = performance.now()
    const method = req.method ?? 'GET'
    const host = req.headers.host ?? ''
    const url = req.url ?? '/'
    // The configuration this request started with: a reload does not change it.
    const snapshot = current
    if (url === STATUS_PATH && method === 'GET') {
      const body = JSON.stringify({pid: process.pid, generation: snapshot.generation, serving: servedEnvironments(snapshot)})
      res.writeHead(200, {'content-type': 'application/json', 'content-length': Buffer.byteLength(body)})
      res.end(body)
      return
    }
    let match: RouteMatch | undefined
    try {
      match = route(snapshot, host, method, url)
    } catch {
      match = undefined
    }
    const finish = (status: number, failure?: string) =>
      accessLog.write({method, host, path: url, status, target: match?.target?.name, upstream: match?.target ? `${match.target.host}:${match.target.port}` : undefined, ms: performance.now() - started, failure})
    if (!match) {
      req.resume()
      sendLocal(res, REPLIES.noRoute)
      finish(404, 'no route')
      return
    }
    const target = match.target
    if (!target || !target.enabled) {
      req.resume()
      sendLocal(res, REPLIES.noHealthyUpstream)
      finish(503, target ? `target server "${target.name}" is disabled (isEnabled: false)` : `target "${match.missingTarget}" not in targetservers.json`)
      return
    }
    if (target.broken) {
      // The material the deployment named is gone: Envoy has no usable TLS context, and the
      // seed documents this reply for a keystore changed under a deployment.
      req.resume()
      sendLocal(res, CERTIFICATE_VERIFY_FAILED_REPLY)
      finish(503, target.broken)
      return
    }
    forward(req, res, match, finish)
  }

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, match: RouteMatch, finish: (status: number, failure?: string) => void) => {
    const target = match.target!
    const pool = pools.get(target)
    let settled = false
    let answered = false
    let abort: ((error?: Error) => void) | undefined
    let resumeUpstream: (() => void) | undefined
    const headers = forwardHeaders(req.rawHeaders, [
      ['host', target.port === (target.tls ? 443 : 80) ? target.host : `${target.host}:${target.port}`],
      ['x-forwarded-proto', (req.socket as TLSSocket).encrypted ? 'https' : 'http'],
    ])
    const fail = (failure: UpstreamFailure, error?: Error) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (answered) {
        res.destroy()
        finish(res.statusCode, describeFailure(failure, error))
        return
      }
      const reply = failureReply(failure)
      sendLocal(res, reply)
      finish(reply.status, describeFailure(failure, error))
    }
    const timer = setTimeout(() => {
      // Settle first: aborting makes undici report UND_ERR_ABORTED at once.
      fail({kind: 'timeout'})
      abort?.()
    }, timeoutMs)
    res.on('close', () => {
      if (!settled && !res.writableFinished) {
        settled = true
        clearTimeout(timer)
        abort?.()
      }
    })
    const hasBody = !(req.method === 'GET' || req.method === 'HEAD') && (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined)
    if (!hasBody) req.resume()
    pool.dispatch(
      {
        origin: undefined,
        path: match.upstreamPath,
        method: (req.method ?? 'GET') as 'GET',
        headers,
        body: hasBody ? req : null,
      },
      {
        onConnect: (a) => {
          abort = a
        },
        onHeaders: (statusCode, rawHeaders, resume, statusText) => {
          if (settled) return false
          answered = true
          resumeUpstream = resume
          const out: string[] = []
          for (let i = 0; i < rawHeaders.length; i += 2) {
            const name = rawHeaders[i].toString('latin1')
            if (!HOP_BY_HOP.has(name.toLowerCase())) out.push(name, rawHeaders[i + 1].toString('latin1'))
          }
          res.writeHead(statusCode, statusText, out as unknown as http.OutgoingHttpHeaders)
          return true
        },
        onData: (chunk) => {
          if (settled) return false
          if (res.write(chunk)) return true
          // The client reads slower than the target sends: pause the target until it drains.
          res.once('drain', () => resumeUpstream?.())
          return false
        },
        onComplete: () => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          res.end()
          finish(res.statusCode)
        },
        onError: (error) => {
          const code = (error as NodeJS.ErrnoException).code
          if (code === 'UND_ERR_ABORTED' && settled) return
          const cause = code === 'UND_ERR_SOCKET' ? (pools.tlsErrorOf(error) ?? error) : error
          fail(classifyUpstreamError(cause, code === 'UND_ERR_SOCKET'), cause)
        },
      },
    )
  }

  const server = options.tls ? https.createServer({cert: options.tls.cert, key: options.tls.key}, handle) : http.createServer(handle)
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const reloadTimer = setInterval(() => {
    reload().catch((error) => options.onChange?.(`Cannot read the state folder: ${(error as Error).message}`))
  }, options.reloadMs ?? 250)
  reloadTimer.unref()
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `${options.tls ? 'https' : 'http'}://${shownHost}:${address.port}/`,
    host: address.address,
    port: address.port,
    reload,
    snapshot: () => current,
    close: async () => {
      clearInterval(reloadTimer)
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      })
      await pools.closeAll()
      accessLog.flush()
    },
  }
}
