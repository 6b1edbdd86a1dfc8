import * as fs from 'node:fs'
import * as path from 'node:path'
import * as zlib from 'node:zlib'

import {invalidArgument} from '../errors.js'
import {formatBytes, INPUT_LIMITS, readInput} from '../input.js'
import {clipUserText} from './parse.js'

/**
 * The archive source, read as gcloud reads it: only the archive root (`src/main/apigee/`)
 * goes into the zip, hidden files are skipped, only known extensions are kept, 1 GiB at most.
 */
export const ARCHIVE_PREFIX = 'src/main/apigee/'
export const ARCHIVE_EXTENSIONS = [
  '.graphql', '.jar', '.java', '.js', '.jsc', '.json', '.oas', '.properties', '.py',
  '.securityPolicy', '.wsdl', '.xml', '.xsd', '.xsl', '.yaml', '.yml',
]
/** An archive's files in total, inflated (Apigee's upload limit). */
export const MAX_ARCHIVE_BYTES = INPUT_LIMITS.archive
/** One JSON or YAML document of an archive (it is parsed whole). */
export const MAX_ARCHIVE_DOCUMENT_BYTES = INPUT_LIMITS.archiveDocument
/** Entries of a bundle zip (a 5,000-proxy archive holds about 5,000). */
export const MAX_ARCHIVE_ENTRIES = 200_000

/** The files whose content is parsed (JSON or YAML), and so bounded by MAX_ARCHIVE_DOCUMENT_BYTES. */
export const isArchiveDocument = (name: string) => /\.(json|ya?ml)$/i.test(name)

/** Archive files by path relative to the archive root (`apiproxies/hello/config.yaml`). */
export type ArchiveFiles = Map<string, Buffer>

/** `--source` may hold `src/main/apigee/` (gcloud's layout) or `main/apigee/` (the seed's `--source=src`). */
export function archiveRoot(source: string): string {
  const abs = path.resolve(source)
  let stat: fs.Stats
  try {
    stat = fs.statSync(abs)
  } catch {
    throw invalidArgument(`Path to archive deployment does not exist: ${source}`)
  }
  if (!stat.isDirectory()) throw invalidArgument(`Source path is not a directory: ${source}`)
  for (const candidate of ['src/main/apigee', 'main/apigee']) {
    const root = path.join(abs, candidate)
    if (fs.existsSync(root) && fs.statSync(root).isDirectory()) return root
  }
  throw invalidArgument(
    `No archive root in ${source}: expected ${path.join(source, 'src/main/apigee')} or ${path.join(source, 'main/apigee')}.`,
    'Point --source at the folder that holds src/main/apigee/ (apiproxies/ and environments/ go under it).',
  )
}

/**
 * Reads the archive root's files by gcloud's rules; refuses symlinks that leave the source.
 * Every size is checked with stat before any file is read: a document (JSON or YAML) past
 * 16 MiB or files past 1 GiB in total are refused unread, and only regular files are read.
 */
