import {type Certificate, parseCertificateChain} from '../ca/certificates.js'
import {KEY_USAGE_BITS} from '../ca/extensions.js'
import {invalidArgument} from '../errors.js'
import {readInputText} from '../input.js'
import {parseYamlDocuments} from './manifests.js'

/**
 * `certs describe` of a Secret manifest (what `kubectl get secret -o yaml` or secrets.yaml
 * holds): its `tls.crt` leaf in the sections cmctl's `inspect secret` prints (Valid for,
 * Validity period, Issued By, Issued For, Certificate), without a cluster.
 */

export interface SecretInspection {
  secret: string
  dnsNames: string[]
  uris: string[]
  ipAddresses: string[]
  emailAddresses: string[]
  usages: string[]
  notBefore: string
  notAfter: string
  issuer: NameFields
  subject: NameFields
  signingAlgorithm: string
  publicKeyAlgorithm: string
  serialNumber: string
  fingerprint: string
  isCA: boolean
  /** cmctl's text. */
  inspect: string
}

interface NameFields {
  commonName: string
  organization: string[]
  organizationalUnit: string[]
  country: string[]
}

/** Whether a file is a YAML Secret manifest rather than a certificate. */
export function looksLikeSecretManifest(text: string): boolean {
  return !text.includes('-----BEGIN') && /^kind:\s*["']?Secret["']?\s*$/m.test(text)
}

export async function inspectSecretManifest(file: string, text = readInputText(file, {what: 'Secret manifest', kind: 'document'})): Promise<SecretInspection[]> {
  const docs = await parseYamlDocuments(text, file)
  const out: SecretInspection[] = []
  for (const [i, doc] of docs.entries()) {
    const secret = doc as {kind?: string; metadata?: {name?: string; namespace?: string}; data?: Record<string, string>; stringData?: Record<string, string>}
    if (secret?.kind !== 'Secret') continue
    const at = `${file} (document ${i + 1})`
    const tls = secret.stringData?.['tls.crt'] ?? (secret.data?.['tls.crt'] !== undefined ? Buffer.from(String(secret.data['tls.crt']), 'base64').toString('latin1') : undefined)
    if (tls === undefined) throw invalidArgument(`${at}: Secret ${secret.metadata?.name ?? ''} has no tls.crt.`)
    const [leaf] = await parseCertificateChain(tls, `${at} tls.crt`)
    out.push(inspect(`${secret.metadata?.namespace ?? 'default'}/${secret.metadata?.name ?? ''}`, leaf))
  }
  if (out.length === 0) throw invalidArgument(`${file} holds no Secret manifest (kind: Secret).`)
  return out
}

const USAGE_OF_BIT: Record<string, string> = {
  digitalSignature: 'digital signature',
  nonRepudiation: 'content commitment',
  keyEncipherment: 'key encipherment',
  dataEncipherment: 'data encipherment',
  keyAgreement: 'key agreement',
  keyCertSign: 'cert sign',
  cRLSign: 'crl sign',
  encipherOnly: 'encipher only',
  decipherOnly: 'decipher only',
}
const USAGE_OF_EKU: Record<string, string> = {
  anyExtendedKeyUsage: 'any',
  serverAuth: 'server auth',
  clientAuth: 'client auth',
  codeSigning: 'code signing',
  emailProtection: 'email protection',
  ipsecEndSystem: 'ipsec end system',
  ipsecTunnel: 'ipsec tunnel',
  ipsecUser: 'ipsec user',
  timeStamping: 'timestamping',
  OCSPSigning: 'ocsp signing',
  microsoftSGC: 'microsoft sgc',
  netscapeSGC: 'netscape sgc',
}
// Go's x509.SignatureAlgorithm.String().
const SIGNATURE_NAMES: Record<string, string> = {
  '1.2.840.113549.1.1.11': 'SHA256-RSA',
  '1.2.840.113549.1.1.12': 'SHA384-RSA',
  '1.2.840.113549.1.1.13': 'SHA512-RSA',
  '1.2.840.113549.1.1.5': 'SHA1-RSA',
  '1.2.840.10045.4.3.2': 'ECDSA-SHA256',
  '1.2.840.10045.4.3.3': 'ECDSA-SHA384',
  '1.2.840.10045.4.3.4': 'ECDSA-SHA512',
  '1.3.101.112': 'Ed25519',
}

function inspect(secret: string, cert: Certificate): SecretInspection {
  const sans = (type: string) => cert.sans.filter((s) => s.type === type).map((s) => s.value)
  const names = (dn: Certificate['subject']): NameFields => ({
    commonName: dn.filter((a) => a.type === 'CN').at(-1)?.value ?? '',
    organization: dn.filter((a) => a.type === 'O').map((a) => a.value),
    organizationalUnit: dn.filter((a) => a.type === 'OU').map((a) => a.value),
    country: dn.filter((a) => a.type === 'C').map((a) => a.value),
  })
  const usages = [
    ...KEY_USAGE_BITS.filter((b) => cert.keyUsage?.includes(b)).map((b) => USAGE_OF_BIT[b]),
    ...(cert.extKeyUsage ?? []).map((e) => USAGE_OF_EKU[e] ?? 'unknown'),
  ]
  const keyType = cert.publicKey.asymmetricKeyType
  const result: Omit<SecretInspection, 'inspect'> = {
    secret,
    dnsNames: sans('DNS'),
    uris: sans('URI'),
    ipAddresses: sans('IP'),
    emailAddresses: sans('EMAIL'),
    usages,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    issuer: names(cert.issuer),
    subject: names(cert.subject),
    signingAlgorithm: SIGNATURE_NAMES[cert.signatureOid] ?? cert.signatureOid,
    publicKeyAlgorithm: keyType === 'rsa' ? 'RSA' : keyType === 'ec' ? 'ECDSA' : keyType === 'ed25519' ? 'Ed25519' : String(keyType),
    serialNumber: BigInt(`0x${cert.serialNumber.toString('hex') || '0'}`).toString(10),
    fingerprint: cert.x509.fingerprint256,
    isCA: cert.basicConstraints?.ca === true,
  }
  return {...result, inspect: render(result)}
}

// cmctl's printSlice, printSliceOrOne, printOrNone, printKeyUsage.
const slice = (list: string[]) => (list.length === 0 ? '<none>' : `\n\t\t- ${list.join('\n\t\t- ').trim()}`)
const sliceOrOne = (list: string[]) => (list.length === 1 ? list[0] : slice(list))
const orNone = (s: string) => s || '<none>'
const usageList = (list: string[]) => (list.length === 0 ? ' <none>' : `\n\t\t- ${list.join('\n\t\t- ').trim()}`)
// Go's time.RFC1123 for a UTC time: `Thu, 16 Mar 2023 10:16:27 UTC`.
const rfc1123 = (iso: string) => new Date(iso).toUTCString().replace(/GMT$/, 'UTC')

function render(r: Omit<SecretInspection, 'inspect'>): string {
  const name = (title: string, n: NameFields) =>
    `${title}:\n\tCommon Name:\t${orNone(n.commonName)}\n\tOrganization:\t${sliceOrOne(n.organization)}\n\tOrganizationalUnit:\t${sliceOrOne(n.organizationalUnit)}\n\tCountry:\t${sliceOrOne(n.country)}`
  return [
    `Valid for:\n\tDNS Names: ${slice(r.dnsNames)}\n\tURIs: ${slice(r.uris)}\n\tIP Addresses: ${slice(r.ipAddresses)}\n\tEmail Addresses: ${slice(r.emailAddresses)}\n\tUsages: ${usageList(r.usages)}`,
    `Validity period:\n\tNot Before: ${rfc1123(r.notBefore)}\n\tNot After: ${rfc1123(r.notAfter)}`,
    name('Issued By', r.issuer),
    name('Issued For', r.subject),
    `Certificate:\n\tSigning Algorithm:\t${r.signingAlgorithm}\n\tPublic Key Algorithm: \t${r.publicKeyAlgorithm}\n\tSerial Number:\t${r.serialNumber}\n\tFingerprints: \t${r.fingerprint}\n\tIs a CA certificate: ${r.isCA}\n\tCRL:\t<none>\n\tOCSP:\t<none>`,
  ].join('\n\n')
}
