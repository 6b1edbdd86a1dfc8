import * as crypto from 'node:crypto'
import * as path from 'node:path'

import {invalidArgument} from '../errors.js'
import type {Store} from '../store/index.js'
import {
  type Asn1,
  encode,
  explicit,
  loadAsn1,
  loadForge,
  type Node,
  nullNode,
  OID,
  octets,
  oid,
  raw,
  seq,
  set,
  smallInt,
} from './asn1.js'
import {type Certificate, isSelfSigned, readCertificateChain} from './certificates.js'
import {checkOutputs, writeOutputs} from './files.js'
import {isEncryptedPrivateKey, keysMatch, parsePrivateKey, readInputFile} from './keys.js'
import {caCertificate, listCas} from './registry.js'
import {formatName} from './subject.js'

/**
 * PKCS#12 for Apigee's `pkcs12` alias format: the key in a pkcs8ShroudedKeyBag (PBES2,
 * PBKDF2-SHA256, AES-256-CBC, from Node's crypto, so RSA and EC alike), the chain in cert
 * bags, and an HMAC-SHA256 integrity MAC keyed by the PKCS#12 KDF (node-forge's).
 * A password is always required: there is no default password.
 */
export interface Pkcs12Options {
  privateKey: crypto.KeyObject
  /** The key's certificate first, then its chain. */
  chain: Certificate[]
  password: string
  friendlyName?: string
  iterations?: number
}

const ITERATIONS = 2048

export async function createPkcs12(options: Pkcs12Options): Promise<Buffer> {
  if (!options.password) throw invalidArgument('A PKCS#12 file needs a password (there is no default password).')
  if (options.chain.length === 0) throw invalidArgument('A PKCS#12 file needs the key\'s certificate.')
  if (!keysMatch(options.privateKey, options.chain[0].publicKey)) {
    throw invalidArgument('The private key does not match the certificate (key values mismatch).')
  }
  const asn1 = await loadAsn1()
  const iterations = options.iterations ?? ITERATIONS
  const localKeyId = crypto.createHash('sha1').update(options.chain[0].der).digest()
  const leafAttributes = bagAttributes(asn1, localKeyId, options.friendlyName)

  const certBags = options.chain.map((cert, i) =>
    seq(asn1, [
      oid(asn1, OID.certBag),
      explicit(asn1, 0, seq(asn1, [oid(asn1, OID.x509Certificate), explicit(asn1, 0, octets(asn1, cert.der))])),
      ...(i === 0 ? [leafAttributes] : []),
    ]),
  )
  const shrouded = options.privateKey.export({type: 'pkcs8', format: 'der', cipher: 'aes-256-cbc', passphrase: options.password})
  const keyBag = seq(asn1, [oid(asn1, OID.pkcs8ShroudedKeyBag), explicit(asn1, 0, raw(asn1, shrouded)), bagAttributes(asn1, localKeyId, options.friendlyName)])

  const authSafe = encode(asn1, seq(asn1, [dataContentInfo(asn1, encode(asn1, seq(asn1, certBags))), dataContentInfo(asn1, encode(asn1, seq(asn1, [keyBag])))]))
  const salt = crypto.randomBytes(16)
  const macKey = await pkcs12MacKey(options.password, salt, iterations)
  const mac = crypto.createHmac('sha256', macKey).update(authSafe).digest()
  const macData = seq(asn1, [
    seq(asn1, [seq(asn1, [oid(asn1, OID.sha256), nullNode(asn1)]), octets(asn1, mac)]),
    octets(asn1, salt),
    smallInt(asn1, iterations),
  ])
  return encode(asn1, seq(asn1, [smallInt(asn1, 3), dataContentInfo(asn1, authSafe), macData]))
}

function dataContentInfo(asn1: Asn1, content: Buffer): Node {
  return seq(asn1, [oid(asn1, OID.data), explicit(asn1, 0, octets(asn1, content))])
}

function bagAttributes(asn1: Asn1, localKeyId: Buffer, friendlyName?: string): Node {
  const attributes = [seq(asn1, [oid(asn1, OID.localKeyId), set(asn1, [octets(asn1, localKeyId)])])]
  if (friendlyName) {
    // forge writes a BMPString from a JS string itself.
    const bmp = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BMPSTRING, false, friendlyName)
    attributes.push(seq(asn1, [oid(asn1, OID.friendlyName), set(asn1, [bmp])]))
  }
  return set(asn1, attributes)
}

/** RFC 7292 appendix B key derivation (ID 3, MAC key) with SHA-256, from node-forge. */
async function pkcs12MacKey(password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  const forge = await loadForge()
  const key = forge.pkcs12.generateKey(password, forge.util.createBuffer(salt.toString('binary')), 3, iterations, 32, forge.md.sha256.create())
  return Buffer.from(key.getBytes(), 'binary')
}

export interface ExportOptions {
  /** NAME: NAME.pem and NAME.key (a path prefix is allowed: certs/my_gateway). */
  name: string
  out: string
  password: string
  keyPassword?: string
  askPassword?: (keyFile: string) => Promise<string>
  force?: boolean
}

export interface ExportedPkcs12 {
  file: string
  friendlyName: string
  certificates: string[]
}

/**
 * `certs export`: NAME.key and NAME.pem into a PKCS#12 file, with the chain: the certificates
 * in NAME.pem, then each issuing CA found among the registered CAs.
 */
export async function exportPkcs12(store: Store, options: ExportOptions): Promise<ExportedPkcs12> {
  if (!options.password) throw invalidArgument('A PKCS#12 file needs a password (there is no default password).')
  checkOutputs([{path: options.out, data: ''}], options.force)
  const certFile = `${options.name}.pem`
  const keyFile = `${options.name}.key`
  const chain = await readCertificateChain(certFile)
  const keyPem = readInputFile(keyFile, 'key')
  let keyPassword = options.keyPassword
  if (keyPassword === undefined && isEncryptedPrivateKey(keyPem) && options.askPassword) keyPassword = await options.askPassword(keyFile)
  const privateKey = parsePrivateKey(keyPem, {file: keyFile, password: keyPassword})
  if (!keysMatch(privateKey, chain[0].publicKey)) {
    throw invalidArgument(`The key ${keyFile} does not match the certificate ${certFile} (key values mismatch).`)
  }
  await completeChain(store, chain)
  const friendlyName = path.basename(options.name)
  const p12 = await createPkcs12({privateKey, chain, password: options.password, friendlyName})
  writeOutputs([{path: options.out, data: p12, secret: true}], options.force)
  return {file: path.resolve(options.out), friendlyName, certificates: chain.map((c) => formatName(c.subject))}
}

/** Appends issuing CAs from the registry until the chain ends in a self-signed certificate. */
async function completeChain(store: Store, chain: Certificate[]): Promise<void> {
  const cas = await Promise.all((await listCas(store)).map((ca) => caCertificate(ca)))
  for (let i = 0; i < 10; i++) {
    const last = chain[chain.length - 1]
    if (isSelfSigned(last)) return
    const issuer = cas.find((ca) => last.x509.checkIssued(ca.x509) && last.x509.verify(ca.publicKey))
    if (!issuer || chain.some((c) => c.der.equals(issuer.der))) return
    chain.push(issuer)
  }
}
