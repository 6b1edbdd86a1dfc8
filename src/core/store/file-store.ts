import {AsyncLocalStorage} from 'node:async_hooks'
import {randomBytes} from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {internal, invalidArgument, MtlsError} from '../errors.js'
import {acquireLock} from './lock.js'
import type {Blob, BlobOptions, Store} from './store.js'

const SEGMENT = /^[\w-][\w.-]{0,254}$/
/** Blob parts always hold a dot (`cert.pem`), collection ids never do: they cannot collide. */
const BLOB_PART = /^[a-z0-9-]{1,32}\.[a-z0-9.]{1,16}$/
const DIR_MODE = 0o700
const FILE_MODE = 0o600

/**
 * The embedded store: one folder, a file per resource, in the shape of the resource names.
 *
 *   organizations/acme.json
 *   organizations/acme/environments/dev.json
 *   organizations/acme/environments/dev/keystores/ks1/aliases/a1.json
 *   organizations/acme/environments/dev/keystores/ks1/aliases/a1/cert.pem   (blobs of a1)
 *
 * Every write goes to a temporary file that is fsync'ed and renamed into place, so a process
 * killed at any point leaves each file either old or new. Mutations that read first run under
 * an inter-process lock (`lock.ts`: a lock directory with its owner's pid, taken over when the
 * owner is dead or stale, so a killed holder does not block the store).
 */
export class FileStore implements Store {
  readonly location: string
  private readonly holder = new AsyncLocalStorage<boolean>()
  private queue: Promise<void> = Promise.resolve()
  /** ensureRoot has run: later writes recreate a removed folder 0700 themselves (writeAtomic). */
  private rootReady = false

  constructor(root: string) {
    this.location = path.resolve(root)
  }

  /** Creates the state folder (0700) if needed and tightens its mode if it is looser. */
  ensureRoot(): void {
    if (this.rootReady) return
    fs.mkdirSync(this.location, {recursive: true, mode: DIR_MODE})
    const mode = fs.statSync(this.location).mode & 0o777
    if (mode !== DIR_MODE) fs.chmodSync(this.location, DIR_MODE)
    this.rootReady = true
  }

  async get<T>(name: string): Promise<T | undefined> {
    return this.readDoc<T>(this.docPath(name))
  }

  async ids(collection: string): Promise<string[]> {
    const dir = this.dirPath(collection)
    let entries: string[]
    try {
      entries = fs.readdirSync(dir)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw error
    }
    return entries
      .filter((e) => e.endsWith('.json') && !e.startsWith('.'))
      .map((e) => e.slice(0, -5))
      .sort()
  }

  async list<T>(collection: string): Promise<T[]> {
    const dir = this.dirPath(collection)
    const docs: T[] = []
    for (const id of await this.ids(collection)) {
      const doc = this.readDoc<T>(path.join(dir, `${id}.json`))
      if (doc !== undefined) docs.push(doc)
    }
    return docs
  }

  async put(name: string, doc: unknown): Promise<void> {
    this.writeAtomic(this.docPath(name), JSON.stringify(doc, null, 2) + '\n')
  }

  async create(name: string, doc: unknown, blobs: Record<string, Blob> = {}): Promise<boolean> {
    return this.withLock(async () => {
      const file = this.docPath(name)
      if (fs.existsSync(file)) return false
      // Leftovers of a delete that was killed half-way belong to no resource: clear them first.
      this.discard(this.dirPath(name))
      for (const [part, blob] of Object.entries(blobs)) {
        this.writeAtomic(this.blobPath(name, part), blob.data)
      }
      // The document is written last: it is the commit point of the whole resource.
      this.writeAtomic(file, JSON.stringify(doc, null, 2) + '\n')
      return true
    })
  }

  async delete(name: string): Promise<boolean> {
    const file = this.docPath(name)
    let existed = true
    try {
      // Removing the document is the commit point; the children go after it.
      fs.unlinkSync(file)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      existed = false
    }
    this.discard(this.dirPath(name))
    return existed
  }

