import * as http from 'node:http'
import * as https from 'node:https'
import type {AddressInfo} from 'node:net'
import * as net from 'node:net'

/**
 * A loopback forwarding proxy in front of a real server (the emulator), for the HTTP client's
 * fault tests: told per request to answer an error once, to delay its answer, or to reset the
 * connection; it records every request it saw (method, path, headers). It is also a forward
 * proxy (HTTP_PROXY, HTTPS_PROXY): CONNECT tunnels and absolute-form requests are recorded
 * and carried to the host they name. With `tls`, it serves HTTPS (the target stays http).
 */

export interface Fault {
  /** Answer this status instead of forwarding; the body is Google's error shape unless `body` is given. */
  status?: number
  headers?: Record<string, string>
  body?: string
  /** Forward, but only after this long (nothing is sent before). */
  delayMs?: number
  /** Reset the connection (TCP RST) instead of answering. */
  reset?: boolean
}

export interface FaultMatch {
  method?: string
  /** A prefix of the request's path (with its query), or a pattern. */
  path?: string | RegExp
}

export interface SeenRequest {
  method: string
  /** The path and query as received (for an absolute-form request: its URL's). */
  path: string
  headers: http.IncomingHttpHeaders
}

export interface FaultProxy {
  /** `http://127.0.0.1:PORT/` (https with `tls`). */
  readonly url: string
  readonly port: number
  /** Every request, in order of arrival (CONNECT tunnels excepted: see `connects`). */
  readonly seen: SeenRequest[]
  /** The `host:port` of each CONNECT, when used as a forward proxy. */
  readonly connects: string[]
  /** The next request that matches gets this fault, once; faults queue in order. */
  once(fault: Fault, match?: FaultMatch): void
  /** The requests seen with this method (and path prefix). */
  requests(method: string, pathPrefix?: string): SeenRequest[]
  close(): Promise<void>
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
}

function matches(match: FaultMatch | undefined, req: SeenRequest): boolean {
  if (!match) return true
  if (match.method && match.method !== req.method) return false
  if (typeof match.path === 'string' && !req.path.startsWith(match.path)) return false
  if (match.path instanceof RegExp && !match.path.test(req.path)) return false
  return true
}

export async function startFaultProxy(target: string, options: {tls?: {cert: string; key: string}} = {}): Promise<FaultProxy> {
  const upstream = new URL(target)
  const seen: SeenRequest[] = []
  const connects: string[] = []
  const queue: {fault: Fault; match?: FaultMatch}[] = []
  const timers = new Set<NodeJS.Timeout>()
  const tunnels = new Set<net.Socket>()

  function forward(req: http.IncomingMessage, res: http.ServerResponse, to: URL, path: string): void {
    const out = http.request({host: to.hostname, port: to.port || 80, method: req.method, path, headers: req.headers}, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    out.on('error', () => {
      if (!res.headersSent) {
        res.writeHead(502, {'content-type': 'text/plain'})
        res.end('bad gateway\n')
      } else res.destroy()
    })
    req.pipe(out)
  }

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const raw = req.url ?? '/'
    const absolute = /^https?:\/\//i.test(raw) ? new URL(raw) : undefined
    const entry: SeenRequest = {method: req.method ?? '', path: absolute ? `${absolute.pathname}${absolute.search}` : raw, headers: req.headers}
    seen.push(entry)
    const at = queue.findIndex((q) => matches(q.match, entry))
    const fault = at < 0 ? undefined : queue.splice(at, 1)[0].fault
    const to = absolute ?? upstream
    if (fault?.reset) {
      req.socket.resetAndDestroy()
      return
    }
    if (fault?.status !== undefined) {
      // Read the request to its end first, so the client is not cut off while it sends.
      req.resume()
      req.on('end', () => {
        const body = fault.body ?? JSON.stringify({error: {code: fault.status, message: `Injected HTTP ${fault.status}.`, status: STATUS_NAMES[fault.status!] ?? 'UNKNOWN'}})
        res.writeHead(fault.status!, {'content-type': fault.body === undefined ? 'application/json; charset=UTF-8' : 'text/plain', 'content-length': Buffer.byteLength(body), ...fault.headers})
        res.end(body)
      })
      return
    }
    if (fault?.delayMs) {
      const timer = setTimeout(() => {
        timers.delete(timer)
        if (!req.socket.destroyed) forward(req, res, to, entry.path)
      }, fault.delayMs)
      timers.add(timer)
      return
    }
    forward(req, res, to, entry.path)
  }

  const server: http.Server = options.tls ? https.createServer({cert: options.tls.cert, key: options.tls.key}, handler) : http.createServer(handler)

  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const where = req.url ?? ''
    connects.push(where)
    const colon = where.lastIndexOf(':')
    const host = where.slice(0, colon).replace(/^\[|\]$/g, '')
    const port = Number(where.slice(colon + 1))
    const out = net.connect(port, host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length) out.write(head)
      out.pipe(client)
      client.pipe(out)
    })
    tunnels.add(out).add(client)
    const end = () => {
      out.destroy()
      client.destroy()
      tunnels.delete(out)
      tunnels.delete(client)
    }
    out.on('error', end).on('close', end)
    client.on('error', end).on('close', end)
  })

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}/`,
    port,
    seen,
    connects,
    once(fault, match) {
      queue.push({fault, match})
    },
    requests(method, pathPrefix = '') {
      return seen.filter((r) => r.method === method && r.path.startsWith(pathPrefix))
    },
    async close() {
      for (const t of timers) clearTimeout(t)
      timers.clear()
      for (const s of tunnels) s.destroy()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await closed
    },
  }
}
