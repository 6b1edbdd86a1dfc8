import {randomBytes} from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {alreadyExists, invalidArgument} from '../errors.js'

/**
 * Writing what the CA commands make: all files or none, keys 0600 from their first byte,
 * and an existing file replaced only when asked (--force).
 */
export interface OutputFile {
  path: string
  data: string | Buffer
  /** Private keys: 0600 (others 0644). */
  secret?: boolean
}

const FORCE_HINT = 'Give --force to overwrite it, or choose another name or folder.'

/** Refuses (ALREADY_EXISTS) before any work is done when an output exists and force is off. */
export function checkOutputs(files: OutputFile[], force = false): void {
  const seen = new Set<string>()
  for (const file of files) {
    const target = path.resolve(file.path)
    if (seen.has(target)) throw invalidArgument(`Two outputs would be written to ${file.path}.`)
    seen.add(target)
    let stat: fs.Stats | undefined
    try {
      stat = fs.statSync(target)
    } catch {
      stat = undefined
    }
    if (stat?.isDirectory()) throw invalidArgument(`${file.path} is a folder, not a file.`)
    if (stat && !force) throw alreadyExists(`${file.path} already exists.`, FORCE_HINT)
    const dir = path.dirname(target)
    if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw invalidArgument(`${dir} is not a folder.`)
  }
}

/**
 * Writes every file through a temporary sibling. Without force each is linked into place
 * (which fails if the name appeared meanwhile); with force it is renamed over the old one.
 * On any failure the files this call wrote are removed again.
 */
export function writeOutputs(files: OutputFile[], force = false): void {
  checkOutputs(files, force)
  const temps: string[] = []
  const placed: string[] = []
  try {
    for (const file of files) {
      const target = path.resolve(file.path)
      fs.mkdirSync(path.dirname(target), {recursive: true})
      const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`)
      const fd = fs.openSync(temp, 'wx', file.secret ? 0o600 : 0o644)
      temps.push(temp)
      try {
        fs.writeFileSync(fd, file.data)
        fs.fchmodSync(fd, file.secret ? 0o600 : 0o644) // the umask may have narrowed or not: be exact
        fs.fsyncSync(fd)
      } finally {
        fs.closeSync(fd)
      }
    }
    files.forEach((file, i) => {
      const target = path.resolve(file.path)
      if (force) {
        fs.renameSync(temps[i], target)
      } else {
        try {
          fs.linkSync(temps[i], target)
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw alreadyExists(`${file.path} already exists.`, FORCE_HINT)
          throw error
        }
        fs.unlinkSync(temps[i])
      }
      placed.push(target)
    })
  } catch (error) {
    for (const temp of temps) fs.rmSync(temp, {force: true})
    if (!force) for (const target of placed) fs.rmSync(target, {force: true})
    throw error
  }
}
