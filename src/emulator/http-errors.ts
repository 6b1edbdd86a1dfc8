import {MtlsError, type RpcStatus} from '../core/errors.js'

/**
 * Errors in Google's HTTP shape: `{"error": {"code": <HTTP status>, "message": ..., "status": ...}}`.
 * Engine errors (MtlsError) map by their google.rpc status, as Google's front ends map them;
 * transport errors (a body too large, a wrong content type) carry their own HTTP status.
 */
const HTTP_BY_STATUS: Record<RpcStatus, number> = {
  OK: 200,
  CANCELLED: 499,
  UNKNOWN: 500,
  INVALID_ARGUMENT: 400,
  DEADLINE_EXCEEDED: 504,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 429,
  FAILED_PRECONDITION: 400,
  ABORTED: 409,
  OUT_OF_RANGE: 400,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DATA_LOSS: 500,
  UNAUTHENTICATED: 401,
}

export function httpStatusOf(status: RpcStatus): number {
  return HTTP_BY_STATUS[status] ?? 500
}

/** An error of the HTTP layer itself, with an explicit HTTP status (413, 415 ...). */
export class HttpError extends MtlsError {
  constructor(
    readonly httpStatus: number,
    status: RpcStatus,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(status, message)
    this.name = 'HttpError'
  }
}

export interface GoogleError {
  error: {code: number; message: string; status: RpcStatus}
}

/** Statuses whose message is for the operator, not the client (it may name files of the state folder). */
const OPERATOR_ONLY: ReadonlySet<RpcStatus> = new Set(['INTERNAL', 'UNKNOWN', 'DATA_LOSS'])

/**
 * What the client receives for any thrown value; `unexpected` marks a bug or a system failure.
 * An unexpected error's body is generic (no path, no stack): the details go to the log, with
 * the `incident` id that the body names.
 */
export function toGoogleError(error: unknown, incident?: string): {httpStatus: number; body: GoogleError; headers: Record<string, string>; unexpected: boolean} {
  if (error instanceof HttpError) {
    return {httpStatus: error.httpStatus, body: {error: {code: error.httpStatus, message: error.message, status: error.status}}, headers: error.headers, unexpected: false}
  }
  if (error instanceof MtlsError && !OPERATOR_ONLY.has(error.status)) {
    const httpStatus = httpStatusOf(error.status)
    return {httpStatus, body: {error: {code: httpStatus, message: error.message, status: error.status}}, headers: {}, unexpected: httpStatus >= 500}
  }
  const status: RpcStatus = error instanceof MtlsError ? error.status : 'INTERNAL'
  const httpStatus = httpStatusOf(status)
  const message = `Internal error: the emulator could not complete the request${incident ? ` (incident ${incident} in its log)` : ''}.`
  return {httpStatus, body: {error: {code: httpStatus, message, status}}, headers: {}, unexpected: true}
}

export const badRequest = (message: string) => new HttpError(400, 'INVALID_ARGUMENT', message)
export const payloadTooLarge = (limit: number) =>
  new HttpError(413, 'INVALID_ARGUMENT', `Request payload size exceeds the limit: ${limit} bytes.`, {connection: 'close'})
export const unsupportedMediaType = (got: string | undefined, want: string) =>
  new HttpError(415, 'INVALID_ARGUMENT', `Invalid Content-Type ${got ? `"${got}"` : '(none)'}: this method takes ${want}.`)
export const pathNotFound = (method: string, path: string) =>
  new HttpError(404, 'NOT_FOUND', `The requested URL ${path} was not found on this server (${method}).`)
export const methodNotFound = (method: string, path: string, allowed: string[]) =>
  new HttpError(404, 'NOT_FOUND', `Method not found: ${method} ${path} (allowed: ${allowed.join(', ')}).`, {allow: allowed.join(', ')})

const SEE = 'Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.'
const CHALLENGE = {'www-authenticate': 'Bearer realm="https://accounts.google.com/"'}
export const missingCredential = () => new HttpError(401, 'UNAUTHENTICATED', `Request is missing required authentication credential. ${SEE}`, CHALLENGE)
export const invalidCredential = () => new HttpError(401, 'UNAUTHENTICATED', `Request had invalid authentication credentials. ${SEE}`, CHALLENGE)
