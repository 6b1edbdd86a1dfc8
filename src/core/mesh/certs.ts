import * as crypto from 'node:crypto'

import {
  type Certificate,
  checkDays,
  createSelfSignedCertificate,
  issueCertificate,
  type Issuer,
  parseCertificate,
} from '../ca/certificates.js'
import {loadIssuerFromFiles} from '../ca/issuer.js'
import {generateKey, isEncryptedPrivateKey, readInputFile} from '../ca/keys.js'
import type {SubjectAltName} from '../ca/subject.js'

/**
 * Consul's TLS material as `consul tls ca create` and `consul tls cert create` make it:
 * ECDSA P-256 keys (SEC1 PEM, "EC PRIVATE KEY"), a CA valid five years, agent certificates
 * valid 365 days with serverAuth and clientAuth, and Consul's file names.
 */
export const CA_CERT_FILE = 'consul-agent-ca.pem'
export const CA_KEY_FILE = 'consul-agent-ca-key.pem'
export const CA_DAYS = 1825
export const CERT_DAYS = 365

export interface ConsulCa {
  issuer: Issuer
  certPem: string
  /** The key file's bytes: as generated, or as given with --ca-key (never re-encoded). */
  keyPem: string
  generated: boolean
  /** `sha256:` and the hex SHA-256 of the certificate, to tell CAs apart across runs. */
  fingerprint: string
  /** The given key is password-protected (apigee-mtls setup cannot read it as is). */
  keyEncrypted: boolean
}

export interface AgentCertificate {
  /** `dc-1-server-consul-0` (+ `.pem` / `-key.pem`). */
  base: string
  certPem: string
  keyPem: string
}

export const fingerprintOf = (cert: Certificate) => `sha256:${crypto.createHash('sha256').update(cert.der).digest('hex')}`

const sec1 = (key: crypto.KeyObject) => key.export({type: 'sec1', format: 'pem'}) as string

/** A new Consul CA, like `consul tls ca create`: `CN=Consul Agent CA <serial>`. */
export async function createConsulCa(days = CA_DAYS): Promise<ConsulCa> {
  const key = generateKey('ec-p256')
  const serial = crypto.randomBytes(8)
  serial[0] &= 0x7f
  serial[0] |= 0x01
  const certPem = await createSelfSignedCertificate(
    {
      subject: [{type: 'CN', value: `Consul Agent CA ${BigInt(`0x${serial.toString('hex')}`)}`}],
      publicKey: key,
      profile: {kind: 'ca'},
      days,
      serial: serial.toString('hex'),
    },
    key,
  )
  const certificate = await parseCertificate(certPem, CA_CERT_FILE)
  return {
    issuer: {certificate, privateKey: key},
    certPem,
    keyPem: sec1(key),
    generated: true,
    fingerprint: fingerprintOf(certificate),
    keyEncrypted: false,
  }
}

/** An existing CA from --ca-cert and --ca-key, checked to be a usable CA whose key matches. */
export async function loadConsulCa(certFile: string, keyFile: string, askPassword?: (file: string) => Promise<string>): Promise<ConsulCa> {
  const issuer = await loadIssuerFromFiles(certFile, {keyFile, askPassword, flag: 'ca-key'}, undefined, 'ca-cert')
  const keyPem = readInputFile(keyFile, 'key', 'ca-key').toString('utf8')
  return {
    issuer: {certificate: issuer.certificate, privateKey: issuer.privateKey},
    certPem: issuer.certificate.pem,
    keyPem,
    generated: false,
    fingerprint: fingerprintOf(issuer.certificate),
    keyEncrypted: isEncryptedPrivateKey(keyPem),
  }
}

export type AgentRole = 'server' | 'client'

/** Consul's SANs: `server.<dc>.consul` (or `client.`), `localhost`, `127.0.0.1`. */
export function agentSans(role: AgentRole, datacenter: string): SubjectAltName[] {
  return [
    {type: 'DNS', value: `${role}.${datacenter}.consul`},
    {type: 'DNS', value: 'localhost'},
    {type: 'IP', value: '127.0.0.1'},
  ]
}

/** One agent certificate: `<dc>-server-consul-<n>` or `<dc>-client-consul-<n>`. */
export async function issueAgentCertificate(
  ca: ConsulCa,
  role: AgentRole,
  datacenter: string,
  n: number,
  days = CERT_DAYS,
): Promise<AgentCertificate> {
  const key = generateKey('ec-p256')
  const certPem = await issueCertificate(
    {
      subject: [{type: 'CN', value: `${role}.${datacenter}.consul`}],
      publicKey: key,
      sans: agentSans(role, datacenter),
      profile: {kind: 'leaf', usage: 'both'},
      days: checkDays(days),
    },
    ca.issuer,
  )
  return {base: `${datacenter}-${role}-consul-${n}`, certPem, keyPem: sec1(key)}
}
