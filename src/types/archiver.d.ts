// archiver 8 ships no types; the little mtlsctl uses of it.
declare module 'archiver' {
  import type {Readable, Transform} from 'node:stream'

  interface EntryData {
    name: string
    date?: Date
    mode?: number
  }
  class Archiver extends Transform {
    constructor(options?: Record<string, unknown>)
    append(source: Buffer | string | Readable, data: EntryData): this
    finalize(): Promise<void>
  }
  export class ZipArchive extends Archiver {}
  export class TarArchive extends Archiver {}
}
