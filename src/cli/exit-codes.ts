import {isMtlsError} from '../core/errors.js'
import {OperationFailed} from './operation-failed.js'
import {UsageError} from './usage-error.js'

/** mtlsctl's exit codes (documented in the README). */
export const ExitCode = {
  /** The command did what was asked. */
  OK: 0,
  /** The engine refused or failed (any google.rpc status), or an awaited operation failed. */
  ERROR: 1,
  /** Wrong or missing command-line input: unknown flag, bad value, a required value not given. */
  USAGE: 2,
  /** certs probe: no TCP connection (refused, timed out, no route, unknown host). */
  UNREACHABLE: 10,
  /** certs probe: no TLS (the server does not speak it, or the handshake failed). */
  TLS_FAILURE: 11,
  /** certs probe: the server's certificate did not verify (CA, truststore or system roots; host name). */
  VERIFICATION_FAILED: 12,
  /** certs probe: the server requires a client certificate and refused the one given (or none was given). */
  CLIENT_CERTIFICATE_REFUSED: 13,
  /** hybrid check: a port's observed security differs from what the seed's table says. */
  CHECK_DIFFERS: 14,
  /** Interrupted at a prompt (Ctrl-C). */
  INTERRUPTED: 130,
} as const

export interface ErrorReport {
  exitCode: number
  /** Lines for stderr, without the `ERROR: (command)` prefix on the first. */
  message: string
  hint?: string
}

/** Maps anything thrown to what the user sees and the exit code. Never a stack trace. */
export function reportError(error: unknown): ErrorReport {
  if (isMtlsError(error)) {
    return {exitCode: ExitCode.ERROR, message: `${error.status}: ${error.message}`, hint: error.hint}
  }
  if (error instanceof OperationFailed) {
    return {exitCode: ExitCode.ERROR, message: error.message}
  }
  if (error instanceof UsageError) {
    return {exitCode: ExitCode.USAGE, message: error.message, hint: error.hint}
  }
  const err = error as {name?: string; message?: string; oclif?: {exit?: number}; code?: string}
  if (err?.name === 'ExitPromptError' || err?.name === 'AbortPromptError') {
    return {exitCode: ExitCode.INTERRUPTED, message: 'Interrupted.'}
  }
  if (err?.oclif?.exit !== undefined) {
    // oclif's own parse errors (unknown flag, bad option value ...) are usage errors.
    const exitCode = err.oclif.exit === 0 ? 0 : ExitCode.USAGE
    return {exitCode, message: (err.message ?? '').replace(/^Error: /, '')}
  }
  if (typeof err?.code === 'string' && /^E[A-Z]+$/.test(err.code)) {
    // A system error the engine did not anticipate (disk full, permission denied ...).
    return {exitCode: ExitCode.ERROR, message: `INTERNAL: ${err.message}`}
  }
  return {exitCode: ExitCode.ERROR, message: `INTERNAL: ${err?.message ?? String(error)}`}
}
