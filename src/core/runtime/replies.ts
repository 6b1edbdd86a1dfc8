/**
 * What a configurable proxy's runtime (Envoy with BoringSSL) answers when it cannot reach the
 * target: the local replies' statuses and texts, and BoringSSL's packed error codes and reason
 * names for TLS failures. Node's TLS is OpenSSL, whose numbers differ and change between
 * versions, so failures are mapped by reason name and alert, never by OpenSSL's numbers.
 */

/** A reply the runtime makes itself (not the backend's). */
export interface LocalReply {
  status: number
  /** Empty for the 404 of an unrouted request (Envoy sends no body and no content type). */
  body: string
}

const UPSTREAM_RESET = 'upstream connect error or disconnect/reset before headers. reset reason: '

/** BoringSSL's library code for SSL routines (ERR_LIB_SSL). */
const ERR_LIB_SSL = 16

/** BoringSSL's packed error code: library in the top byte, reason in the low 12 bits. */
export const packedCode = (reason: number): number => ERR_LIB_SSL * 2 ** 24 + reason

/** BoringSSL reasons a TLS client meets (ssl.h's SSL_R_*), by name. */
const BORINGSSL_REASONS: Record<string, number> = {
  BAD_ALERT: 102,
  CERTIFICATE_VERIFY_FAILED: 125,
  DECODE_ERROR: 137,
  DECRYPTION_FAILED_OR_BAD_RECORD_MAC: 139,
  EXCESSIVE_MESSAGE_SIZE: 150,
  HANDSHAKE_FAILURE_ON_CLIENT_HELLO: 154,
  NO_CIPHERS_AVAILABLE: 175,
  NO_CIPHER_MATCH: 177,
  NO_SHARED_CIPHER: 184,
  PEER_DID_NOT_RETURN_A_CERTIFICATE: 192,
  SSL_HANDSHAKE_FAILURE: 215,
  UNEXPECTED_MESSAGE: 223,
  UNEXPECTED_RECORD: 225,
  UNKNOWN_PROTOCOL: 233,
  UNSUPPORTED_PROTOCOL: 240,
  WRONG_CIPHER_RETURNED: 242,
  WRONG_CURVE: 243,
  WRONG_SIGNATURE_TYPE: 245,
  WRONG_SSL_VERSION: 246,
  WRONG_VERSION_NUMBER: 247,
  NO_COMMON_SIGNATURE_ALGORITHMS: 253,
  NO_SHARED_GROUP: 266,
  NO_SUPPORTED_VERSIONS_ENABLED: 280,
}

/** OpenSSL's names for local failures that BoringSSL names differently. */
const OPENSSL_TO_BORINGSSL: Record<string, string> = {
  NO_PROTOCOLS_AVAILABLE: 'NO_SUPPORTED_VERSIONS_ENABLED',
  TLSV1_ALERT_NO_APPLICATION_PROTOCOL: 'TLSV1_ALERT_NO_APPLICATION_PROTOCOL',
  PACKET_LENGTH_TOO_LONG: 'WRONG_VERSION_NUMBER',
  RECORD_LAYER_FAILURE: 'DECRYPTION_FAILED_OR_BAD_RECORD_MAC',
  SSLV3_ALERT_NO_CERTIFICATE: 'SSLV3_ALERT_NO_CERTIFICATE',
}

/**
 * TLS alerts (RFC 8446 section 6 and older): the alert's name as both libraries spell it after
 * their `SSLV3_ALERT_`/`TLSV1_ALERT_`/`TLSV13_ALERT_`/`TLSV1_` prefix, its number, and the
 * prefix BoringSSL gives it (its reason is 1000 + the alert number).
 */
