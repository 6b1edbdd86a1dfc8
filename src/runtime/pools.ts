import * as http from 'node:http'
import * as https from 'node:https'

import type {ResolvedTarget} from '../core/runtime/index.js'

/**
 * Keep-alive connection pools, one per target server and TLS material (`poolKey`): a target
 * whose alias changes gets a new pool, so the new client certificate is presented on new
 * connections while requests in flight finish on the old ones. An https.Agent also caches TLS
 * sessions, so reconnecting to a target resumes its session instead of a full handshake.
 */
export interface Pool {
  agent: http.Agent
  active: number
  retired: boolean
}

export class Pools {
  private pools = new Map<string, Pool>()

  acquire(target: ResolvedTarget): Pool {
    let pool = this.pools.get(target.poolKey)
    if (!pool) {
      const common = {keepAlive: true, keepAliveMsecs: 1000, maxFreeSockets: 1024, scheduling: 'lifo' as const}
      pool = {
        agent: target.tls ? new https.Agent({...common, ...target.tls.options, maxCachedSessions: 100}) : new http.Agent(common),
        active: 0,
        retired: false,
      }
      this.pools.set(target.poolKey, pool)
    }
    pool.active++
    return pool
  }

  release(pool: Pool): void {
    pool.active--
    if (pool.retired && pool.active === 0) pool.agent.destroy()
  }

  /** Retires the pools no target uses any more: closed once their last request ends. */
  retain(keys: Set<string>): void {
    for (const [key, pool] of this.pools) {
      if (keys.has(key)) continue
      this.pools.delete(key)
      pool.retired = true
      if (pool.active === 0) pool.agent.destroy()
    }
  }

  closeAll(): void {
    for (const pool of this.pools.values()) pool.agent.destroy()
    this.pools.clear()
  }
}
