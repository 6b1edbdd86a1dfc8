/**
 * The one error type of the engine. It carries a google.rpc code so that the CLI, the
 * operation records and (later) the REST emulator all speak the same language.
 */
export const RpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const

export type RpcStatus = keyof typeof RpcCode

const statusByCode = new Map<number, RpcStatus>(
  Object.entries(RpcCode).map(([status, code]) => [code, status as RpcStatus]),
)

export type ErrorOrigin = 'api' | 'transport'

export class MtlsError extends Error {
  readonly code: number
  readonly status: RpcStatus
  /** What the user can do about it; printed after the message by the CLI. */
  readonly hint?: string
  /**
   * Remote mode: `api` when a remote API answered with this error, `transport` when no answer
   * came (unreachable, timed out). The CLI gives those their own exit codes.
   */
  readonly origin?: ErrorOrigin

  constructor(status: RpcStatus, message: string, options: {hint?: string; cause?: unknown; origin?: ErrorOrigin} = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'MtlsError'
    this.status = status
    this.code = RpcCode[status]
    this.hint = options.hint
    if (options.origin) this.origin = options.origin
  }

  static fromCode(code: number, message: string): MtlsError {
    return new MtlsError(statusByCode.get(code) ?? 'UNKNOWN', message)
  }
}

export const invalidArgument = (message: string, hint?: string) => new MtlsError('INVALID_ARGUMENT', message, {hint})
export const notFound = (message: string, hint?: string) => new MtlsError('NOT_FOUND', message, {hint})
export const alreadyExists = (message: string, hint?: string) => new MtlsError('ALREADY_EXISTS', message, {hint})
export const failedPrecondition = (message: string, hint?: string) =>
  new MtlsError('FAILED_PRECONDITION', message, {hint})
export const internal = (message: string, hint?: string) => new MtlsError('INTERNAL', message, {hint})

export function isMtlsError(error: unknown): error is MtlsError {
  return error instanceof MtlsError
}