const ALERTS: Record<string, {alert: number; boring: 'SSLV3_ALERT_' | 'TLSV1_ALERT_'}> = {
  CLOSE_NOTIFY: {alert: 0, boring: 'SSLV3_ALERT_'},
  UNEXPECTED_MESSAGE: {alert: 10, boring: 'SSLV3_ALERT_'},
  BAD_RECORD_MAC: {alert: 20, boring: 'SSLV3_ALERT_'},
  DECRYPTION_FAILED: {alert: 21, boring: 'TLSV1_ALERT_'},
  RECORD_OVERFLOW: {alert: 22, boring: 'TLSV1_ALERT_'},
  DECOMPRESSION_FAILURE: {alert: 30, boring: 'SSLV3_ALERT_'},
  HANDSHAKE_FAILURE: {alert: 40, boring: 'SSLV3_ALERT_'},
  NO_CERTIFICATE: {alert: 41, boring: 'SSLV3_ALERT_'},
  BAD_CERTIFICATE: {alert: 42, boring: 'SSLV3_ALERT_'},
  UNSUPPORTED_CERTIFICATE: {alert: 43, boring: 'SSLV3_ALERT_'},
  CERTIFICATE_REVOKED: {alert: 44, boring: 'SSLV3_ALERT_'},
  CERTIFICATE_EXPIRED: {alert: 45, boring: 'SSLV3_ALERT_'},
  CERTIFICATE_UNKNOWN: {alert: 46, boring: 'SSLV3_ALERT_'},
  ILLEGAL_PARAMETER: {alert: 47, boring: 'SSLV3_ALERT_'},
  UNKNOWN_CA: {alert: 48, boring: 'TLSV1_ALERT_'},
  ACCESS_DENIED: {alert: 49, boring: 'TLSV1_ALERT_'},
  DECODE_ERROR: {alert: 50, boring: 'TLSV1_ALERT_'},
  DECRYPT_ERROR: {alert: 51, boring: 'TLSV1_ALERT_'},
  EXPORT_RESTRICTION: {alert: 60, boring: 'TLSV1_ALERT_'},
  PROTOCOL_VERSION: {alert: 70, boring: 'TLSV1_ALERT_'},
  INSUFFICIENT_SECURITY: {alert: 71, boring: 'TLSV1_ALERT_'},
  INTERNAL_ERROR: {alert: 80, boring: 'TLSV1_ALERT_'},
  INAPPROPRIATE_FALLBACK: {alert: 86, boring: 'TLSV1_ALERT_'},
  USER_CANCELLED: {alert: 90, boring: 'TLSV1_ALERT_'},
  NO_RENEGOTIATION: {alert: 100, boring: 'TLSV1_ALERT_'},
  MISSING_EXTENSION: {alert: 109, boring: 'TLSV1_ALERT_'},
  UNSUPPORTED_EXTENSION: {alert: 110, boring: 'TLSV1_ALERT_'},
  CERTIFICATE_UNOBTAINABLE: {alert: 111, boring: 'TLSV1_ALERT_'},
  UNRECOGNIZED_NAME: {alert: 112, boring: 'TLSV1_ALERT_'},
  BAD_CERTIFICATE_STATUS_RESPONSE: {alert: 113, boring: 'TLSV1_ALERT_'},
  BAD_CERTIFICATE_HASH_VALUE: {alert: 114, boring: 'TLSV1_ALERT_'},
  UNKNOWN_PSK_IDENTITY: {alert: 115, boring: 'TLSV1_ALERT_'},
  CERTIFICATE_REQUIRED: {alert: 116, boring: 'TLSV1_ALERT_'},
  NO_APPLICATION_PROTOCOL: {alert: 120, boring: 'TLSV1_ALERT_'},
  ECH_REQUIRED: {alert: 121, boring: 'TLSV1_ALERT_'},
}

/** Node's codes for a certificate that failed verification (OpenSSL's X509_V_ERR_* names, and Node's own). */
const VERIFY_FAILURES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_REJECTED',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  // The runtime's own commonName check (sSLInfo.commonName).
  'ERR_MTLSCTL_COMMON_NAME_MISMATCH',
])

/** A BoringSSL reason: its name and packed code. */
export interface BoringSslReason {
  name: string
  code: number
}

function reason(name: string): BoringSslReason | undefined {
  const known = BORINGSSL_REASONS[name]
  if (known !== undefined) return {name, code: packedCode(known)}
  const alert = /^(?:SSLV3_ALERT_|TLSV13_ALERT_|TLSV1_ALERT_|TLSV1_)(.+)$/.exec(name)
  const entry = alert ? ALERTS[alert[1]] : undefined
  if (entry) return {name: `${entry.boring}${alert![1]}`, code: packedCode(1000 + entry.alert)}
  return undefined
}

/**
 * OpenSSL's reason name of a Node TLS error. Node gives it three ways, depending on where the
 * handshake failed: `code: ERR_SSL_<REASON>`, a `reason` text, or (a write during the
 * handshake: `EPROTO`) only inside the message: `...:SSL routines:<func>:<reason text>:<file>:<line>:`.
 */
