import {randomBytes} from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {alreadyExists, invalidArgument} from '../errors.js'

/**
 * Writing the output folder: the folder 0700, key material 0600, nothing overwritten without
 * force. Everything is first written to a staging folder inside DIR and then moved into place,
 * so a failure while generating or writing leaves no half-made install behind.
 */
export interface OutFile {
  /** Relative to the output folder, `/`-separated. */
  path: string
  data: string | Buffer
  secret?: boolean
}

const FORCE_HINT = 'Give --force to replace them (every node must then be reinstalled), or choose another --out-dir.'

function isSafeRelative(rel: string): boolean {
  const normal = path.posix.normalize(rel)
  return normal !== '' && !normal.startsWith('../') && normal !== '..' && !path.posix.isAbsolute(normal)
}

/** Refuses before any work when DIR is not a folder, or (without force) when an output exists. */
export function checkOutDir(dir: string, files: string[], force: boolean): void {
  let stat: fs.Stats | undefined
  try {
    stat = fs.statSync(dir)
  } catch {
    return
  }
  if (!stat.isDirectory()) throw invalidArgument(`--out-dir ${dir} is not a folder.`)
  if (force) return
  const existing = files.filter((rel) => fs.existsSync(path.join(dir, rel)))
  if (existing.length > 0) {
    const shown = existing.slice(0, 3).map((rel) => path.join(dir, rel)).join(', ')
    const more = existing.length > 3 ? ` and ${existing.length - 3} more` : ''
    throw alreadyExists(`${dir} already holds a mesh install (${shown}${more}); nothing was written.`, FORCE_HINT)
  }
}

export interface WriteOptions {
  force: boolean
  /** Files of an earlier install that this one no longer makes: removed (with force only). */
  stale?: string[]
}

export function writeOutDir(dir: string, files: OutFile[], options: WriteOptions): void {
  checkOutDir(dir, files.map((f) => f.path), options.force)
  for (const f of files) if (!isSafeRelative(f.path)) throw invalidArgument(`Refusing to write outside ${dir}: ${f.path}`)
  const created = !fs.existsSync(dir)
  fs.mkdirSync(dir, {recursive: true, mode: 0o700})
  fs.chmodSync(dir, 0o700)
  const staging = path.join(dir, `.mtlsctl-staging-${randomBytes(6).toString('hex')}`)
  try {
    fs.mkdirSync(staging, {mode: 0o700})
    const dirs = new Set<string>()
    for (const f of files) {
      const target = path.join(staging, f.path)
      const parent = path.dirname(target)
      if (!dirs.has(parent)) {
        fs.mkdirSync(parent, {recursive: true, mode: 0o700})
        dirs.add(parent)
      }
      fs.writeFileSync(target, f.data, {mode: f.secret ? 0o600 : 0o644, flag: 'wx'})
    }
  } catch (error) {
    fs.rmSync(created ? dir : staging, {recursive: true, force: true})
    throw error
  }
  const placed: string[] = []
  try {
    const dirs = new Set<string>()
    for (const f of files) {
      const target = path.join(dir, f.path)
      const parent = path.dirname(target)
      if (!dirs.has(parent)) {
        fs.mkdirSync(parent, {recursive: true, mode: 0o700})
        dirs.add(parent)
      }
      if (options.force) {
        fs.renameSync(path.join(staging, f.path), target)
      } else {
        // A link fails if the name appeared since the check: never overwrite without force.
        try {
          fs.linkSync(path.join(staging, f.path), target)
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw alreadyExists(`${target} already exists; nothing was written.`, FORCE_HINT)
          throw error
        }
        placed.push(target)
      }
    }
  } catch (error) {
    for (const target of placed) fs.rmSync(target, {force: true})
    throw error
  } finally {
    fs.rmSync(staging, {recursive: true, force: true})
  }
  if (options.force && options.stale) removeStale(dir, options.stale, new Set(files.map((f) => path.posix.normalize(f.path))))
}

function removeStale(dir: string, stale: string[], kept: Set<string>): void {
  for (const rel of stale) {
    if (typeof rel !== 'string' || !isSafeRelative(rel) || kept.has(path.posix.normalize(rel))) continue
    const target = path.join(dir, rel)
    fs.rmSync(target, {force: true})
    // Drop folders the removal emptied (nodes/<ip>/ of a node that left the cluster).
    let parent = path.dirname(target)
    while (parent.startsWith(dir + path.sep)) {
      try {
        fs.rmdirSync(parent)
      } catch {
        break
      }
      parent = path.dirname(parent)
    }
  }
}
