import * as fs from 'node:fs'
import * as path from 'node:path'

import {alreadyExists, invalidArgument} from '../errors.js'

/**
 * Writing the output folder: the folder 0700, key material 0600, nothing overwritten without
 * force. Everything is generated before the first file is written; without force each file is
 * created exclusively and a failure removes what this run wrote. With force an existing file is
 * unlinked before it is created again, so it takes the new mode rather than keeping its old one.
 * (Files are written in place: creating each twice through a staging folder doubled the cost
 * of a 300-node install on an ordinary disk.)
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
  const written: string[] = []
  const dirs = new Set<string>([path.resolve(dir)])
  try {
    for (const f of files) {
      const target = path.resolve(dir, f.path)
      const parent = path.dirname(target)
      if (!dirs.has(parent)) {
        fs.mkdirSync(parent, {recursive: true, mode: 0o700})
        dirs.add(parent)
      }
      if (options.force) fs.rmSync(target, {force: true})
      try {
        fs.writeFileSync(target, f.data, {mode: f.secret ? 0o600 : 0o644, flag: 'wx'})
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw alreadyExists(`${target} already exists; nothing was written.`, FORCE_HINT)
        throw error
      }
      written.push(target)
    }
  } catch (error) {
    if (!options.force) {
      if (created) fs.rmSync(dir, {recursive: true, force: true})
      else for (const target of written) fs.rmSync(target, {force: true})
    }
    throw error
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