export function readSource(source: string): ArchiveFiles {
  const root = archiveRoot(source)
  const boundary = fs.realpathSync(path.resolve(source))
  const found: Array<{abs: string; rel: string; size: number; document: boolean}> = []
  let total = 0
  const visited = new Set<string>()
  const walk = (dir: string, rel: string) => {
    const real = fs.realpathSync(dir)
    if (visited.has(real)) return
    visited.add(real)
    for (const entry of fs.readdirSync(dir, {withFileTypes: true}).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.')) continue
      const abs = path.join(dir, entry.name)
      const relPath = rel === '' ? entry.name : `${rel}/${entry.name}`
      let target = abs
      if (entry.isSymbolicLink()) {
        try {
          target = fs.realpathSync(abs)
        } catch {
          throw invalidArgument(`Symbolic link ${abs} points to nothing.`, 'Remove it or fix its target.')
        }
        if (target !== boundary && !target.startsWith(boundary + path.sep)) {
          throw invalidArgument(
            `Symbolic link ${abs} points outside the source folder (${target}).`,
            'Copy the file into the source folder instead of linking to it.',
          )
        }
      }
      const stat = fs.statSync(target)
      if (stat.isDirectory()) {
        walk(abs, relPath)
        continue
      }
      if (!ARCHIVE_EXTENSIONS.some((ext) => entry.name.endsWith(ext))) continue
      if (!stat.isFile()) {
        throw invalidArgument(
          `${abs} is not a regular file (a FIFO, socket or device): an archive holds regular files only.`,
          'Remove it from the source folder.',
        )
      }
      const document = isArchiveDocument(entry.name)
      if (document && stat.size > MAX_ARCHIVE_DOCUMENT_BYTES) {
        throw invalidArgument(
          `${abs} is ${formatBytes(stat.size)}, larger than the ${formatBytes(MAX_ARCHIVE_DOCUMENT_BYTES)} limit for a JSON or YAML document of an archive.`,
          'Check that the file belongs in the archive.',
        )
      }
      total += stat.size
      if (total > MAX_ARCHIVE_BYTES) {
        throw invalidArgument(`The archive in ${source} is larger than the ${formatBytes(MAX_ARCHIVE_BYTES)} upload limit.`, `${abs} is ${formatBytes(stat.size)}.`)
      }
      found.push({abs, rel: relPath, size: stat.size, document})
    }
  }
  walk(root, '')
  const files: ArchiveFiles = new Map()
  for (const {abs, rel, size, document} of found) {
    // readInput checks again on the descriptor it reads (a file that grew since is refused).
    const limit = document ? MAX_ARCHIVE_DOCUMENT_BYTES : Math.max(size, 1)
    files.set(rel, readInput(abs, {what: document ? 'JSON or YAML document' : 'source', kind: document ? 'archiveDocument' : 'archive', maxBytes: limit}))
  }
  return files
}

/**
 * Zips archive files under `src/main/apigee/`, as gcloud uploads them. fflate rather than
 * archiver here: for an archive in memory it does the same job and loads in a tenth of the
 * time (archiver costs ~0.1 s of start-up, most of a small deploy's budget).
 */
export async function zipArchive(files: ArchiveFiles): Promise<Buffer> {
  const {zipSync} = await import('fflate')
  // A fixed date keeps the zip of the same source byte-identical.
  const mtime = new Date('2000-01-01T00:00:00Z')
  const entries: Record<string, [Uint8Array, {mtime: Date; level: 6}]> = {}
  for (const [rel, data] of files) entries[ARCHIVE_PREFIX + rel] = [new Uint8Array(data.buffer, data.byteOffset, data.byteLength), {mtime, level: 6}]
  return Buffer.from(zipSync(entries))
}

/** Reads a `--bundle-file` within the 1 GiB archive limit: gcloud's wording when it does not exist. */
export function readBundleFile(file: string): Buffer {
  if (!fs.existsSync(file)) throw invalidArgument(`Path to archive deployment does not exist: ${file}`)
  return readInput(file, {what: 'bundle', kind: 'archive', flag: 'bundle-file'})
}

/** One entry of a zip's central directory. */
interface ZipEntry {
  name: string
  flags: number
  method: number
  crc: number
  compressedSize: number
  /** The inflated size the central directory declares. */
  size: number
  localOffset: number
}

const SIG_EOCD = 0x06054b50
const SIG_EOCD64 = 0x06064b50
const SIG_EOCD64_LOCATOR = 0x07064b50
const SIG_CENTRAL = 0x02014b50
const SIG_LOCAL = 0x04034b50

class NotAZip extends Error {}

