import type {Blob, Store} from '../core/store/index.js'

/**
 * The emulator serves many requests in one process. The store's lock is an inter-process lock
 * that waiters poll (with backoff), and a FileStore queues only its own callers; each request
 * gets its own store, so this wrapper queues the requests of this process for the
 * lock in order: one of them polls the lock file at a time, the others wait their turn
 * without sleeping. Other processes (the CLI) still meet at the lock file as before.
 */
export class LockQueue {
  private tail: Promise<unknown> = Promise.resolve()

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn)
    this.tail = result.catch(() => {})
    return result
  }
}

/** A store for one request: locked work goes through the process's queue, once per request. */
export function queuedStore(inner: Store, queue: LockQueue): Store {
  let depth = 0
  const locked = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (depth > 0) return fn()
    return queue.run(async () => {
      depth = 1
      try {
        return await fn()
      } finally {
        depth = 0
      }
    })
  }
  return {
    location: inner.location,
    get: <T>(name: string) => inner.get<T>(name),
    list: <T>(collection: string) => inner.list<T>(collection),
    ids: (collection: string) => inner.ids(collection),
    put: (name: string, doc: unknown) => inner.put(name, doc),
    // create takes the store's lock itself.
    create: (name: string, doc: unknown, blobs?: Record<string, Blob>) => locked(() => inner.create(name, doc, blobs)),
    delete: (name: string) => inner.delete(name),
    getBlob: (name: string, part: string) => inner.getBlob(name, part),
    // replace takes the store's lock itself.
    replace: (name: string, doc: unknown, blobs: Record<string, Blob>) => locked(() => inner.replace(name, doc, blobs)),
    withLock: <T>(fn: () => Promise<T>) => locked(() => inner.withLock(fn)),
  }
}
