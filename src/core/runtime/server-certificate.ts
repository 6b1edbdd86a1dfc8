import * as crypto from 'node:crypto'
import * as path from 'node:path'

import {invalidArgument} from '../errors.js'
import {readInput} from '../input.js'

/**
 * The runtime's own certificate for HTTPS (`--tls-cert NAME`): NAME.pem and NAME.key as
 * `mtlsctl certs create NAME` writes them (NAME may carry a folder: `certs/myorg-dev`).
 */
export interface ServerCertificate {
  cert: Buffer
  key: Buffer
  /** The names a client may call it by (its DNS SANs, else its CN). */
  hostnames: string[]
  certFile: string
}

export function serverCertificate(name: string): ServerCertificate {
  const base = name.replace(/\.(pem|key)$/, '')
  const certFile = path.resolve(`${base}.pem`)
  const keyFile = path.resolve(`${base}.key`)
  const cert = readInput(certFile, {what: 'certificate', kind: 'pem', flag: 'tls-cert'})
  const key = readInput(keyFile, {what: 'private key', kind: 'pem', flag: 'tls-cert'})
  let x509: crypto.X509Certificate
  try {
    x509 = new crypto.X509Certificate(cert)
  } catch {
    throw invalidArgument(`${certFile} (--tls-cert) does not hold a PEM certificate.`)
  }
  let privateKey: crypto.KeyObject
  try {
    privateKey = crypto.createPrivateKey(key)
  } catch {
    throw invalidArgument(`${keyFile} (--tls-cert) does not hold an unencrypted PEM private key.`, 'The runtime cannot ask for a key password: give it a key written without --key-password-file.')
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw invalidArgument(`The private key in ${keyFile} does not match the certificate in ${certFile} (--tls-cert).`)
  }
  const dns = (x509.subjectAltName ?? '').split(', ').filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4))
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x509.subject)?.[1]
  return {cert, key, hostnames: dns.length > 0 ? dns : cn ? [cn] : [], certFile}
}
