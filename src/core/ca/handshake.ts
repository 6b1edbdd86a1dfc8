import * as crypto from 'node:crypto'
import type * as tls from 'node:tls'

import {setTimeout as delay} from 'node:timers/promises'

import {failedPrecondition} from '../errors.js'

/**
 * A real mutual-TLS handshake on 127.0.0.1 with Node's tls: a server that requires a client
 * certificate signed by the CA, a client that verifies the server's, and a request/answer
 * round trip. With TLS 1.3 the client's handshake completes before the server has judged the
 * client certificate, so success is only declared once the server has answered.
 */
export interface TlsIdentity {
  /** PEM: the certificate, then its chain. */
  certificate: string
  privateKey: crypto.KeyObject
}

export interface ServerOutcome {
  ok: boolean
  protocol?: string
  cipher?: string
  /** The verified client certificate's subject. */
  clientSubject?: string
  /** Why the server refused the connection. */
  error?: string
}

export interface HandshakeServer {
  host: string
  port: number
  /** The verdict on the first connection (or client error) the server sees. */
  firstOutcome: Promise<ServerOutcome>
  close(): Promise<void>
}

export interface ServerOptions {
  /** PEM of the CA certificate(s) client certificates must chain to. */
  ca: string
  identity: TlsIdentity
  host?: string
  port?: number
}

const REPLY = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n'

/** openssl's words for the verify errors Node reports by code. */
const VERIFY_ERRORS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  UNABLE_TO_GET_ISSUER_CERT: 'unable to get issuer certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in certificate chain',
  CERT_SIGNATURE_FAILURE: 'certificate signature failure',
  CERT_REJECTED: 'certificate rejected',
  CERT_UNTRUSTED: 'certificate not trusted',
  INVALID_CA: 'invalid CA certificate',
  INVALID_PURPOSE: 'unsupported certificate purpose',
  PATH_LENGTH_EXCEEDED: 'path length constraint exceeded',
  HOSTNAME_MISMATCH: 'hostname mismatch',
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname mismatch',
}

/** TLS alerts a peer sends when it refuses our certificate (Node error codes). */
const ALERTS: Record<string, string> = {
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'certificate required',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: 'certificate has expired',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'unknown ca',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'bad certificate',
  ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE: 'unsupported certificate',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED: 'certificate revoked',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: 'certificate unknown',
  ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR: 'decrypt error',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'handshake failure',
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: 'protocol version',
}

function verifyReason(code: string | Error | null | undefined): string {
  const text = typeof code === 'string' ? code : (code?.message ?? 'unknown reason')
  const key = typeof code === 'string' ? code : ((code as {code?: string} | undefined)?.code ?? '')
  return VERIFY_ERRORS[key] ?? text
}

/** `CN=x, O=y` from Node's newline-separated subject (DER order). */
function subjectOf(cert: crypto.X509Certificate | undefined): string | undefined {
  return cert?.subject.split('\n').filter(Boolean).reverse().join(', ')
}

function keyPem(key: crypto.KeyObject): string {
  return key.export({type: 'pkcs8', format: 'pem'}) as string
}

/**
 * A server that asks for a client certificate and refuses the connection unless it verifies
 * against the CA: the check `rejectUnauthorized` makes, done explicitly so that the refusal's
 * reason (expired, unknown CA, no certificate) can be named.
 */
export async function startHandshakeServer(options: ServerOptions): Promise<HandshakeServer> {
  const {createServer} = await import('node:tls')
  let settle: (outcome: ServerOutcome) => void = () => undefined
  const firstOutcome = new Promise<ServerOutcome>((resolve) => {
    settle = resolve
  })
  const server = createServer({
    key: keyPem(options.identity.privateKey),
    cert: options.identity.certificate,
    ca: options.ca,
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
  })
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    socket.on('error', () => undefined)
    const peer = socket.getPeerX509Certificate()
    const base = {protocol: socket.getProtocol() ?? undefined, cipher: socket.getCipher()?.standardName}
    if (!peer) {
      settle({...base, ok: false, error: 'certificate required: the client sent no certificate'})
      socket.destroy()
      return
    }
    if (!socket.authorized) {
      settle({...base, ok: false, clientSubject: subjectOf(peer), error: `CERTIFICATE_VERIFY_FAILED: the server rejected the client certificate: ${verifyReason(socket.authorizationError)}`})
      socket.destroy()
      return
    }
    settle({...base, ok: true, clientSubject: subjectOf(peer)})
    socket.once('data', () => socket.end(REPLY))
  })
  server.on('tlsClientError', (error: Error & {code?: string}) => {
    settle({ok: false, error: ALERTS[error.code ?? ''] ?? error.message})
  })
  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    host,
    port,
    firstOutcome,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

