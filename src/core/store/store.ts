/**
 * The state store: where every resource lives. Resources are JSON documents addressed by their
 * Apigee resource name (`organizations/acme/environments/dev`); a resource may carry named
 * blobs (a certificate, a private key, an archive zip). The interface is what commands and
 * engine modules see, so another backend can replace the folder without touching them.
 */
export interface BlobOptions {
  /** Secret blobs (private keys) are written 0600 and never listed. */
  secret?: boolean
}

export interface Blob extends BlobOptions {
  data: Buffer | string
}

export interface Store {
  /** A human-readable description of where the state lives (a folder path for the default). */
  readonly location: string
  get<T>(name: string): Promise<T | undefined>
  /** Documents directly under a collection, e.g. `organizations/acme/environments`, sorted by id. */
  list<T>(collection: string): Promise<T[]>
  /** Ids directly under a collection, sorted. */
  ids(collection: string): Promise<string[]>
  /** Writes a document atomically: readers see the old or the new version, never a mix. */
  put(name: string, doc: unknown): Promise<void>
  /**
   * Creates a resource with its blobs, all or nothing, under the lock: returns false (and
   * writes nothing) when the resource exists. Leftovers under the name are cleared; a process
   * killed half-way leaves nothing visible, and nothing at all after the next locked write.
   */
  create(name: string, doc: unknown, blobs?: Record<string, Blob>): Promise<boolean>
  /**
   * Removes a document, its blobs and everything below it, under the lock, all or nothing in
   * the same sense as create. Returns false when it did not exist.
   */
  delete(name: string): Promise<boolean>
  getBlob(name: string, part: string): Promise<Buffer | undefined>
  /**
   * Replaces an existing resource's document and some of its blobs together, under the lock,
   * all or nothing across a crash: a process killed half-way leaves the old resource, or (once
   * the change is recorded) the next locked write finishes it; never new blobs with an old
   * document. Readers that do not lock may see the files change one after the other.
   */
  replace(name: string, doc: unknown, blobs: Record<string, Blob>): Promise<void>
  /**
   * Runs fn holding the store's inter-process lock: use it for every read-modify-write. A
   * change that spans several documents commits with ONE write of one of them (see
   * operations.ts commitOperation), not with several puts.
   */
  withLock<T>(fn: () => Promise<T>): Promise<T>
}
