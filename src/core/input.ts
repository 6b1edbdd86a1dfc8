import * as fs from 'node:fs'

import {invalidArgument, MtlsError} from './errors.js'

/**
 * The one place where user input is read from a file: every command and the emulator go
 * through `readInput`, so each file has a size limit fit for what it is, checked before a
 * byte is read. A regular file's size is checked with fstat on the descriptor that is then
 * read (no race with a file swapped in between); a pipe (`<(...)`, `/dev/stdin`) is read in
 * chunks and refused as soon as it passes the limit. Anything else where a file is expected
 * (a character device such as /dev/zero, a socket, a folder) is refused unread.
 */

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB

/** What each kind of input may weigh. */
export const INPUT_LIMITS = {
  /** A password or token file: only its first line is used. */
  password: 4 * KiB,
  /** A bearer token file (the emulator's --token-file; remote mode's access tokens). */
  token: 16 * KiB,
  /** A PEM file: a key, a certificate, a CSR, or a key with its chain (10 certificates fit many times over). */
  pem: 1 * MiB,
  /** A PKCS#12 file. */
  pkcs12: 1 * MiB,
  /** A mesh topology, a plan, a config file. */
  document: 4 * MiB,
  /** One JSON or YAML document inside an archive (config.yaml, targetservers.json ...). */
  archiveDocument: 16 * MiB,
  /** An archive's zip (--bundle-file), and the archive's files in total: Apigee's upload limit. */
  archive: 1 * GiB,
} as const

export type InputKind = keyof typeof INPUT_LIMITS

/** `1 MiB`, `4 KiB`, `1 GiB`: a limit in words. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [['GiB', GiB], ['MiB', MiB], ['KiB', KiB]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`
  }
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`
  if (bytes >= KiB) return `${(bytes / KiB).toFixed(1)} KiB`
  return `${bytes} bytes`
}

export interface ReadInputOptions {
  /** What the file is, for messages: `certificate`, `password`, `topology`. */
  what: string
  /** Which limit applies; `maxBytes` overrides it. */
  kind: InputKind
  maxBytes?: number
  /** The flag that named the file, for messages (`cert-file` → `(--cert-file)`). */
  flag?: string
}

function errnoWords(code: string | undefined, fallback = `it cannot be read (${code ?? 'unknown error'})`): string {
  switch (code) {
    case 'ENOENT':
      return 'no such file'
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    case 'EISDIR':
      return 'it is a folder'
    case 'ENOTDIR':
      return 'a part of its path is not a folder'
    case 'ELOOP':
      return 'too many symbolic links'
    case 'ENAMETOOLONG':
      return 'its name is too long'
    case 'ENOSPC':
      return 'no space is left on the disk'
    case 'EROFS':
      return 'the file system is read-only'
    case 'EMFILE':
    case 'ENFILE':
      return 'too many files are open'
    case 'EEXIST':
      return 'it already exists'
    case 'ENOTEMPTY':
      return 'a folder is not empty'
    case 'EBUSY':
      return 'it is busy'
    case 'EIO':
      return 'an input/output error occurred'
    case 'EDQUOT':
      return 'the disk quota is exceeded'
    case 'ENXIO':
      return 'it is a socket or a device that cannot be opened as a file'
    default:
      return fallback
  }
}

/**
 * A system error (an errno code nothing anticipated: a full disk, a name too long) in words,
 * for the CLI's INTERNAL message: the same words as readInput's, and never the path Node puts
 * in its message (an absolute path into the state folder tells the user nothing and leaks it).
 */
export function describeSystemError(error: {code?: string; syscall?: string}): string {
  const operation = error.syscall ? ` (${error.syscall})` : ''
  return `A file system operation failed${operation}: ${errnoWords(error.code, `system error ${error.code ?? 'unknown'}`)}.`
}

