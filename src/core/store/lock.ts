import * as fs from 'node:fs'
import * as path from 'node:path'

/**
 * The store's inter-process lock: a directory created with mkdir (atomic on every local file
 * system), holding the owner's pid. A lock whose owner is dead, or that has not been renewed
 * for `staleMs`, is taken over, so a process killed while holding it blocks nobody for long.
 * (Written here rather than taken from proper-lockfile: that package patches `fs` through
 * graceful-fs and hooks signals through signal-exit, ~30 ms on every command's start-up, and
 * its signal hook re-raised SIGTERM in the emulator.)
 */
export interface LockOptions {
  staleMs?: number
  timeoutMs?: number
}

function ownerAlive(dir: string): boolean | undefined {
  let pid: number
  try {
    pid = Number(fs.readFileSync(path.join(dir, 'pid'), 'utf8'))
  } catch {
    return undefined // being created or removed: judge by age instead
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function isStale(dir: string, staleMs: number): boolean {
  let mtime: number
  try {
    mtime = fs.statSync(dir).mtimeMs
  } catch {
    return false // already gone: the next mkdir decides
  }
  const alive = ownerAlive(dir)
  if (alive === false) return true
  return Date.now() - mtime > staleMs
}

/** Takes the lock at `dir`; resolves to its release function. */
export async function acquireLock(dir: string, options: LockOptions = {}): Promise<() => void> {
  const staleMs = options.staleMs ?? 10_000
  const deadline = Date.now() + (options.timeoutMs ?? 60_000)
  let delay = 2
  for (;;) {
    try {
      fs.mkdirSync(dir, {mode: 0o700})
      fs.writeFileSync(path.join(dir, 'pid'), String(process.pid), {mode: 0o600})
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    if (isStale(dir, staleMs)) {
      // One rename wins; whoever loses simply tries again.
      const moved = `${dir}.stale-${process.pid}-${Date.now()}`
      try {
        fs.renameSync(dir, moved)
        fs.rmSync(moved, {recursive: true, force: true})
      } catch {}
      continue
    }
    if (Date.now() > deadline) throw new Error(`the lock ${dir} is held by another process`)
    await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())))
    delay = Math.min(delay * 1.5, 50)
  }
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
    fs.rmSync(dir, {recursive: true, force: true})
  }
}
