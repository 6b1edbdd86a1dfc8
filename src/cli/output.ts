import type {Writable} from 'node:stream'

/** Verbosity levels, most talkative first. */
const LEVELS = ['debug', 'info', 'warning', 'error', 'none'] as const
export type Verbosity = (typeof LEVELS)[number]

export function isVerbosity(value: string): value is Verbosity {
  return (LEVELS as readonly string[]).includes(value)
}

/**
 * Where a command's words go. Results go to stdout and nothing else does; status lines,
 * progress, warnings and errors go to stderr, filtered by verbosity.
 */
export class Output {
  constructor(
    readonly verbosity: Verbosity,
    readonly color: boolean,
    readonly stdout: Writable = process.stdout,
    readonly stderr: Writable = process.stderr,
  ) {}

  private allows(level: Verbosity): boolean {
    return LEVELS.indexOf(level) >= LEVELS.indexOf(this.verbosity)
  }

  result(text: string): void {
    if (text !== '') this.stdout.write(text)
  }

  /** A status line (gcloud prints these at its default verbosity). */
  status(text: string): void {
    if (this.allows('warning')) this.stderr.write(text.endsWith('\n') ? text : `${text}\n`)
  }

  /** Raw progress text (no newline added): suppressed only at error/none. */
  progress(text: string): void {
    if (this.allows('warning')) this.stderr.write(text)
  }

  info(text: string): void {
    if (this.allows('info')) this.stderr.write(`INFO: ${text}\n`)
  }

  debug(text: string): void {
    if (this.allows('debug')) this.stderr.write(`DEBUG: ${text}\n`)
  }

  warn(text: string): void {
    if (this.allows('warning')) this.stderr.write(`WARNING: ${text}\n`)
  }

  error(text: string): void {
    if (this.allows('error')) this.stderr.write(`${text}\n`)
  }
}

/** Colour only for a terminal, and never with --no-color or NO_COLOR. */
export function wantsColor(flag: boolean | undefined, stream: {isTTY?: boolean}, env = process.env): boolean {
  if (flag === false) return false
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (flag === true) return true
  return stream.isTTY === true
}