  /** Moves a folder out of the tree in one rename, then removes it. */
  private discard(dir: string): void {
    if (!fs.existsSync(dir)) return
    const trash = path.join(this.location, '.trash')
    fs.mkdirSync(trash, {recursive: true, mode: DIR_MODE})
    const moved = path.join(trash, `${Date.now()}-${randomBytes(6).toString('hex')}`)
    fs.renameSync(dir, moved)
    fs.rmSync(moved, {recursive: true, force: true})
  }

  async getBlob(name: string, part: string): Promise<Buffer | undefined> {
    try {
      return fs.readFileSync(this.blobPath(name, part))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
  }

  async putBlob(name: string, part: string, data: Buffer | string, _options: BlobOptions = {}): Promise<void> {
    // Every file in the store is 0600 (secrets included); the option documents intent.
    this.writeAtomic(this.blobPath(name, part), data)
  }

  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    // Re-entrant for the async call chain that holds the lock; other callers in this process
    // queue behind it (the file lock alone cannot tell two callers of one process apart).
    if (this.holder.getStore() === true) return fn()
    const previous = this.queue
    let done!: () => void
    this.queue = new Promise<void>((resolve) => (done = resolve))
    await previous
    try {
      return await this.holder.run(true, () => this.withFileLock(fn))
    } finally {
      done()
    }
  }

  private async withFileLock<T>(fn: () => Promise<T>): Promise<T> {
    this.ensureRoot()
    let release: () => void
    try {
      release = await acquireLock(path.join(this.location, '.lock'), {staleMs: 10_000})
    } catch (error) {
      throw internal(
        `Could not lock the state folder ${this.location}: ${(error as Error).message}`,
        'Another mtlsctl process may be stuck; the lock clears itself once its owner has exited.',
      )
    }
    try {
      return await fn()
    } finally {
      release()
    }
  }

  // -- paths ------------------------------------------------------------------------------

  private segments(name: string): string[] {
    const parts = name.split('/')
    for (const part of parts) {
      if (!SEGMENT.test(part)) {
        throw invalidArgument(`Invalid resource name "${name}": segment "${part}" is not allowed.`)
      }
    }
    return parts
  }

  private resolveInside(parts: string[], suffix = ''): string {
    const target = path.join(this.location, ...parts) + suffix
    const rel = path.relative(this.location, target)
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      throw invalidArgument(`Invalid resource name "${parts.join('/')}": it leaves the state folder.`)
    }
    return target
  }

  private docPath(name: string): string {
    return this.resolveInside(this.segments(name), '.json')
  }

  private dirPath(name: string): string {
    return this.resolveInside(this.segments(name))
  }

  private blobPath(name: string, part: string): string {
    if (!BLOB_PART.test(part)) throw internal(`Invalid blob part "${part}".`)
    return this.resolveInside([...this.segments(name), part])
  }

  // -- io ---------------------------------------------------------------------------------

  private readDoc<T>(file: string): T | undefined {
    let text: string
    try {
      text = fs.readFileSync(file, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
    try {
      return JSON.parse(text) as T
    } catch {
      throw new MtlsError('DATA_LOSS', `The state file ${file} is not valid JSON.`, {
        hint: 'It was changed outside mtlsctl; restore it or delete the resource.',
      })
    }
  }

  private writeAtomic(file: string, data: Buffer | string): void {
    const dir = path.dirname(file)
    this.ensureRoot()
    fs.mkdirSync(dir, {recursive: true, mode: DIR_MODE})
    const tmp = path.join(dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`)
    const fd = fs.openSync(tmp, 'wx', FILE_MODE)
    try {
      fs.writeFileSync(fd, data)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    try {
      fs.renameSync(tmp, file)
    } catch (error) {
      fs.rmSync(tmp, {force: true})
      throw error
    }
  }
}