/** The central directory of a zip (zip64 too): names and declared sizes, nothing inflated. */
function centralDirectory(zip: Buffer, file: string): ZipEntry[] {
  const fail = () => new NotAZip()
  let eocd = -1
  for (let at = zip.length - 22; at >= Math.max(0, zip.length - 22 - 0xffff); at--) {
    if (zip.readUInt32LE(at) === SIG_EOCD) {
      eocd = at
      break
    }
  }
  if (eocd < 0) throw fail()
  let count = zip.readUInt16LE(eocd + 10)
  let cdSize = zip.readUInt32LE(eocd + 12)
  let cdOffset = zip.readUInt32LE(eocd + 16)
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locator = eocd - 20
    if (locator < 0 || zip.readUInt32LE(locator) !== SIG_EOCD64_LOCATOR) throw fail()
    const at = Number(zip.readBigUInt64LE(locator + 8))
    if (at + 56 > zip.length || zip.readUInt32LE(at) !== SIG_EOCD64) throw fail()
    count = Number(zip.readBigUInt64LE(at + 32))
    cdSize = Number(zip.readBigUInt64LE(at + 40))
    cdOffset = Number(zip.readBigUInt64LE(at + 48))
  }
  if (count > MAX_ARCHIVE_ENTRIES) {
    throw invalidArgument(`Bundle file ${file} holds ${count.toLocaleString('en-US')} entries, more than the ${MAX_ARCHIVE_ENTRIES.toLocaleString('en-US')} an archive may hold.`)
  }
  if (cdOffset + cdSize > zip.length || count * 46 > cdSize) throw fail()
  const entries: ZipEntry[] = []
  let at = cdOffset
  for (let i = 0; i < count; i++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== SIG_CENTRAL) throw fail()
    const flags = zip.readUInt16LE(at + 8)
    const nameLength = zip.readUInt16LE(at + 28)
    const extraLength = zip.readUInt16LE(at + 30)
    const commentLength = zip.readUInt16LE(at + 32)
    const end = at + 46 + nameLength + extraLength + commentLength
    if (end > zip.length) throw fail()
    const entry: ZipEntry = {
      name: zip.toString(flags & 0x800 ? 'utf8' : 'latin1', at + 46, at + 46 + nameLength),
      flags,
      method: zip.readUInt16LE(at + 10),
      crc: zip.readUInt32LE(at + 16),
      compressedSize: zip.readUInt32LE(at + 20),
      size: zip.readUInt32LE(at + 24),
      localOffset: zip.readUInt32LE(at + 42),
    }
    // Zip64: the fields that overflowed 32 bits follow, in order, in extra field 0x0001.
    for (let x = at + 46 + nameLength; x + 4 <= at + 46 + nameLength + extraLength; ) {
      const id = zip.readUInt16LE(x)
      const length = zip.readUInt16LE(x + 2)
      if (id === 0x0001) {
        let y = x + 4
        const next = () => {
          if (y + 8 > x + 4 + length || y + 8 > zip.length) throw fail()
          const value = Number(zip.readBigUInt64LE(y))
          y += 8
          return value
        }
        if (entry.size === 0xffffffff) entry.size = next()
        if (entry.compressedSize === 0xffffffff) entry.compressedSize = next()
        if (entry.localOffset === 0xffffffff) entry.localOffset = next()
      }
      x += 4 + length
    }
    entries.push(entry)
    at = end
  }
  return entries
}

/** Where an entry's data starts, from its local header. */
function dataStart(zip: Buffer, entry: ZipEntry): number {
  const at = entry.localOffset
  if (at + 30 > zip.length || zip.readUInt32LE(at) !== SIG_LOCAL) throw new NotAZip()
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28)
  if (start + entry.compressedSize > zip.length) throw new NotAZip()
  return start
}

/**
 * Reads a zip made by gcloud or mtlsctl: the entries under `src/main/apigee/`. Nothing is
 * inflated before every entry's declared size has been checked against the limits (a JSON or
 * YAML document 16 MiB, the archive 1 GiB in total); then each entry is inflated with a cap
 * of its declared size, so an entry whose header lies is caught as soon as it passes what it
 * declared. Memory stays within what the headers declare, itself within the limits.
 */
