import type {Output} from './output.js'

const SPINNER = ['|', '/', '-', '\\']

/**
 * gcloud's progress line for an operation, on stderr. On a terminal, one line with a spinner:
 * `Waiting for operation [UUID] to complete...done.`. Otherwise the message, a newline, one dot
 * per poll, then `done.` or `failed.` (exactly what gcloud prints without a TTY).
 */
export class OperationProgress {
  private polls = 0
  private frame = 0
  private readonly message: string

  constructor(
    private readonly out: Output,
    uuid: string,
    private readonly tty: boolean = process.stderr.isTTY === true,
  ) {
    this.message = `Waiting for operation [${uuid}] to complete...`
  }

  start(): void {
    this.out.progress(this.tty ? this.message : `${this.message}\n`)
  }

  tick(): void {
    this.polls++
    if (this.tty) {
      this.out.progress(`\r${this.message}${SPINNER[this.frame++ % SPINNER.length]}`)
    } else {
      this.out.progress('.')
    }
  }

  stop(ok: boolean): void {
    const word = ok ? 'done.' : 'failed.'
    this.out.progress(this.tty ? `\r${this.message}${word}\n` : `${word}\n`)
  }
}
