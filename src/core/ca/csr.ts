import * as crypto from 'node:crypto'

import {invalidArgument} from '../errors.js'
import {
  bits,
  bytesOf,
  children,
  decode,
  encode,
  loadAsn1,
  type Node,
  nullNode,
  OID,
  octets,
  oid,
  oidOf,
  raw,
  seq,
  set,
  smallInt,
  bitStringBytes,
} from './asn1.js'
import {pemBlocks, signedPart, toPem} from './certificates.js'
import {hashOfSignatureOid, readInputFile, sign, signatureAlgorithm} from './keys.js'
import {decodeName, decodeSans, type DistinguishedName, encodeName, encodeSans, type SubjectAltName} from './subject.js'

/** A PKCS#10 certificate signing request, parsed and signature-checked. */
export interface CertificateRequest {
  pem: string
  subject: DistinguishedName
  /** The subject's exact DER, copied into the certificate. */
  subjectDer: Buffer
  publicKey: crypto.KeyObject
  /** Every SAN the request asks for (its extensionRequest attribute). */
  sans: SubjectAltName[]
  signatureOid: string
}

/** A CSR signed by its own key, with the SANs in an extensionRequest attribute (PEM). */
export async function createCsr(privateKey: crypto.KeyObject, subject: DistinguishedName, sans: SubjectAltName[] = []): Promise<string> {
  const asn1 = await loadAsn1()
  const algorithm = signatureAlgorithm(privateKey)
  const algorithmId = seq(asn1, [oid(asn1, algorithm.oid), ...(algorithm.nullParams ? [nullNode(asn1)] : [])])
  const attributes: Node[] = []
  if (sans.length > 0) {
    const extensions = seq(asn1, [seq(asn1, [oid(asn1, OID.subjectAltName), octets(asn1, encode(asn1, encodeSans(asn1, sans)))])])
    attributes.push(seq(asn1, [oid(asn1, OID.extensionRequest), set(asn1, [extensions])]))
  }
  const info = seq(asn1, [
    smallInt(asn1, 0),
    encodeName(asn1, subject),
    raw(asn1, crypto.createPublicKey(privateKey).export({type: 'spki', format: 'der'})),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, attributes),
  ])
  const signature = sign(encode(asn1, info), privateKey)
  return toPem('CERTIFICATE REQUEST', encode(asn1, seq(asn1, [info, algorithmId, bits(asn1, signature)])))
}

/**
 * Parses a CSR and checks its signature over the bytes as received: a CSR whose signature
 * does not verify is refused (INVALID_ARGUMENT), as `openssl req -verify` would.
 */
export async function parseCsr(input: string | Buffer, file = 'the CSR'): Promise<CertificateRequest> {
  const text = input.toString()
  const blocks = [...pemBlocks(text, 'CERTIFICATE REQUEST', file), ...pemBlocks(text, 'NEW CERTIFICATE REQUEST', file)]
  if (blocks.length === 0) throw invalidArgument(`${file} holds no PEM certificate request ("-----BEGIN CERTIFICATE REQUEST-----").`)
  const der = blocks[0]
  const asn1 = await loadAsn1()
  let request: Omit<CertificateRequest, 'pem'>
  let signature: Buffer
  try {
    const [info, sigAlg, sigBits] = children(decode(asn1, der))
    const [, subjectNode, spkiNode, attributesNode] = children(info)
    const publicKey = crypto.createPublicKey({key: encode(asn1, spkiNode), format: 'der', type: 'spki'})
    request = {
      subject: decodeName(asn1, subjectNode),
      subjectDer: encode(asn1, subjectNode),
      publicKey,
      sans: requestedSans(asn1, attributesNode),
      signatureOid: oidOf(asn1, children(sigAlg)[0]),
    }
    signature = bitStringBytes(sigBits)
  } catch {
    throw invalidArgument(`${file} is not a valid certificate request (its structure could not be read).`)
  }
  const hash = hashOfSignatureOid(request.signatureOid)
  if (hash === undefined) {
    throw invalidArgument(`${file} is signed with an unsupported algorithm (${request.signatureOid}).`)
  }
  let ok = false
  try {
    ok = crypto.verify(hash, signedPart(der), request.publicKey, signature)
  } catch {
    ok = false
  }
  if (!ok) {
    throw invalidArgument(
      `The signature of the certificate request ${file} does not verify: it was altered or not signed by its own key.`,
      'Make the CSR again with the private key it is for.',
    )
  }
  return {pem: toPem('CERTIFICATE REQUEST', der), ...request}
}

export async function readCsr(file: string, flag?: string): Promise<CertificateRequest> {
  return parseCsr(readInputFile(file, 'certificate request', flag), file)
}

function requestedSans(asn1: Awaited<ReturnType<typeof loadAsn1>>, attributes: Node | undefined): SubjectAltName[] {
  const sans: SubjectAltName[] = []
  for (const attribute of attributes ? children(attributes) : []) {
    const [type, values] = children(attribute)
    if (oidOf(asn1, type) !== OID.extensionRequest) continue
    for (const extensions of children(values)) {
      for (const extension of children(extensions)) {
        const parts = children(extension)
        if (oidOf(asn1, parts[0]) === OID.subjectAltName) {
          sans.push(...decodeSans(asn1, decode(asn1, bytesOf(parts[parts.length - 1]))))
        }
      }
    }
  }
  return sans
}
