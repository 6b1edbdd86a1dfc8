import {AsyncLocalStorage} from 'node:async_hooks'
import {createHash, randomBytes} from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {internal, invalidArgument, MtlsError} from '../errors.js'
import {acquireLock, processAlive} from './lock.js'
import type {Blob, Store} from './store.js'

const SEGMENT = /^[\w-][\w.-]{0,254}$/
/** Blob parts always hold a dot (`cert.pem`), collection ids never do: they cannot collide. */
const BLOB_PART = /^[a-z0-9-]{1,32}\.[a-z0-9.]{1,16}$/
const DIR_MODE = 0o700
const FILE_MODE = 0o600
/**
 * File names are at most 255 bytes (NAME_MAX): an id longer than this cannot carry `.json`.
 * Such a resource keeps its document inside its own folder, as `ID/.doc.json`.
 */
const LONGEST_DOC_FILE_ID = 250
const DOC_IN_FOLDER = '.doc.json'
/** Temporary files (`<pid>-<random>`), assembled locks; swept of dead processes' entries. */
const TMP = '.tmp'
/** Folders on their way out, and intents (`*.intent`): emptied under the lock. */
const TRASH = '.trash'
const INTENT = '.intent'

/** What an fs error code means, in words (never the path Node puts in its message). */
const FS_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENAMETOOLONG: 'a file name is too long for the file system',
  ENOTDIR: 'a file stands where a folder is expected',
  EISDIR: 'a folder stands where a file is expected',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EIO: 'an input/output error',
  ELOOP: 'too many symbolic links',
  EEXIST: 'a file is in the way',
  ENOTEMPTY: 'a folder is in the way',
  ENOENT: 'a folder disappeared while it was used',
}

/** An fs error as an MtlsError naming the resource (`name`, or the folder itself). */
function fsFailure(error: unknown, action: string, name: string): MtlsError {
  if (error instanceof MtlsError) return error
  const code = (error as NodeJS.ErrnoException)?.code
  const words = code ? `${FS_ERRORS[code] ?? 'a file system error'} (${code})` : 'an unexpected error'
  const what = name === 'the state folder' ? `${action} the state folder` : `${action} "${name}" in the state folder`
  return new MtlsError('INTERNAL', `Could not ${what}: ${words}.`, {
    hint: 'Check that the state folder (MTLSCTL_HOME, else ~/.mtlsctl) is writable, on a local disk, and has free space.',
    cause: error,
  })
}

function readdirOrEmpty(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, {withFileTypes: true})
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}

