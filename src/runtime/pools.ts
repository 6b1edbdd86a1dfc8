import type {Pool as UndiciPool} from 'undici'

import type {ResolvedTarget} from '../core/runtime/index.js'

/**
 * Keep-alive connection pools (undici), one per target server and TLS material (`poolKey`): a
 * target whose alias changes gets a new pool, so the new client certificate is presented on
 * new connections, while the old pool is closed gracefully: requests in flight on it finish.
 * undici's TLS connector keeps a session cache per pool, so a new connection to the same
 * target resumes its TLS session instead of a full handshake.
 *
 * undici rather than node:https: its HTTP/1.1 client (llhttp, no ClientRequest per request)
 * roughly doubles what one Node process can forward, which is the runtime's budget.
 */
export class Pools {
  private pools = new Map<string, UndiciPool>()
  /**
   * TLS errors by local port. A TLS 1.3 server rejects a client certificate after the client's
   * handshake is done: the socket errors with the alert, then ends, and undici reports only
   * `other side closed`. The alert is what the reply must name.
   */
  private tlsErrors = new Map<number, Error>()

  constructor(private readonly undici: typeof import('undici')) {}

  get(target: ResolvedTarget): UndiciPool {
    let pool = this.pools.get(target.poolKey)
    if (!pool) {
      const origin = `${target.tls ? 'https' : 'http'}://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`
      pool = new this.undici.Pool(origin, {
        connections: null,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        // Our own route timeout applies (504); undici's would only race it.
        headersTimeout: 0,
        bodyTimeout: 0,
        connect: target.tls ? this.connector({...target.tls.options, maxCachedSessions: 100}) : undefined,
      })
      // Errors reach the request that hit them; a pool-level event needs no handler of its own.
      pool.on('connectionError', () => {})
      this.pools.set(target.poolKey, pool)
    }
    return pool
  }

  private connector(options: import('undici').buildConnector.BuildOptions): import('undici').buildConnector.connector {
    const connect = this.undici.buildConnector(options)
    return (opts, callback) =>
      connect(opts, (error, socket) => {
        if (socket) {
          socket.prependListener('error', (e: NodeJS.ErrnoException) => {
            const port = socket.localPort
            if (port === undefined || !(e.code?.startsWith('ERR_SSL_') || e.code === 'EPROTO')) return
            this.tlsErrors.set(port, e)
            setTimeout(() => this.tlsErrors.delete(port), 5000).unref()
          })
        }
        // undici's callback is typed as two overloads; forward as given.
        ;(callback as (e: Error | null, s: typeof socket) => void)(error, socket)
      })
  }

  /** The TLS error behind undici's `other side closed` on that local port, if there was one. */
  tlsErrorOf(error: unknown): Error | undefined {
    const port = (error as {socket?: {localPort?: number}})?.socket?.localPort
    return port === undefined ? undefined : this.tlsErrors.get(port)
  }

  /** Closes the pools no target uses any more, once their requests in flight end. */
  retain(keys: Set<string>): void {
    for (const [key, pool] of this.pools) {
      if (keys.has(key)) continue
      this.pools.delete(key)
      pool.close().catch(() => {})
    }
  }

  async closeAll(): Promise<void> {
    const all = [...this.pools.values()]
    this.pools.clear()
    await Promise.all(all.map((p) => p.destroy().catch(() => {})))
  }
}
