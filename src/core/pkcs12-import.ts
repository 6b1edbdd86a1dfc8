import type forgeTypes from 'node-forge'

import {invalidArgument} from './errors.js'

/**
 * Opens a PKCS#12 file (Apigee's `pkcs12` alias format) with node-forge: the certificates
 * (leaf first) and the private key, as PEM. A wrong password or a damaged file is
 * INVALID_ARGUMENT naming the file.
 */
export async function readPkcs12(data: Buffer, password: string, file: string): Promise<{certs: string[]; key: string}> {
  const forge = (await import('node-forge')).default
  let p12: ReturnType<typeof forge.pkcs12.pkcs12FromAsn1>
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(data.toString('binary')))
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, password)
  } catch (error) {
    const why = /MAC|password|Invalid/i.test((error as Error).message) ? 'wrong password, or not a PKCS#12 file' : 'not a valid PKCS#12 file'
    throw invalidArgument(`Cannot open the PKCS#12 file ${file}: ${why}.`)
  }
  const keyBags = [
    ...(p12.getBags({bagType: forge.pki.oids.pkcs8ShroudedKeyBag})[forge.pki.oids.pkcs8ShroudedKeyBag] ?? []),
    ...(p12.getBags({bagType: forge.pki.oids.keyBag})[forge.pki.oids.keyBag] ?? []),
  ]
  const certBags = p12.getBags({bagType: forge.pki.oids.certBag})[forge.pki.oids.certBag] ?? []
  const keyBag = keyBags[0]
  if (!keyBag?.key && !keyBag?.asn1) throw invalidArgument(`The PKCS#12 file ${file} holds no private key.`)
  if (certBags.length === 0) throw invalidArgument(`The PKCS#12 file ${file} holds no certificate.`)
  const keyInfo = keyBag.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(keyBag.key)) : keyBag.asn1
  const key = forge.pki.privateKeyInfoToPem(keyInfo)
  const certs = certBags.map((bag) => {
    if (bag.cert) return forge.pki.certificateToPem(bag.cert)
    // forge parses only RSA certificates; others come through as raw ASN.1.
    const der = forge.asn1.toDer(bag.asn1 as forgeTypes.asn1.Asn1).getBytes()
    return `-----BEGIN CERTIFICATE-----\n${forge.util.encode64(der, 64)}\n-----END CERTIFICATE-----\n`
  })
  return {certs, key}
}
