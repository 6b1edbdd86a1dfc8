/**
 * What Node's TLS errors mean, in OpenSSL's own words. Node reports an alert received from the
 * peer as `ERR_SSL_<REASON>` (OpenSSL's reason name, e.g. `ERR_SSL_TLSV1_ALERT_UNKNOWN_CA`), and a
 * failed verification of the peer's chain as OpenSSL's X509_V_ERR name without its prefix
 * (`CERT_HAS_EXPIRED`). Names are mapped, never numbers (BoringSSL's numbers differ).
 */

const ALERT_REASON = /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13)_ALERT_([A-Z_]+)$/

/** `certificate required` for `ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED`; undefined when not an alert. */
export function alertOf(code: string | undefined): string | undefined {
  const match = ALERT_REASON.exec(code ?? '')
  return match ? match[1].toLowerCase().replaceAll('_', ' ') : undefined
}

/** Alerts a server sends when it refuses the client's certificate (or the lack of one). */
const CLIENT_CERTIFICATE_ALERTS = new Set([
  'certificate required',
  'handshake failure',
  'bad certificate',
  'unsupported certificate',
  'certificate revoked',
  'certificate expired',
  'certificate unknown',
  'unknown ca',
  'access denied',
  'decrypt error',
])

export function refusesClientCertificate(alert: string): boolean {
  return CLIENT_CERTIFICATE_ALERTS.has(alert)
}

/** Errors that mean the peer answered our ClientHello with something that is not TLS. */
export function meansNotTls(code: string | undefined, message: string): boolean {
  return (
    code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' ||
    code === 'ERR_SSL_UNKNOWN_PROTOCOL' ||
    code === 'ERR_SSL_RECORD_LAYER_FAILURE' ||
    /before secure TLS connection was established/.test(message)
  )
}

/** `connection refused` for ECONNREFUSED: why a TCP connection could not be made. */
export function unreachableWords(code: string | undefined, message: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused'
    case 'EHOSTUNREACH':
      return 'no route to host'
    case 'ENETUNREACH':
      return 'network unreachable'
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found'
    case 'ETIMEDOUT':
      return 'timed out'
    default:
      return message
  }
}