export async function unzipArchive(zip: Buffer, file: string): Promise<ArchiveFiles> {
  const notAZip = () => invalidArgument(`Bundle file is not a valid zip archive: ${file}`)
  let entries: ZipEntry[]
  try {
    entries = centralDirectory(zip, file)
  } catch (error) {
    if (error instanceof NotAZip || error instanceof RangeError) throw notAZip()
    throw error
  }
  const kept: Array<{entry: ZipEntry; rel: string; shown: string}> = []
  let total = 0
  for (const entry of entries) {
    const {name} = entry
    const shown = clipUserText(name)
    if (name.endsWith('/')) continue
    const normal = path.posix.normalize(name.replaceAll('\\', '/'))
    if (normal === '..' || normal.startsWith('../') || path.posix.isAbsolute(normal) || /^[A-Za-z]:/.test(normal)) {
      throw invalidArgument(`Bundle file ${file} holds an entry outside the archive: ${shown}`)
    }
    if (!normal.startsWith(ARCHIVE_PREFIX)) continue
    if (/[\u0000-\u001f]/.test(name)) throw invalidArgument(`Bundle file ${file} holds an entry whose name has control characters: ${shown}`)
    const where = `Bundle file ${file}: entry ${shown}`
    if (entry.flags & 0x1) throw invalidArgument(`${where} is encrypted; an archive's entries cannot be.`)
    if (entry.method !== 0 && entry.method !== 8) {
      throw invalidArgument(`${where} uses compression method ${entry.method}; only stored (0) and deflated (8) entries are supported.`)
    }
    if (isArchiveDocument(name) && entry.size > MAX_ARCHIVE_DOCUMENT_BYTES) {
      throw invalidArgument(`${where} inflates to ${formatBytes(entry.size)}, past the ${formatBytes(MAX_ARCHIVE_DOCUMENT_BYTES)} limit for a JSON or YAML document.`)
    }
    total += entry.size
    if (total > MAX_ARCHIVE_BYTES) {
      throw invalidArgument(`Bundle file ${file} inflates to more than the ${formatBytes(MAX_ARCHIVE_BYTES)} limit for an archive (entry ${shown} declares ${formatBytes(entry.size)}).`)
    }
    kept.push({entry, rel: normal.slice(ARCHIVE_PREFIX.length), shown})
  }
  const files: ArchiveFiles = new Map()
  for (const {entry, rel, shown} of kept) {
    const where = `Bundle file ${file}: entry ${shown}`
    let start: number
    try {
      start = dataStart(zip, entry)
    } catch {
      throw notAZip()
    }
    const raw = zip.subarray(start, start + entry.compressedSize)
    let data: Buffer
    if (entry.method === 0) {
      if (raw.length !== entry.size) throw invalidArgument(`${where} is corrupt (its stored size is not its declared size).`)
      data = Buffer.from(raw)
    } else {
      try {
        data = zlib.inflateRawSync(raw, {maxOutputLength: Math.max(1, entry.size)})
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
          throw invalidArgument(`${where} inflates to more than the ${formatBytes(entry.size)} its header declares: the zip is corrupt or crafted.`)
        }
        throw invalidArgument(`${where} is corrupt (it does not inflate).`)
      }
      if (data.length !== entry.size) {
        throw invalidArgument(`${where} inflates to ${formatBytes(data.length)}, not the ${formatBytes(entry.size)} its header declares: the zip is corrupt or crafted.`)
      }
    }
    if (zlib.crc32(data) !== entry.crc) throw invalidArgument(`${where} is corrupt (its CRC-32 does not match).`)
    files.set(rel, data)
  }
  if (files.size === 0) {
    throw invalidArgument(`Bundle file ${file} holds nothing under ${ARCHIVE_PREFIX}.`)
  }
  return files
}
