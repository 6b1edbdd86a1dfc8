import type forgeTypes from 'node-forge'

import {derIterationCounts} from './ca/keys.js'
import {invalidArgument} from './errors.js'

/**
 * Opens a PKCS#12 file (Apigee's `pkcs12` alias format) with node-forge: the certificates
 * (leaf first) and the private key, as PEM. A wrong password or a damaged file is
 * INVALID_ARGUMENT naming the file.
 */
/**
 * The most MAC iterations a PKCS#12 file may ask for. Tools write 1 to 10,000 (openssl 2048,
 * Java 10,000); the count is the file's to choose and forge runs it in JavaScript, so a crafted
 * file asking for 2^31 would keep the process busy for hours.
 */
export const MAX_PKCS12_MAC_ITERATIONS = 1_000_000

/** The MAC iteration count a PFX asks for (PFX.macData.iterations), when it has one. */
function macIterations(asn1: forgeTypes.asn1.Asn1): number | undefined {
  const macData = Array.isArray(asn1.value) ? asn1.value[2] : undefined
  const iterations = macData && Array.isArray(macData.value) ? macData.value[2] : undefined
  if (!iterations || typeof iterations.value !== 'string') return undefined
  const bytes = Buffer.from(iterations.value, 'binary')
  return bytes.length > 6 ? Number.MAX_SAFE_INTEGER : bytes.reduce((n, b) => n * 256 + b, 0)
}

export async function readPkcs12(data: Buffer, password: string, file: string): Promise<{certs: string[]; key: string}> {
  const forge = (await import('node-forge')).default
  let p12: ReturnType<typeof forge.pkcs12.pkcs12FromAsn1>
  let asn1: forgeTypes.asn1.Asn1
  try {
    asn1 = forge.asn1.fromDer(forge.util.createBuffer(data.toString('binary')))
  } catch {
    throw invalidArgument(`Cannot open the PKCS#12 file ${file}: not a valid PKCS#12 file.`)
  }
  const iterations = macIterations(asn1)
  if (iterations !== undefined && iterations > MAX_PKCS12_MAC_ITERATIONS) {
    throw invalidArgument(
      `The PKCS#12 file ${file} asks for ${iterations > 1e12 ? 'more than a trillion' : iterations.toLocaleString('en-US')} MAC iterations: at most ${MAX_PKCS12_MAC_ITERATIONS.toLocaleString('en-US')} are accepted.`,
      'Export it again with the default iteration count (openssl pkcs12 -export, keytool).',
    )
  }
  // The encrypted bags carry PBKDF2/PBE counts of their own, which forge also runs in JavaScript.
  const bagIterations = Math.max(0, ...derIterationCounts(data, {nested: true}))
  if (bagIterations > MAX_PKCS12_MAC_ITERATIONS) {
    throw invalidArgument(
      `The PKCS#12 file ${file} asks for ${bagIterations > 1e12 ? 'more than a trillion' : bagIterations.toLocaleString('en-US')} key-derivation iterations: at most ${MAX_PKCS12_MAC_ITERATIONS.toLocaleString('en-US')} are accepted.`,
      'Export it again with the default iteration count (openssl pkcs12 -export, keytool).',
    )
  }
  try {
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