/**
 * Absolute paths in a message nothing anticipated (`open '/home/u/.mtlsctl/...'`): dropped,
 * since an INTERNAL error must not carry a file system path. A quoted one (as Node's system
 * errors quote them) goes whole, spaces and all (`'/home/John Doe/...'`); an unquoted one up
 * to the first space.
 */
export function withoutPaths(message: string): string {
  return message
    .replace(/(['"])\/.*?\1(?=$|[\s,):;])/g, '$1[path]$1')
    .replace(/(^|[\s'"(=])\/[^\s'"),]+/g, '$1[path]')
}

/**
 * Anything thrown that nothing anticipated, as INTERNAL without a file system path: a system
 * error (an errno code) in words, any other error's message with its absolute paths dropped.
 */
export function unexpectedError(error: unknown): MtlsError {
  const e = error as {code?: unknown; syscall?: string; message?: string}
  if (typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code)) return new MtlsError('INTERNAL', describeSystemError({code: e.code, syscall: e.syscall}))
  return new MtlsError('INTERNAL', withoutPaths(e?.message ?? String(error)))
}

/** `the certificate file F (--cert-file)`: how messages name an input. */
export function describeInput(file: string, options: Pick<ReadInputOptions, 'what' | 'flag'>): string {
  return `the ${options.what} file ${file}${options.flag ? ` (--${options.flag})` : ''}`
}

function tooLarge(file: string, options: ReadInputOptions, limit: number): Error {
  const name = describeInput(file, options)
  return invalidArgument(
    `${name[0].toUpperCase()}${name.slice(1)} is larger than the ${formatBytes(limit)} limit for ${/^[aeiou]/i.test(options.what) ? 'an' : 'a'} ${options.what} file.`,
    `Check that ${file} is the file you meant.`,
  )
}

/**
 * Reads a user's input file within its kind's limit. Errors are INVALID_ARGUMENT, name the
 * file (and the flag), say why in words, and never carry the file's content.
 */
export function readInput(file: string, options: ReadInputOptions): Buffer {
  const limit = options.maxBytes ?? INPUT_LIMITS[options.kind]
  const cannot = (why: string) => invalidArgument(`Cannot read ${describeInput(file, options)}: ${why}.`)
  let fd: number
  try {
    // O_NONBLOCK: opening a FIFO with no writer must not hang before we can look at it.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)
  } catch (error) {
    throw cannot(errnoWords((error as NodeJS.ErrnoException).code))
  }
  try {
    const stat = fs.fstatSync(fd)
    if (stat.isDirectory()) throw cannot('it is a folder')
    if (stat.isFile()) {
      if (stat.size > limit) throw tooLarge(file, options, limit)
      return readAll(fd, limit, () => tooLarge(file, options, limit))
    }
    if (stat.isFIFO()) {
      // A pipe, read through the same non-blocking descriptor (re-opening it blocking would
      // hang on a FIFO nobody writes to): readAll waits out EAGAIN; no writer reads as empty.
      return readAll(fd, limit, () => tooLarge(file, options, limit))
    }
    throw cannot('it is not a regular file (a device, socket or other special file)')
  } finally {
    try {
      fs.closeSync(fd)
    } catch {}
  }
}

/** Reads a descriptor to its end, failing as soon as it passes `limit` bytes. */
function readAll(fd: number, limit: number, onTooLarge: () => Error): Buffer {
  const chunks: Buffer[] = []
  let total = 0
  const chunk = Buffer.allocUnsafe(64 * KiB)
  for (;;) {
    let n: number
    try {
      n = fs.readSync(fd, chunk, 0, chunk.length, null)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
        // A non-blocking pipe with nothing yet: wait for it (synchronously, as the callers expect).
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5)
        continue
      }
      throw error
    }
    if (n === 0) break
    total += n
    if (total > limit) throw onTooLarge()
    chunks.push(Buffer.from(chunk.subarray(0, n)))
  }
  return Buffer.concat(chunks, total)
}

/** readInput as UTF-8 text. */
export function readInputText(file: string, options: ReadInputOptions): string {
  return readInput(file, options).toString('utf8')
}