function openSslReason(error: NodeJS.ErrnoException & {reason?: unknown}): string | undefined {
  if (typeof error.code === 'string' && error.code.startsWith('ERR_SSL_')) return error.code.slice('ERR_SSL_'.length)
  const text =
    typeof error.reason === 'string' ? error.reason : /SSL routines:[^:]*:([a-z0-9 ]+):/i.exec(typeof error.message === 'string' ? error.message : '')?.[1]
  return text && /^[a-z0-9 ]+$/i.test(text) ? text.toUpperCase().replaceAll(' ', '_') : undefined
}

/** A received alert's number, when OpenSSL's message says it (`SSL alert number 40`). */
function alertNumber(error: {message?: unknown}): number | undefined {
  const m = /SSL alert number (\d+)/.exec(typeof error.message === 'string' ? error.message : '')
  return m ? Number(m[1]) : undefined
}

/**
 * The BoringSSL reason a TLS failure would have in Envoy: verification failures are
 * CERTIFICATE_VERIFY_FAILED; a received alert is its alert reason; other handshake failures
 * keep their name where BoringSSL has it. Undefined when the error is not a TLS error.
 */
export function boringSslReason(error: unknown): BoringSslReason | undefined {
  const e = error as NodeJS.ErrnoException & {reason?: unknown}
  if (typeof e?.code !== 'string' && typeof e?.reason !== 'string' && typeof e?.message !== 'string') return undefined
  if (typeof e.code === 'string' && VERIFY_FAILURES.has(e.code)) return reason('CERTIFICATE_VERIFY_FAILED')
  const name = openSslReason(e)
  const alert = alertNumber(e)
  if (name === undefined && alert === undefined) return undefined
  const byName = name === undefined ? undefined : reason(OPENSSL_TO_BORINGSSL[name] ?? name)
  if (byName) return byName
  const byAlert = Object.entries(ALERTS).find(([, a]) => a.alert === alert)
  if (byAlert) return {name: `${byAlert[1].boring}${byAlert[0]}`, code: packedCode(1000 + byAlert[1].alert)}
  return reason('SSL_HANDSHAKE_FAILURE')
}

/** `TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED` */
export function tlsFailureReason(r: BoringSslReason): string {
  return `TLS error: ${r.code}:SSL routines:OPENSSL_internal:${r.name}`
}

/** How an upstream attempt failed, in Envoy's words. */
export type UpstreamFailure =
  | {kind: 'tls'; reason: BoringSslReason}
  | {kind: 'connect'}
  | {kind: 'reset'}
  | {kind: 'timeout'}
  | {kind: 'unhealthy'}

export const REPLIES = {
  noRoute: {status: 404, body: ''},
  noHealthyUpstream: {status: 503, body: 'no healthy upstream'},
  timeout: {status: 504, body: 'upstream request timeout'},
  connectFailure: {status: 503, body: `${UPSTREAM_RESET}connection failure`},
  /** The backend closed the connection after the request, before answering. */
  connectionTermination: {status: 503, body: `${UPSTREAM_RESET}connection termination`},
} as const satisfies Record<string, LocalReply>

export function tlsFailureReply(r: BoringSslReason): LocalReply {
  return {status: 503, body: `${UPSTREAM_RESET}connection failure, transport failure reason: ${tlsFailureReason(r)}`}
}

/** The seed's documented reply ("Runtime Traffic Errors": expired or invalid certificates). */
export const CERTIFICATE_VERIFY_FAILED_REPLY: LocalReply = tlsFailureReply(reason('CERTIFICATE_VERIFY_FAILED')!)

export function failureReply(failure: UpstreamFailure): LocalReply {
  switch (failure.kind) {
    case 'tls':
      return tlsFailureReply(failure.reason)
    case 'connect':
      return REPLIES.connectFailure
    case 'reset':
      return REPLIES.connectionTermination
    case 'timeout':
      return REPLIES.timeout
    case 'unhealthy':
      return REPLIES.noHealthyUpstream
  }
}

/** Classifies an error of an upstream request: a TLS failure, a refused/failed connect, or a reset. */
export function classifyUpstreamError(error: unknown, connected: boolean): UpstreamFailure {
  const tls = boringSslReason(error)
  if (tls) return {kind: 'tls', reason: tls}
  return connected ? {kind: 'reset'} : {kind: 'connect'}
}
