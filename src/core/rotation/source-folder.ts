import {randomBytes} from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {failedPrecondition} from '../errors.js'
import {processAlive} from '../store/lock.js'

/**
 * The source folder of a rotation: its lock, and the atomic write of a rewritten file.
 *
 * Rotations of one source folder are serialised: each reads targetservers.json, rewrites it,
 * deploys the whole folder and writes the file back, so a second rotation must start from the
 * first one's result (its deployment then carries both changes, and neither write is lost).
 * The lock is a file, `DIR/.mtlsctl-rotate.lock`, made with O_EXCL and holding its owner's
 * pid, host and a token; it is removed when the rotation ends. A lock whose owner (on this
 * host) is dead is taken over, so a killed rotation blocks nobody. It works the same whichever
 * backend the rotations use, and whichever state folder.
 */
export const SOURCE_LOCK = '.mtlsctl-rotate.lock'

interface Owner {
  pid: number
  host: string
  token: string
}

function readOwner(file: string): Owner | undefined {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  const [pid, host, token] = text.split('\n')
  if (token === undefined || token === '') return undefined
  return {pid: Number(pid), host, token}
}

/** A lock file never completed (its writer killed between open and write) is stale after this long. */
const INCOMPLETE_STALE_MS = 10_000

function isStale(file: string, owner: Owner | undefined): boolean {
  if (owner) return owner.host === os.hostname() && !processAlive(owner.pid)
  try {
    return Date.now() - fs.statSync(file).mtimeMs > INCOMPLETE_STALE_MS
  } catch {
    return false
  }
}

export interface SourceLockOptions {
  /** Give up after this long (default 15 minutes: a deployment may take minutes). */
  timeoutMs?: number
  /** Told once, when another rotation holds the folder and this one waits. */
  onWait?: (holder: {pid: number; host: string}) => void
}

/** Takes the source folder's lock; resolves to its release function. */
export async function lockSourceFolder(dir: string, options: SourceLockOptions = {}): Promise<() => void> {
  const file = path.join(fs.realpathSync(dir), SOURCE_LOCK)
  const token = randomBytes(12).toString('hex')
  const deadline = Date.now() + (options.timeoutMs ?? 15 * 60_000)
  let told = false
  let delay = 5
  for (;;) {
    let fd: number | undefined
    try {
      fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    if (fd !== undefined) {
      try {
        fs.writeSync(fd, `${process.pid}\n${os.hostname()}\n${token}\n`)
      } catch (error) {
        // An empty lock (disk full) would hold every other rotation until it went stale.
        fs.closeSync(fd)
        fs.rmSync(file, {force: true})
        throw error
      }
      fs.closeSync(fd)
      break
    }
    const owner = readOwner(file)
    if (isStale(file, owner)) {
      // Moved aside first: only one taker wins the rename; it removes the lock only if that is
      // still the stale one it judged (else it puts the live one back where it was).
      const aside = `${file}.${process.pid}-${randomBytes(6).toString('hex')}`
      try {
        fs.renameSync(file, aside)
        const moved = readOwner(aside)
        if (owner !== undefined && moved?.token !== owner.token) {
          try {
            fs.linkSync(aside, file)
          } catch {}
        }
        fs.rmSync(aside, {force: true})
      } catch {}
      continue
    }
    if (!told && owner) {
      told = true
      options.onWait?.({pid: owner.pid, host: owner.host})
    }
    if (Date.now() > deadline) {
      throw failedPrecondition(
        `Another rotation (pid ${owner?.pid ?? 'unknown'}${owner && owner.host !== os.hostname() ? ` on ${owner.host}` : ''}) still holds the source folder ${dir}.`,
        `Wait for it to finish; if no rotation runs, remove ${file}.`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())))
    delay = Math.min(delay * 1.5, 200)
  }
  return () => {
    if (readOwner(file)?.token === token) fs.rmSync(file, {force: true})
  }
}

/**
 * Replaces a file's content atomically: a temporary file beside it (hidden, so an archive read
 * meanwhile skips it), fsync, the original's mode, then one rename. A symbolic link is written
 * through to its target. The temporary file never outlives a failure.
 */
export function writeFileAtomically(file: string, data: Buffer): void {
  const target = fs.realpathSync(file)
  const mode = fs.statSync(target).mode & 0o7777
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`)
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600)
  try {
    try {
      fs.writeSync(fd, data)
      fs.fchmodSync(fd, mode)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, target)
  } catch (error) {
    fs.rmSync(tmp, {force: true})
    throw error
  }
}
