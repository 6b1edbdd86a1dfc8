import * as zlib from 'node:zlib'

/**
 * Zips crafted byte by byte, for the archive reader's hostile-input tests: headers that
 * declare what the test says (not what the data holds), and deflate bombs built without
 * allocating what they inflate to.
 */

export interface CraftedEntry {
  name: string
  /** The entry's bytes as stored in the zip (deflated when method is 8). */
  data: Buffer
  /** Inflated size the headers declare. */
  size: number
  method?: 0 | 8
  crc?: number
  flags?: number
}

/** A zip of the given entries: local headers, data, central directory, end record. */
export function craftZip(entries: CraftedEntry[]): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8')
    const flags = (e.flags ?? 0) | 0x800
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt16LE(flags, 6)
    local.writeUInt16LE(e.method ?? 8, 8)
    local.writeUInt32LE(e.crc ?? 0, 14)
    local.writeUInt32LE(e.data.length, 18)
    local.writeUInt32LE(e.size, 22)
    local.writeUInt16LE(name.length, 26)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(20, 4)
    central.writeUInt16LE(20, 6)
    central.writeUInt16LE(flags, 8)
    central.writeUInt16LE(e.method ?? 8, 10)
    central.writeUInt32LE(e.crc ?? 0, 16)
    central.writeUInt32LE(e.data.length, 20)
    central.writeUInt32LE(e.size, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt32LE(offset, 42)
    locals.push(local, name, e.data)
    centrals.push(central, name)
    offset += 30 + name.length + e.data.length
  }
  const cd = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(cd.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, cd, end])
}

const MiB = 1024 * 1024
let zeros16MiB: Buffer | undefined

/**
 * A raw deflate stream of `blocks` × 16 MiB of zeros (about 16 KB per block): one block is
 * deflated after a full flush, so the same bytes can be repeated; an empty final block ends it.
 */
export function deflateBomb(blocks: number): Buffer {
  zeros16MiB ??= zlib.deflateRawSync(Buffer.alloc(16 * MiB), {level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH})
  return Buffer.concat([...Array(blocks).fill(zeros16MiB), Buffer.from([0x03, 0x00])])
}

/** A deflated entry with its real size and CRC. */
export function deflatedEntry(name: string, content: string | Buffer): CraftedEntry {
  const data = Buffer.from(content)
  return {name, data: zlib.deflateRawSync(data), size: data.length, crc: zlib.crc32(data)}
}
