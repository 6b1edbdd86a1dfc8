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
  type ResolvedTarget,
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
  /** A deployment starts or stops being served (`key`: what it is about, as SnapshotEvents says). */
  onChange?: (message: string, key: string) => void
  /** What the message of `key` said is no longer so. */
  onClear?: (key: string) => void
  /** The pid the status path names: the runtime's own (its primary process when it runs workers). */
  pid?: number
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

/**
 * The client's headers without hop-by-hop ones (the fixed set and those its `Connection`
 * names, RFC 9110 7.6.1), and with the runtime's own `x-forwarded-proto` in place of any the
 * client sent (a plain-HTTP client could otherwise claim https).
 */
export function forwardHeaders(raw: string[], host: string, proto: string): string[] {
  let named: Set<string> | undefined
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].toLowerCase() !== 'connection') continue
    named ??= new Set()
    for (const token of raw[i + 1].split(',')) named.add(token.trim().toLowerCase())
  }
  const out: string[] = []
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase()
    if (!HOP_BY_HOP.has(name) && name !== 'x-forwarded-proto' && !named?.has(name)) out.push(raw[i], raw[i + 1])
  }
  out.push('host', host, 'x-forwarded-proto', proto)
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

interface ForwardContext {
  pools: Pools
  accessLog: AccessLog
  timeoutMs: number
}

/**
 * One request forwarded to its target: undici's dispatch handler, and the state the request
 * needs (settled, answered, the route timeout), in one object. Its methods are shared on the
 * prototype: a request allocates this object and its timer, not a set of closures.
 */
class Forward {
  private settled = false
  private answered = false
  /** Body bytes still to come, when the target sent content-length. */
  private remaining = -1
  /** The whole body, when it came in one chunk: written with the end of the response. */
  private whole: Buffer | undefined
  private abortUpstream: ((error?: Error) => void) | undefined
  private resumeUpstream: (() => void) | undefined
  private readonly timer: NodeJS.Timeout
  private readonly upstream: string

  constructor(
    private readonly context: ForwardContext,
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
    private readonly method: string,
    private readonly host: string,
    private readonly url: string,
    private readonly target: ResolvedTarget,
    upstreamPath: string,
    private readonly started: number,
  ) {
    this.upstream = `${target.host}:${target.port}`
    this.timer = setTimeout(onTimeout, context.timeoutMs, this)
    res.on('close', onResponseClose)
    ;(res as ResponseWithForward)[FORWARD] = this
    // A body goes upstream whatever the method, as Envoy forwards it (a GET may carry one).
    const length = req.headers['content-length']
    const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
    if (!hasBody) req.resume()
    context.pools.get(target).dispatch(
      {
        origin: undefined,
        path: upstreamPath,
        method: method as 'GET',
        headers: forwardHeaders(req.rawHeaders, target.port === (target.tls ? 443 : 80) ? target.host : this.upstream, (req.socket as TLSSocket).encrypted ? 'https' : 'http'),
        body: hasBody ? req : null,
      },
      this,
    )
  }

  private finish(status: number, failure?: string): void {
    this.context.accessLog.write({
      method: this.method,
      host: this.host,
      path: this.url,
      status,
      target: this.target.name,
      upstream: this.upstream,
      ms: performance.now() - this.started,
      failure,
    })
  }

  fail(failure: UpstreamFailure, error?: Error): void {
    if (this.settled) return
    this.settled = true
    clearTimeout(this.timer)
    if (this.answered) {
      this.res.destroy()
      this.finish(this.res.statusCode, describeFailure(failure, error))
      return
    }
    const reply = failureReply(failure)
    sendLocal(this.res, reply)
    this.finish(reply.status, describeFailure(failure, error))
  }

  timeout(): void {
    // Settle first: aborting makes undici report UND_ERR_ABORTED at once.
    this.fail({kind: 'timeout'})
    this.abortUpstream?.()
  }

  /**
   * The client went away before the answer was written (or while sending its body): stop the
   * upstream request and log it as Envoy does, status 0 when nothing was sent (its DC flag).
   */
  clientClosed(): void {
    if (!this.settled && !this.res.writableFinished) {
      this.settled = true
      clearTimeout(this.timer)
      this.abortUpstream?.()
      this.finish(this.answered ? this.res.statusCode : 0, 'downstream connection termination')
    }
  }