const random = () => randomBytes(6).toString('hex')
/** Writes a file that must not exist yet (0600) and fsyncs it. */
function writeNewSynced(file: string, data: Buffer | string): void {
  const fd = fs.openSync(file, 'wx', FILE_MODE)
  try {
    fs.writeFileSync(fd, data)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}
/** fsync of a folder: its new entries (an intent) survive a crash. Where folders cannot be synced, skipped. */
function syncFolder(dir: string): void {
  let fd: number | undefined
  try {
    fd = fs.openSync(dir, 'r')
    fs.fsyncSync(fd)
  } catch {
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}
/** What a replace records of a document, before and after: its bytes' hash, or that there were none. */
const fingerprint = (data: Buffer | string | undefined) => (data === undefined ? 'absent' : createHash('sha256').update(data).digest('hex'))
/** The fingerprint of a document file as it is now. */
const fingerprintOf = (file: string) => fingerprint(fs.existsSync(file) ? fs.readFileSync(file) : undefined)
const STAGED = /^\d+-[0-9a-f]+\.staged$/

/**
 * The embedded store: one folder, a file per resource, in the shape of the resource names.
 *
 *   organizations/acme.json
 *   organizations/acme/environments/dev.json
 *   organizations/acme/environments/dev/keystores/ks1/aliases/a1.json
 *   organizations/acme/environments/dev/keystores/ks1/aliases/a1/cert.pem   (blobs of a1)
 *   .../aliases/<an id of 251-255 characters>/.doc.json                      (NAME.json would not fit)
 *
 * Every write goes to a temporary file in `.tmp/` that is fsync'ed and renamed into place, so
 * a process killed at any point leaves each file either old or new. Mutations that read first
 * run under an inter-process lock (`lock.ts`). A create with blobs and a delete first leave an
 * intent in `.trash/` naming the resource: whoever takes the lock next finishes it (no
 * document: the resource's folder goes), so a killed process leaves no orphan blob (no key)
 * in the live tree. A replace stages its new files in `.trash/` and leaves an intent listing
 * where each goes: whoever takes the lock next finishes the moves, so a resource is never left
 * with new blobs and an old document. Taking the lock also empties `.trash/` and removes dead processes'
 * temporary files, so nothing deleted (private keys included) outlives the next write.
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
    const file = this.docPath(name)
    return this.guard('read', name, () => this.readDoc<T>(file, name))
  }

  async ids(collection: string): Promise<string[]> {
    const dir = this.dirPath(collection)
    return this.guard('list', collection, () => this.idsIn(dir))
  }

  private idsIn(dir: string): string[] {
    const ids: string[] = []
    for (const entry of readdirOrEmpty(dir)) {
      const id = entry.name
      if (id.startsWith('.')) continue
      let kind: 'file' | 'dir' | undefined = entry.isFile() ? 'file' : entry.isDirectory() ? 'dir' : undefined
      if (kind === undefined) {
        // A file system that does not report types: ask.
        const stat = fs.statSync(path.join(dir, id), {throwIfNoEntry: false})
        kind = stat?.isFile() ? 'file' : stat?.isDirectory() ? 'dir' : undefined
      }
      if (kind === 'file' && id.endsWith('.json')) ids.push(id.slice(0, -5))
      else if (kind === 'dir' && id.length > LONGEST_DOC_FILE_ID && fs.existsSync(path.join(dir, id, DOC_IN_FOLDER))) ids.push(id)
    }
    return ids.sort()
  }

  async list<T>(collection: string): Promise<T[]> {
    const dir = this.dirPath(collection)
    return this.guard('list', collection, () => {
      const docs: T[] = []
      // Ids come from the folder itself: their paths need no check (a collection may hold 10,000).
      for (const id of this.idsIn(dir)) {
        const file = id.length > LONGEST_DOC_FILE_ID ? path.join(dir, id, DOC_IN_FOLDER) : path.join(dir, `${id}.json`)
        const doc = this.readDoc<T>(file, `${collection}/${id}`)
        if (doc !== undefined) docs.push(doc)
      }
      return docs
    })
  }

  async put(name: string, doc: unknown): Promise<void> {
    const file = this.docPath(name)
    this.guard('write', name, () => this.writeAtomic(file, JSON.stringify(doc, null, 2) + '\n'))
  }

  async create(name: string, doc: unknown, blobs: Record<string, Blob> = {}): Promise<boolean> {
    const file = this.docPath(name)
    const dir = this.dirPath(name)
    const parts = Object.entries(blobs).map(([part, blob]) => [this.blobPath(name, part), blob.data] as const)
    return this.withLock(async () =>
      this.guard('create', name, () => {
        if (fs.existsSync(file)) return false
        // Blobs are written before the document: until it is, an intent says what to undo.
        const intent = parts.length > 0 ? this.writeIntent(name) : undefined
        try {
          // Leftovers under the name belong to no resource: clear them first.
          this.discard(dir)
          for (const [blobFile, data] of parts) this.writeAtomic(blobFile, data)
          // The document is written last: it is the commit point of the whole resource.
          this.writeAtomic(file, JSON.stringify(doc, null, 2) + '\n')
        } finally {
          if (intent) this.settle(intent)
        }
        return true
      }),
    )
  }

  async delete(name: string): Promise<boolean> {
    const file = this.docPath(name)
    return this.withLock(async () =>
      this.guard('delete', name, () => {
        const intent = this.writeIntent(name)
        let existed = true
        try {
          // Removing the document is the commit point; the children go after it.
          fs.unlinkSync(file)
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
            fs.rmSync(intent, {force: true})
            throw error
          }
          existed = false
        }
        this.settle(intent)
        return existed
      }),
    )
  }

  async getBlob(name: string, part: string): Promise<Buffer | undefined> {
    const file = this.blobPath(name, part)
    return this.guard('read', name, () => {
      try {
        return fs.readFileSync(file)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw error
      }
    })
  }

  async replace(name: string, doc: unknown, blobs: Record<string, Blob>): Promise<void> {
    const file = this.docPath(name)
    const text = JSON.stringify(doc, null, 2) + '\n'
    const targets = [
      ...Object.entries(blobs).map(([part, blob]) => [this.blobPath(name, part), blob.data] as const),
      // The document goes last: until it does, the old one still describes the resource.
      [file, text] as const,
    ]
    await this.withLock(async () =>
      this.guard('write', name, () => {
        // Every new file is staged (fsync'ed) first; then an intent lists the moves, with the
        // document as it is now and as it will be, and from then on the change happens: settle
        // renames each into place, now or, if this process is killed, at the next lock (only
        // over the document it was made for, never over a newer one).
        const before = fingerprintOf(file)
        const moves = targets.map(([to, data]) => ({from: this.stage(data), to}))
        this.settle(this.writeIntent(name, {moves, before, after: fingerprint(text)}))
      }),
    )
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
    let release: () => void
    try {
      this.ensureRoot()
      release = await acquireLock(path.join(this.location, '.lock'), {staleMs: 10_000, scratch: path.join(this.location, TMP)})
    } catch (error) {
      const hint = 'Another mtlsctl process may be stuck; the lock clears itself once its owner has exited.'
      if (error instanceof Error && !('code' in error)) throw internal(`Could not lock the state folder: ${error.message}.`, hint)
      throw fsFailure(error, 'lock', 'the state folder')
    }
    try {
      this.sweep()
      return await fn()
    } finally {
      release()
    }
  }

  // -- leftovers ----------------------------------------------------------------------------

  /**
   * Under the lock: finishes what killed processes left. Temporary files of dead processes
   * go; each intent is settled (a resource without its document loses its folder); the trash
   * is emptied. Two directory reads when there is nothing to do.
   */
  private sweep(): void {
    // Best effort: what cannot be cleared now is tried again by the next write.
    try {
      const tmp = path.join(this.location, TMP)
      for (const entry of readdirOrEmpty(tmp)) {
        // Any live process's, this one's included: another thread may be writing it.
        if (processAlive(Number.parseInt(entry.name, 10))) continue
        fs.rmSync(path.join(tmp, entry.name), {recursive: true, force: true})
      }
      const trash = path.join(this.location, TRASH)
      const entries = readdirOrEmpty(trash)
      if (entries.length === 0) return
      // One intent that cannot be settled now (a target it cannot write) keeps its staged files
      // for the next try, and stops nothing else.
      const keep = new Set<string>()
      for (const entry of entries) {
        if (!entry.name.endsWith(INTENT) || this.live(entry.name)) continue
        try {
          this.settle(path.join(trash, entry.name))
        } catch {
          keep.add(entry.name.split('-')[0])
        }
      }
      for (const entry of readdirOrEmpty(trash)) {
        if (entry.name.endsWith(INTENT) || this.live(entry.name) || keep.has(entry.name.split('-')[0])) continue
        fs.rmSync(path.join(trash, entry.name), {recursive: true, force: true})
      }
    } catch {}
  }

  /**
   * Whether an intent or trash entry (`<pid>-...`) belongs to another live process, which may
   * still be using it (if its lock was taken over as stale). This process's own, seen while
   * it holds the lock, are leftovers of a failure (intents and trash are only made under it).
   */
  private live(entry: string): boolean {
    const pid = Number.parseInt(entry, 10)
    return pid !== process.pid && processAlive(pid)
  }

  /**
   * Records, before a multi-file change, which resource it touches (whole JSON, or ignored),
   * and for a replace the staged files to move into place (paths inside the state folder).
   */
  private writeIntent(name: string, change?: {moves: Array<{from: string; to: string}>; before: string; after: string}): string {
    const trash = this.trashFolder()
    const file = path.join(trash, `${process.pid}-${random()}${INTENT}`)
    if (!change) {
      fs.writeFileSync(file, JSON.stringify({name}), {mode: FILE_MODE, flag: 'wx'})
      return file
    }
    const moves = change.moves.map(({from, to}) => ({from: path.relative(this.location, from), to: path.relative(this.location, to)}))
    // What is redone after a crash must survive one: the intent and its folder entry are synced
    // before the first move.
    writeNewSynced(file, JSON.stringify({name, before: change.before, after: change.after, moves}))
    syncFolder(trash)
    return file
  }

  /** A new file's content, written and fsync'ed in the trash, for a replace to move into place. */
  private stage(data: Buffer | string): string {
    const file = path.join(this.trashFolder(), `${process.pid}-${random()}.staged`)
    writeNewSynced(file, data)
    return file
  }

  /**
   * Finishes an intent: the staged files it lists are moved into place (those already moved are
   * gone from the trash), then a resource whose document is absent has no folder either.
   */
  private settle(intent: string): void {
    let recorded: {name?: unknown; before?: unknown; after?: unknown; moves?: unknown} = {}
    try {
      recorded = (JSON.parse(fs.readFileSync(intent, 'utf8')) as typeof recorded | null) ?? {}
    } catch {
      // Cut short while it was written: nothing was changed after it.
    }
    if (typeof recorded.name === 'string') {
      const name = recorded.name
      if (Array.isArray(recorded.moves)) this.redo(name, recorded.moves, recorded.before, recorded.after)
      let file: string | undefined
      try {
        file = this.docPath(name)
      } catch {}
      if (file && !fs.existsSync(file)) this.discard(this.dirPath(name))
    }
    fs.rmSync(intent, {force: true})
  }

  /**
   * A replace's moves, only over the document it was made for (`before`, or `after` when the
   * document has moved: then the blobs, moved before it, are gone from the trash), only from a
   * staged file of the trash to the resource's own document or blobs. Anything else in an
   * intent is ignored: its staged files go with the trash.
   */
  private redo(name: string, moves: unknown[], before: unknown, after: unknown): void {
    let doc: string
    let dir: string
    try {
      doc = this.docPath(name)
      dir = this.dirPath(name)
    } catch {
      return
    }
    const now = fingerprintOf(doc)
    if (now !== before && now !== after) return
    const trash = path.join(this.location, TRASH)
    for (const move of moves) {
      const {from, to} = (move ?? {}) as {from?: unknown; to?: unknown}
      if (typeof from !== 'string' || typeof to !== 'string') continue
      const source = path.join(this.location, from)
      const target = path.join(this.location, to)
      if (path.dirname(source) !== trash || !STAGED.test(path.basename(source))) continue
      if (target !== doc && !(path.dirname(target) === dir && BLOB_PART.test(path.basename(target)))) continue
      if (!fs.lstatSync(source, {throwIfNoEntry: false})?.isFile()) continue
      fs.mkdirSync(path.dirname(target), {recursive: true, mode: DIR_MODE})
      fs.renameSync(source, target)
    }
  }

  /** `.trash/`, made if needed. */
  private trashFolder(): string {
    const trash = path.join(this.location, TRASH)
    fs.mkdirSync(trash, {recursive: true, mode: DIR_MODE})
    return trash
  }

  /** Moves a folder out of the tree in one rename, then removes it. */
  private discard(dir: string): void {
    if (!fs.existsSync(dir)) return
    const moved = path.join(this.trashFolder(), `${process.pid}-${random()}`)
    fs.renameSync(dir, moved)
    fs.rmSync(moved, {recursive: true, force: true})
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
    const parts = this.segments(name)
    if ((parts.at(-1) as string).length > LONGEST_DOC_FILE_ID) return this.resolveInside([...parts, DOC_IN_FOLDER])
    return this.resolveInside(parts, '.json')
  }

  private dirPath(name: string): string {
    return this.resolveInside(this.segments(name))
  }

  private blobPath(name: string, part: string): string {
    if (!BLOB_PART.test(part)) throw internal(`Invalid blob part "${part}".`)
    return this.resolveInside([...this.segments(name), part])
  }

  // -- io ---------------------------------------------------------------------------------

  /** Runs fs work for `name`; an fs error becomes an MtlsError naming the resource, not a path. */
  private guard<T>(action: string, name: string, fn: () => T): T {
    try {
      return fn()
    } catch (error) {
      throw fsFailure(error, action, name)
    }
  }

  private readDoc<T>(file: string, name: string): T | undefined {
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
      throw new MtlsError('DATA_LOSS', `The state file ${path.relative(this.location, file)} is not valid JSON.`, {
        hint: `It was changed outside mtlsctl; restore it or delete "${name}".`,
      })
    }
  }

  private writeAtomic(file: string, data: Buffer | string): void {
    this.ensureRoot()
    const tmpDir = path.join(this.location, TMP)
    const tmp = path.join(tmpDir, `${process.pid}-${random()}`)
    try {
      try {
        writeNewSynced(tmp, data)
      } catch (error) {
        // The first write since `.tmp/` was removed (ensureRoot ran earlier): made again.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
        fs.mkdirSync(tmpDir, {recursive: true, mode: DIR_MODE})
        writeNewSynced(tmp, data)
      }
      fs.mkdirSync(path.dirname(file), {recursive: true, mode: DIR_MODE})
      fs.renameSync(tmp, file)
    } catch (error) {
      fs.rmSync(tmp, {force: true})
      throw error
    }
  }
}
