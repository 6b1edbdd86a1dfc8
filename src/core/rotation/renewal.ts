import type {AliasSource} from '../alias-sources.js'
import {checkDays, MAX_DAYS, parseCertificateChain, type Usage} from '../ca/certificates.js'
import type {CaSelection} from '../ca/issuance.js'
import {checkKeyType, type KeyType} from '../ca/keys.js'
import {formatName, formatSan, formatSubjectArgument} from '../ca/subject.js'
import {invalidArgument} from '../errors.js'

/**
 * `aliases rotate --ca`: the new certificate is the old one renewed. It keeps the old leaf's
 * subject (its DER, byte for byte), SANs, key type and size and extended key usage, with a new
 * key and a new validity window as long as the old one (or --days).
 */
export interface Renewal {
  /** RFC 4514 form, for people (`CN=my-gateway`). */
  subject: string
  sans: string[]
  keyType: KeyType
  usage: Usage
  days: number
  /** The old certificate's issuer and serial, for the plan. */
  oldIssuer: string
  oldSerialNumber: string
  oldNotAfter: string
  /** What could not be kept exactly, in words. */
  notes: string[]
}

const DAY_MS = 86_400_000

/** The key type of a public key, as the local CA names them; undefined for others (RSA-1024, P-384 ...). */
function keyTypeOf(key: {asymmetricKeyType?: string; asymmetricKeyDetails?: {modulusLength?: number; namedCurve?: string}}): KeyType | undefined {
  if (key.asymmetricKeyType === 'rsa' && [2048, 3072, 4096].includes(key.asymmetricKeyDetails?.modulusLength ?? 0)) {
    return `rsa-${key.asymmetricKeyDetails?.modulusLength}` as KeyType
  }
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ec-p256'
  return undefined
}

function describeKey(key: {asymmetricKeyType?: string; asymmetricKeyDetails?: {modulusLength?: number; namedCurve?: string}}): string {
  const d = key.asymmetricKeyDetails ?? {}
  return `${(key.asymmetricKeyType ?? 'unknown').toUpperCase()}${d.modulusLength ? ` ${d.modulusLength}` : ''}${d.namedCurve ? ` ${d.namedCurve}` : ''}`
}

/**
 * What renewing the certificate (the first of the alias's chain, PEM) takes; `keyType` and
 * `days` override what the old certificate says.
 */
export interface RenewalSpec {
  renewal: Renewal
  /** The old subject: its DER (kept) and its openssl form (for messages). */
  subjectDer: Buffer
  subjectArgument: string
}

export async function renewalOf(pem: string, where: string, overrides: {keyType?: string; days?: number} = {}): Promise<RenewalSpec> {
  const [leaf] = await parseCertificateChain(pem, where)
  const notes: string[] = []
  let keyType: KeyType
  if (overrides.keyType !== undefined) {
    keyType = checkKeyType(overrides.keyType)
  } else {
    const kept = keyTypeOf(leaf.publicKey)
    if (!kept) {
      throw invalidArgument(
        `The certificate of ${where} has a ${describeKey(leaf.publicKey)} key, which the local CA does not issue.`,
        'Give --key-type rsa-2048|rsa-3072|rsa-4096|ec-p256 for the new key, or give the new certificate with --cert-file.',
      )
    }
    keyType = kept
  }
  const eku = leaf.extKeyUsage
  const client = eku?.includes('clientAuth') ?? false
  const server = eku?.includes('serverAuth') ?? false
  let usage: Usage = client && server ? 'both' : server ? 'server' : 'client'
  if (eku === undefined) {
    usage = 'both'
    notes.push('The old certificate has no extended key usage; the new one is for clientAuth and serverAuth.')
  } else if (!client && !server) {
    notes.push(`The old certificate's extended key usage (${eku.join(', ')}) has neither clientAuth nor serverAuth; the new one is for clientAuth.`)
  } else if (eku.some((u) => u !== 'clientAuth' && u !== 'serverAuth')) {
    notes.push(`Only clientAuth/serverAuth of the old certificate's extended key usage (${eku.join(', ')}) are kept.`)
  }
  const oldDays = Math.min(MAX_DAYS, Math.max(1, Math.round((leaf.notAfter.getTime() - leaf.notBefore.getTime()) / DAY_MS)))
  const days = checkDays(overrides.days ?? oldDays, overrides.days === undefined ? `validity of ${oldDays} days` : `--days ${overrides.days}`)
  return {
    subjectDer: leaf.subjectDer,
    subjectArgument: formatSubjectArgument(leaf.subject),
    renewal: {
      subject: formatName(leaf.subject),
      sans: leaf.sans.map(formatSan),
      keyType,
      usage,
      days,
      oldIssuer: formatName(leaf.issuer),
      oldSerialNumber: [...leaf.serialNumber].map((b) => b.toString(16).padStart(2, '0')).join(':'),
      oldNotAfter: leaf.notAfter.toISOString(),
      notes,
    },
  }
}

/** The `ca` alias source that issues the renewed certificate (subject kept byte for byte). */
export function renewalSource(spec: RenewalSpec, ca: CaSelection): AliasSource {
  const {renewal} = spec
  return {format: 'ca', ca, subject: spec.subjectArgument, subjectDer: spec.subjectDer, sans: renewal.sans, usage: renewal.usage, days: renewal.days, keyType: renewal.keyType}
}
