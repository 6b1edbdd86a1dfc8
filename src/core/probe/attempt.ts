import type * as crypto from 'node:crypto'
import type * as tls from 'node:tls'

import {alertOf, meansNotTls} from './tls-words.js'

/**
 * One TLS connection to a server, watched closely: did TCP connect, did the server speak TLS,
 * what did it present, did it ask for a client certificate, and what did it do once our side
 * of the handshake was done. With TLS 1.3 the client finishes its handshake before the server
 * has judged the client certificate: the server's verdict arrives afterwards, as an alert or as
 * session tickets (OpenSSL and nginx send them once the handshake is accepted), so the attempt
 * waits for one of those (or the answer to a request) before it reports.
 */
export interface AttemptOptions {
  host: string
  port: number
  /** SNI and the name checked against the certificate. */
  servername?: string
  cert?: string
  key?: crypto.KeyObject
  minVersion?: tls.SecureVersion
  maxVersion?: tls.SecureVersion
  /** Bound on connecting and on the handshake. */
  timeoutMs: number
  /** Bound on waiting for the server's verdict or answer after the handshake. */
  answerMs: number
  /** Send `GET / HTTP/1.0` after the handshake and read the status line (nginx refuses client certificates at the HTTP layer). */
  http: boolean
}

export interface Attempt {
  connected: boolean
  /** The handshake completed on our side. */
  secure: boolean
  /** The peer answered with something that is not TLS. */
  notTls: boolean
  /** Node's error, when the attempt ended on one. */
  errorCode?: string
  errorMessage?: string
  timedOut: boolean
  /** An alert the server sent (OpenSSL's words: `certificate required`). */
  alert?: string
  protocol?: string
  cipher?: string
  /** DER of each certificate the server presented, leaf first. */
  chain: Buffer[]
  /** The server sent a CertificateRequest (it named signature algorithms for our certificate). */
  certificateRequested?: boolean
  /** TLS 1.3 session tickets arrived after the handshake: the server accepted it. */
  ticket: boolean
  /** The first line of an HTTP answer, and its body's first 2 KiB. */
  httpStatus?: number
  httpBody?: string
}

function peerChain(socket: tls.TLSSocket): Buffer[] {
  const chain: Buffer[] = []
  let cert = socket.getPeerCertificate(true) as tls.DetailedPeerCertificate | undefined
  const seen = new Set<string>()
  while (cert?.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256)
    chain.push(cert.raw)
    cert = cert.issuerCertificate
  }
  return chain
}

export async function attemptTls(options: AttemptOptions): Promise<Attempt> {
  const tlsModule = await import('node:tls')
  const {isIP} = await import('node:net')
  return new Promise<Attempt>((resolve) => {
    const result: Attempt = {connected: false, secure: false, notTls: false, timedOut: false, chain: [], ticket: false}
    let answer = ''
    let done = false
    let answerTimer: NodeJS.Timeout | undefined
    const finish = () => {
      if (done) return
      done = true
      clearTimeout(connectTimer)
      clearTimeout(answerTimer)
      if (answer) {
        const status = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(answer)
        if (status) {
          result.httpStatus = Number(status[1])
          result.httpBody = answer.slice(0, 2048)
        }
      }
      socket.destroy()
      resolve(result)
    }
    const servername = options.servername ?? (isIP(options.host) === 0 ? options.host : undefined)
    const socket = tlsModule.connect({
      host: options.host,
      port: options.port,
      ...(servername && isIP(servername) === 0 ? {servername} : {}),
      // No trust anchors here: Node would complete the peer chain from them, and the report
      // shows what the server sent. The chain is verified afterwards (verify.ts).
      ca: [],
      ...(options.cert && options.key ? {cert: options.cert, key: options.key.export({type: 'pkcs8', format: 'pem'}) as string} : {}),
      minVersion: options.minVersion ?? 'TLSv1.2',
      ...(options.maxVersion ? {maxVersion: options.maxVersion} : {}),
      // Verified below, so that an untrusted server is still described.
      rejectUnauthorized: false,
    })
    const connectTimer = setTimeout(() => {
      result.timedOut = true
      if (result.connected && !result.secure) result.notTls = true
      finish()
    }, options.timeoutMs)
    const waitForAnswer = () => {
      clearTimeout(connectTimer)
      answerTimer = setTimeout(finish, options.answerMs)
    }
    socket.once('connect', () => {
      result.connected = true
    })
    socket.once('secureConnect', () => {
      result.secure = true
      result.protocol = socket.getProtocol() ?? undefined
      result.cipher = socket.getCipher()?.standardName
      result.chain = peerChain(socket)
      result.certificateRequested = socket.getSharedSigalgs().length > 0
      if (options.http) {
        socket.write(`GET / HTTP/1.0\r\nHost: ${servername ?? options.host}\r\nUser-Agent: mtlsctl-probe\r\nConnection: close\r\n\r\n`)
      }
      // TLS 1.2: the server judged our certificate before its Finished; only an answer is awaited.
      if (result.protocol !== 'TLSv1.3' && !options.http) finish()
      else waitForAnswer()
    })
    socket.on('session', () => {
      if (!result.secure || result.protocol !== 'TLSv1.3') return
      result.ticket = true
      if (!options.http) finish()
    })
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1')
      if (answer.length >= 2048) finish()
    })
    socket.once('end', finish)
    socket.once('close', finish)
    socket.once('error', (error: Error & {code?: string}) => {
      result.errorCode = error.code
      result.errorMessage = error.message
      result.alert = alertOf(error.code)
      if (result.chain.length === 0) {
        // A TLS 1.2 server that refuses us has already sent its chain: still worth describing.
        try {
          result.chain = peerChain(socket)
        } catch {
          // none to read
        }
      }
      if (result.connected && !result.secure && !result.alert && meansNotTls(error.code, error.message)) result.notTls = true
      finish()
    })
  })
}
