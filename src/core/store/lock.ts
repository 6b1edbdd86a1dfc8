import {randomBytes} from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'

/**
 * The store's inter-process lock: a directory holding its owner's pid and a token, put in
 * place with one rename (made whole in a scratch folder first, so the lock is never seen
 * without its owner). A lock whose owner is dead, or that has not been renewed for `staleMs`,
 * is taken over, so a process killed while holding it blocks nobody for long. Released and
 * taken-over locks are renamed into the scratch folder before they are removed, so the lock
 * path is always either a whole lock or absent; a taker that moved a lock other than the one it
 * judged stale (another process got there first) puts it back.
 * (Written here rather than taken from proper-lockfile: that package patches `fs` through
 * graceful-fs and hooks signals through signal-exit, ~30 ms on every command's start-up, and
 * its signal hook re-raised SIGTERM in the emulator.)
 */
export interface LockOptions {
  staleMs?: number
  timeoutMs?: number
  /**
   * A folder on the same file system where the lock is assembled and where released locks go
   * before removal. Entries are named `<pid>-...`, so whoever cleans the folder can tell a
   * live process's entries from a dead one's. Defaults to the lock's own folder.
   */
  scratch?: string
}

/** Whether the process `pid` is alive (EPERM: it exists, owned by someone else). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function readOwner(dir: string): {pid: number; token: string} | undefined {
  try {
    const [pid, token = ''] = fs.readFileSync(path.join(dir, 'pid'), 'utf8').split('\n')
    return {pid: Number(pid), token}
  } catch {
    return undefined
  }
}

/** Which lock was judged stale: its owner's token (undefined: no readable owner). */
interface StaleLock {
  token: string | undefined
}

function staleLock(dir: string, staleMs: number): StaleLock | undefined {
  let mtime: number
  try {
    mtime = fs.statSync(dir).mtimeMs
  } catch {
    return undefined // already gone: the next rename decides
  }
  const owner = readOwner(dir)
  const known = owner !== undefined && Number.isInteger(owner.pid) && owner.pid > 0
  if (known && !processAlive(owner.pid)) return {token: owner.token}
  // This process's pid with a token it does not hold: a lock it released while another
  // process's takeover had moved it, put back afterwards. Nobody holds it.
  if (known && owner.pid === process.pid && !held.has(owner.token)) return {token: owner.token}
  // A live owner keeps its lock while its event loop is blocked (a large fsync, an rmSync),
  // when its renewal timer cannot run: only a renewal missed for LIVE_OWNER_STALE_FACTOR times
  // longer (a pid reused by another program) frees it. A lock without a readable owner (left
  // by an older version killed mid-way) is judged by age alone.
  return Date.now() - mtime > (known ? staleMs * LIVE_OWNER_STALE_FACTOR : staleMs) ? {token: owner?.token} : undefined
}

/** The tokens of the locks this process holds now. */
const held = new Set<string>()

/** 10 s × 30: a live owner's lock is taken over only after 5 minutes without renewal. */
const LIVE_OWNER_STALE_FACTOR = 30

const scratchName = (scratch: string, what: string) => path.join(scratch, `${process.pid}-${what}-${randomBytes(6).toString('hex')}`)

/**
 * Moves the lock judged stale out of the way. Between the judgement and the rename another
 * process may have taken it over and put its own lock in place: the rename then moved that
 * live lock, which is seen by its token and put back. Returns whether the stale lock went.
 */
export function removeStaleLock(dir: string, scratch: string, judged: StaleLock): boolean {
  const moved = scratchName(scratch, 'stale')
  try {
    fs.renameSync(dir, moved)
  } catch {
    return false // someone else moved it: whoever wins the next rename holds the lock
  }
  if (readOwner(moved)?.token !== judged.token) {
    try {
      fs.renameSync(moved, dir)
      return false
    } catch {
      // A third process already put its lock in place: the one moved cannot go back.
    }
  }
  fs.rmSync(moved, {recursive: true, force: true})
  return true
}

/** Takes the lock at `dir`; resolves to its release function. */
export async function acquireLock(dir: string, options: LockOptions = {}): Promise<() => void> {
  const staleMs = options.staleMs ?? 10_000
  const scratch = options.scratch ?? path.dirname(dir)
  const deadline = Date.now() + (options.timeoutMs ?? 60_000)
  const token = randomBytes(12).toString('hex')
  fs.mkdirSync(scratch, {recursive: true, mode: 0o700})
  const staged = scratchName(scratch, 'lock')
  fs.mkdirSync(staged, {mode: 0o700})
  fs.writeFileSync(path.join(staged, 'pid'), `${process.pid}\n${token}`, {mode: 0o600})
  let delay = 2
  try {
    for (;;) {
      try {
        // rename(2) puts a directory in place only where none (or an empty one) is: atomic.
        fs.renameSync(staged, dir)
        break
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error
      }
      const stale = staleLock(dir, staleMs)
      // One rename wins; whoever loses tries again. A stale lock that cannot be moved (another
      // user's, say) is waited on like a live one: never a loop without a pause.
      if (stale && removeStaleLock(dir, scratch, stale)) continue
      if (Date.now() > deadline) throw new Error('the lock is held by another process')
      await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())))
      delay = Math.min(delay * 1.5, 50)
    }
  } catch (error) {
    fs.rmSync(staged, {recursive: true, force: true})
    throw error
  }
  held.add(token)
  // Renewed while held, so a long operation is not mistaken for a dead one.
  const renew = setInterval(() => {
    const now = new Date()
    try {
      fs.utimesSync(dir, now, now)
    } catch {}
  }, Math.max(100, staleMs / 5))
  renew.unref()
  return () => {
    clearInterval(renew)
    held.delete(token)
    // Only our own lock is released (one taken over from us belongs to someone else now).
    if (readOwner(dir)?.token !== token) return
    const moved = scratchName(scratch, 'released')
    try {
      fs.renameSync(dir, moved)
    } catch {
      return
    }
    fs.rmSync(moved, {recursive: true, force: true})
  }
}
