/**
 * One line per request on stderr:
 *   2026-11-27T16:30:00.123Z GET myorg-dev.apigee.net /helloworld 200 target=mymtlstarget upstream=127.0.0.1:8443 3ms
 * with ` failure="..."` when the runtime answered for the target. Lines are gathered and
 * written once per turn of the event loop: under load one write carries many lines.
 */
export interface AccessEntry {
  method: string
  host: string
  path: string
  status: number
  target?: string
  upstream?: string
  ms: number
  failure?: string
}

const UNCLEAN = /[\s"\\]/
const clean = (s: string) => (UNCLEAN.test(s) ? s.replace(/[\s"\\]/g, (c) => (c === '"' || c === '\\' ? `\\${c}` : '_')) : s)

/** The time as an ISO string, formatted once per millisecond (a busy runtime logs many lines per millisecond). */
let lastMs = -1
let lastIso = ''
function isoNow(): string {
  const ms = Date.now()
  if (ms !== lastMs) {
    lastMs = ms
    lastIso = new Date(ms).toISOString()
  }
  return lastIso
}

export function formatAccessLine(e: AccessEntry, at?: Date): string {
  const base = `${at ? at.toISOString() : isoNow()} ${clean(e.method)} ${clean(e.host || '-')} ${clean(e.path)} ${e.status} target=${clean(e.target ?? '-')} upstream=${e.upstream ?? '-'} ${Math.round(e.ms)}ms`
  return e.failure ? `${base} failure="${e.failure.replace(/["\\]/g, (c) => `\\${c}`).replace(/\s+/g, ' ')}"` : base
}

export class AccessLog {
  private pending: string[] = []
  private scheduled = false

  constructor(private readonly sink?: (lines: string) => void) {}

  write(entry: AccessEntry): void {
    if (!this.sink) return
    this.pending.push(formatAccessLine(entry))
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => this.flush())
    }
  }

  flush(): void {
    this.scheduled = false
    if (this.pending.length === 0 || !this.sink) return
    const lines = this.pending.join('\n') + '\n'
    this.pending = []
    this.sink(lines)
  }
}

/** Largest write a pipe takes whole (POSIX PIPE_BUF): the workers' lines never interleave. */
const ATOMIC_WRITE = 4096

/** Writes access-log lines to the shared stderr in whole lines of at most ATOMIC_WRITE bytes each. */
export function writeLines(lines: string, write: (chunk: string) => void = (chunk) => process.stderr.write(chunk)): void {
  if (lines.length <= ATOMIC_WRITE / 4 || Buffer.byteLength(lines) <= ATOMIC_WRITE) return write(lines)
  let chunk = ''
  let bytes = 0
  for (const line of lines.split('\n')) {
    if (line === '') continue
    const size = Buffer.byteLength(line) + 1
    if (bytes + size > ATOMIC_WRITE && chunk !== '') {
      write(chunk)
      chunk = ''
      bytes = 0
    }
    chunk += `${line}\n`
    bytes += size
  }
  if (chunk !== '') write(chunk)
}
