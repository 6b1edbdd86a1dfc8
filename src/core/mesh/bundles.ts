/**
 * One `<ip>.tar.gz` per node, made with archiver: what that node needs and nothing else,
 * keys stored 0600 so that `tar -x` as root keeps them private. A fixed date keeps a bundle
 * of the same files byte-identical apart from gzip's own header.
 */
export interface BundleEntry {
  name: string
  data: string | Buffer
  secret?: boolean
}

const BUNDLE_DATE = new Date('2000-01-01T00:00:00Z')

export const bundleFileName = (ip: string) => `${ip}.tar.gz`

export async function makeBundle(entries: BundleEntry[]): Promise<Buffer> {
  const {TarArchive} = await import('archiver')
  const tar = new TarArchive({gzip: true, gzipOptions: {level: 6}})
  const chunks: Buffer[] = []
  tar.on('data', (chunk: Buffer) => chunks.push(chunk))
  const ended = new Promise<void>((resolve, reject) => {
    tar.on('end', () => resolve())
    tar.on('error', reject)
  })
  for (const entry of entries) {
    tar.append(Buffer.isBuffer(entry.data) ? entry.data : Buffer.from(entry.data), {
      name: entry.name,
      date: BUNDLE_DATE,
      mode: entry.secret ? 0o600 : 0o644,
    })
  }
  await tar.finalize()
  await ended
  return Buffer.concat(chunks)
}