export interface ClientOptions {
  host?: string
  port: number
  ca: string
  /** No identity: connect without a client certificate. */
  identity?: TlsIdentity
  /** Checked against the server certificate's SANs; no host name check without it. */
  hostname?: string
  timeoutMs?: number
}

export interface ClientOutcome {
  ok: boolean
  protocol?: string
  cipher?: string
  serverSubject?: string
  /** The first line of the server's answer. */
  reply?: string
  /** Which side refused, and why. */
  error?: string
  /** True when the client itself refused the server's certificate. */
  rejectedServer?: boolean
}

/** Connects, verifies the server, sends a request and waits for the answer. */
export async function connectHandshakeClient(options: ClientOptions): Promise<ClientOutcome> {
  const tlsModule = await import('node:tls')
  const {isIP} = await import('node:net')
  const hostname = options.hostname
  return new Promise<ClientOutcome>((resolve) => {
    let outcome: ClientOutcome = {ok: false}
    let done = false
    const finish = (result: Partial<ClientOutcome>) => {
      if (done) return
      done = true
      resolve({...outcome, ...result})
      socket.destroy()
    }
    const socket = tlsModule.connect({
      host: options.host ?? '127.0.0.1',
      port: options.port,
      ca: options.ca,
      ...(options.identity ? {cert: options.identity.certificate, key: keyPem(options.identity.privateKey)} : {}),
      ...(hostname && isIP(hostname) === 0 ? {servername: hostname} : {}),
      checkServerIdentity: (_host, cert) => (hostname ? tlsModule.checkServerIdentity(hostname, cert) : undefined),
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    })
    socket.setTimeout(options.timeoutMs ?? 10_000, () => finish({error: 'timed out waiting for the server'}))
    socket.once('secureConnect', () => {
      outcome = {
        ok: false,
        protocol: socket.getProtocol() ?? undefined,
        cipher: socket.getCipher()?.standardName,
        serverSubject: subjectOf(socket.getPeerX509Certificate()),
      }
      socket.write(`GET / HTTP/1.0\r\nHost: ${hostname ?? 'localhost'}\r\n\r\n`)
    })
    socket.once('data', (chunk: Buffer) => finish({ok: true, reply: chunk.toString('latin1').split('\r\n')[0]}))
    socket.once('error', (error: Error & {code?: string}) => {
      const code = error.code ?? ''
      if (code in ALERTS) {
        const alert = ALERTS[code]
        finish({
          error:
            alert === 'certificate required'
              ? 'certificate required: the server requires a client certificate and none was accepted'
              : `CERTIFICATE_VERIFY_FAILED: the server rejected the client certificate: ${alert} (TLS alert)`,
        })
      } else if (code in VERIFY_ERRORS || /certificate|self.signed|altname/i.test(error.message)) {
        finish({rejectedServer: true, error: `CERTIFICATE_VERIFY_FAILED: the client rejected the server certificate: ${code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? `hostname mismatch (${error.message})` : verifyReason(error)}`})
      } else {
        finish({error: error.message})
      }
    })
    socket.once('close', () => finish({error: 'the server closed the connection without answering'}))
  })
}

export interface HandshakeOptions {
  ca: string
  server: TlsIdentity
  /** Without one, the client offers no certificate (and the server must refuse). */
  client?: TlsIdentity
  hostname?: string
  timeoutMs?: number
}

export interface HandshakeResult {
  address: string
  protocol: string
  cipher: string
  hostname: string | null
  server: {subject: string}
  client: {subject: string}
}

/** Both sides in this process: succeeds only if each verified the other and data flowed. */
export async function runHandshake(options: HandshakeOptions): Promise<HandshakeResult> {
  const server = await startHandshakeServer({ca: options.ca, identity: options.server})
  try {
    const client = await connectHandshakeClient({
      port: server.port,
      ca: options.ca,
      identity: options.client,
      hostname: options.hostname,
      timeoutMs: options.timeoutMs,
    })
    const serverSide = client.rejectedServer
      ? undefined
      : await Promise.race([server.firstOutcome, delay(2_000, undefined, {ref: false})])
    let reason: string | undefined
    if (client.rejectedServer) reason = client.error
    else if (serverSide && !serverSide.ok) reason = serverSide.error
    else if (!client.ok) reason = client.error
    if (reason !== undefined || !serverSide?.ok) {
      throw failedPrecondition(`TLS handshake failed: ${reason ?? 'the server did not accept the connection'}.`)
    }
    return {
      address: `${server.host}:${server.port}`,
      protocol: client.protocol ?? serverSide.protocol ?? 'unknown',
      cipher: client.cipher ?? serverSide.cipher ?? 'unknown',
      hostname: options.hostname ?? null,
      server: {subject: client.serverSubject ?? ''},
      client: {subject: serverSide.clientSubject ?? ''},
    }
  } finally {
    await server.close()
  }
}
