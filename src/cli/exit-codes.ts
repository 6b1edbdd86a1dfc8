import {isMtlsError} from '../core/errors.js'
import {unexpectedError, withoutPaths} from '../core/input.js'
import {OperationFailed} from './operation-failed.js'
import {AbortedByUser} from './prompts.js'
import {UsageError, unwrapFlagParseMessage} from './usage-error.js'

/** mtlsctl's exit codes (documented in the README). */
export const ExitCode = {
  /** The command did what was asked. */
  OK: 0,
  /** The engine refused or failed (any google.rpc status), an awaited operation failed, or the user said no. */
  ERROR: 1,
  /** Wrong or missing command-line input: unknown flag, bad value, a required value not given. */
  USAGE: 2,
  /** Remote mode: no credentials found, or the API refused them (UNAUTHENTICATED, PERMISSION_DENIED). */
  AUTH: 3,
  /** Remote mode: the API could not be reached or did not answer in time (after retries), or answered UNAVAILABLE. */
  API_UNAVAILABLE: 4,
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
  /** aliases list --expiring-within ... --exit-code: a certificate expires within the window. */
  EXPIRING: 15,
  /** Interrupted at a prompt (Ctrl-C). */
  INTERRUPTED: 130,
} as const

export interface ErrorReport {
  exitCode: number
  /** Lines for stderr, without the `ERROR: (command)` prefix on the first. */
  message: string
  hint?: string
}

/** Remote mode's own codes: credentials (3) and an API that did not answer (4); else 1. */
function mtlsExitCode(error: {status: string; origin?: string}): number {
  if (error.status === 'UNAUTHENTICATED') return ExitCode.AUTH
  if (error.status === 'PERMISSION_DENIED' && error.origin === 'api') return ExitCode.AUTH
  if (error.origin === 'transport') return ExitCode.API_UNAVAILABLE
  if (error.origin === 'api' && (error.status === 'UNAVAILABLE' || error.status === 'DEADLINE_EXCEEDED')) return ExitCode.API_UNAVAILABLE
  return ExitCode.ERROR
}

/** Maps anything thrown to what the user sees and the exit code. Never a stack trace. */
export function reportError(error: unknown): ErrorReport {
  if (isMtlsError(error)) {
    // INTERNAL means nothing anticipated it: its message may be a system error's, path and all.
    const message = error.status === 'INTERNAL' ? withoutPaths(error.message) : error.message
    return {exitCode: mtlsExitCode(error), message: `${error.status}: ${message}`, hint: error.hint}
  }
  if (error instanceof OperationFailed) {
    return {exitCode: ExitCode.ERROR, message: error.message}
  }
  if (error instanceof AbortedByUser) {
    // gcloud: `ERROR: (gcloud.config.configurations.delete) Aborted by user.`, exit 1.
    return {exitCode: ExitCode.ERROR, message: error.message}
  }
  if (error instanceof UsageError) {
    // A flag's parse function (value-flags.ts) throws it; oclif wraps its message.
    return {exitCode: ExitCode.USAGE, message: unwrapFlagParseMessage(error.message), hint: error.hint}
  }
  const err = error as {name?: string; message?: string; oclif?: {exit?: number}; code?: string; syscall?: string}
  if (err?.name === 'ExitPromptError' || err?.name === 'AbortPromptError') {
    return {exitCode: ExitCode.INTERRUPTED, message: 'Interrupted.'}
  }
  if (err?.oclif?.exit !== undefined) {
    // oclif's own parse errors (unknown flag, bad option value ...) are usage errors.
    const exitCode = err.oclif.exit === 0 ? 0 : ExitCode.USAGE
    return {exitCode, message: (err.message ?? '').replace(/^Error: /, '')}
  }
  // Nothing anticipated it: a system error (disk full, name too long ...) in words, anything
  // else without its paths.
  return {exitCode: ExitCode.ERROR, message: `INTERNAL: ${unexpectedError(error).message}`}
}