  onConnect(abort: (error?: Error) => void): void {
    this.abortUpstream = abort
    // Timed out or left by the client while queued for a connection: never send it (undici
    // then closes that new connection too; it has no way to take a request out of its queue).
    if (this.settled) abort()
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (this.settled) return false
    this.answered = true
    this.resumeUpstream = resume
    const out: string[] = []
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i].toString('latin1')
      const lower = name.toLowerCase()
      if (HOP_BY_HOP.has(lower)) continue
      const value = rawHeaders[i + 1].toString('latin1')
      if (lower === 'content-length') this.remaining = Number(value)
      out.push(name, value)
    }
    this.res.writeHead(statusCode, statusText, out as unknown as http.OutgoingHttpHeaders)
    return true
  }

  onData(chunk: Buffer): boolean {
    if (this.settled) return false
    // The whole body in one chunk (most answers): the end of the message follows at once, and
    // one res.end(body) writes headers and body together, instead of a write and an end.
    if (chunk.length === this.remaining && this.whole === undefined) {
      this.whole = chunk
      return true
    }
    if (this.res.write(chunk)) return true
    // The client reads slower than the target sends: pause the target until it drains.
    this.res.once('drain', onResponseDrain)
    return false
  }

  drained(): void {
    this.resumeUpstream?.()
  }

  onComplete(): void {
    if (this.settled) return
    this.settled = true
    clearTimeout(this.timer)
    if (this.whole) this.res.end(this.whole)
    else this.res.end()
    this.finish(this.res.statusCode)
  }

  onError(error: Error): void {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'UND_ERR_ABORTED' && this.settled) return
    const cause = code === 'UND_ERR_SOCKET' ? (this.context.pools.tlsErrorOf(error) ?? error) : error
    this.fail(classifyUpstreamError(cause, code === 'UND_ERR_SOCKET'), cause)
  }
}

const FORWARD = Symbol('forward')
type ResponseWithForward = http.ServerResponse & {[FORWARD]?: Forward}
function onTimeout(forward: Forward): void {
  forward.timeout()
}
function onResponseClose(this: ResponseWithForward): void {
  this[FORWARD]?.clientClosed()
}
function onResponseDrain(this: ResponseWithForward): void {
  this[FORWARD]?.drained()
}

export async function startRuntimeServer(options: RuntimeServerOptions): Promise<RuntimeServer> {
  // What a load says ("Serving ...", "cannot connect ...") is told once its snapshot serves, not
  // while it is still being read: whoever reads the log then meets the configuration it names.
  let said: Array<{key: string; message?: string}> = []
  const tell = () => {
    const events = said
    said = []
    for (const {key, message} of events) {
      if (message === undefined) options.onClear?.(key)
      else options.onChange?.(message, key)
    }
  }
  const loader = new SnapshotLoader(options.store, {onChange: (message, key) => said.push({key, message}), onClear: (key) => said.push({key})})
  const pools = new Pools(await import('undici'))
  const accessLog = new AccessLog(options.log)
  const timeoutMs = options.timeoutMs ?? 15_000
  let current = await loader.load().finally(tell)
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
      .finally(() => {
        reloading = undefined
        tell()
      })
    return reloading
  }

  const context: ForwardContext = {pools, accessLog, timeoutMs}

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const started = performance.now()
    const method = req.method ?? 'GET'
    const host = req.headers.host ?? ''
    const url = req.url ?? '/'
    // The configuration this request started with: a reload does not change it.
    const snapshot = current
    if (url === STATUS_PATH && method === 'GET') {
      const body = JSON.stringify({pid: options.pid ?? process.pid, worker: process.pid, generation: snapshot.generation, serving: servedEnvironments(snapshot)})
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
    const local = (reply: LocalReply, failure: string) => {
      req.resume()
      sendLocal(res, reply)
      accessLog.write({method, host, path: url, status: reply.status, target: match?.target?.name, upstream: match?.target ? `${match.target.host}:${match.target.port}` : undefined, ms: performance.now() - started, failure})
    }
    if (!match) return local(REPLIES.noRoute, 'no route')
    const target = match.target
    if (!target || !target.enabled) {
      return local(REPLIES.noHealthyUpstream, target ? `target server "${target.name}" is disabled (isEnabled: false)` : `target "${match.missingTarget}" not in targetservers.json`)
    }
    // The material the deployment named is gone: Envoy has no usable TLS context, and the
    // seed documents this reply for a keystore changed under a deployment.
    if (target.broken) return local(CERTIFICATE_VERIFY_FAILED_REPLY, target.broken)
    new Forward(context, req, res, method, host, url, target, match.upstreamPath, started)
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
    reload().catch((error) => options.onChange?.(`Cannot read the state folder: ${(error as Error).message}`, 'state-folder'))
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
