import * as fs from 'node:fs'
import * as path from 'node:path'
import forge from 'node-forge'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ALIAS_CHAIN, readAliasSource} from '../../../src/core/alias-sources.js'
import {MAX_CHAIN_CERTIFICATES, parseCertificateChain, readCertificateChain} from '../../../src/core/ca/certificates.js'
import {derIterationCounts, encodePrivateKey, parsePrivateKey, readInputFile, readPrivateKey} from '../../../src/core/ca/keys.js'
import {createPkcs12} from '../../../src/core/ca/pkcs12.js'
import {readPkcs12} from '../../../src/core/pkcs12-import.js'
import {openStore} from '../../../src/core/store/index.js'
import {rmTemp, tempDir} from '../../helpers/cli.js'
import {makeCa, makeCert} from '../../helpers/ca.js'
import {refusal} from '../../helpers/errors.js'
import {openssl} from '../../helpers/openssl.js'

/** The engine's PEM/key readers: input.ts's limits, the alias chain rules, the password callback (issue 11, items 4 and 12). */
let dir: string
beforeAll(() => {
  dir = tempDir()
})
afterAll(() => rmTemp(dir))

describe('PEM and key files are read through input.ts', () => {
  it('refuses a device, an oversize PEM and names the flag; the one errno wording is input.ts\'s', async () => {
    expect(() => readInputFile('/dev/zero', 'certificate', 'cert-file')).toThrow(
      'Cannot read the certificate file /dev/zero (--cert-file): it is not a regular file (a device, socket or other special file).',
    )
    const big = path.join(dir, 'big.pem')
    fs.writeFileSync(big, Buffer.alloc(1024 * 1024 + 1, 'A'))
    const error = await refusal(readCertificateChain(big, 'ca-cert'), 'INVALID_ARGUMENT')
    expect(error.message).toBe(`The certificate file ${big} (--ca-cert) is larger than the 1 MiB limit for a certificate file.`)
    expect(() => readPrivateKey(path.join(dir, 'missing.key'), undefined, 'key')).toThrow(`Cannot read the key file ${path.join(dir, 'missing.key')} (--key): no such file.`)
    expect(() => readPrivateKey(dir)).toThrow(`Cannot read the key file ${dir}: it is a folder.`)
  })
})

describe('an alias chain: at most 10 certificates, each once', () => {
  it('counts before parsing, refuses duplicates, accepts the limit itself', async () => {
    const ca = await makeCa('chain-ca')
    expect(MAX_CHAIN_CERTIFICATES).toBe(10)
    const many = ca.pem.repeat(46_000 / 100) // 460 copies: refused by count, before any is parsed
    const tooLong = await refusal(parseCertificateChain(many, 'roots.pem', ALIAS_CHAIN), 'INVALID_ARGUMENT')
    expect(tooLong.message).toBe('roots.pem holds 460 certificates: a certificate chain holds at most 10 (the leaf, then each issuer once).')
    expect((await parseCertificateChain(ca.pem.repeat(10), 'ten.pem', {maxCertificates: 10})).length).toBe(10)
    const twice = await refusal(parseCertificateChain(ca.pem.repeat(2), 'twice.pem', ALIAS_CHAIN), 'INVALID_ARGUMENT')
    expect(twice.message).toBe('The certificate chain in twice.pem holds the same certificate twice: certificate 2 repeats certificate 1.')
    // Without the alias options (certs describe, a trusted CA bundle) a long file is read whole.
    expect((await parseCertificateChain(ca.pem.repeat(12), 'bundle.pem')).length).toBe(12)
  })
})

describe('keycertfile: the password callback', () => {
  it('is called only for an encrypted key without a password, with the key file', async () => {
    const store = openStore(path.join(dir, 'state'))
    const ca = await makeCa('cb-ca')
    const leaf = await makeCert(ca, 'leaf')
    const asked: string[] = []
    const ask = async (file: string) => {
      asked.push(file)
      return 'pw-123'
    }
    const cert = Buffer.from(leaf.pem)
    const plain = Buffer.from(encodePrivateKey(leaf.privateKey))
    const encrypted = Buffer.from(encodePrivateKey(leaf.privateKey, 'pw-123'))
    await readAliasSource(store, {format: 'keycertfile', cert, certFile: 'leaf.pem', key: plain, keyFile: 'leaf.key', askPassword: ask})
    expect(asked).toEqual([])
    await readAliasSource(store, {format: 'keycertfile', cert, certFile: 'leaf.pem', key: encrypted, keyFile: 'enc.key', password: 'pw-123', askPassword: ask})
    expect(asked).toEqual([])
    const material = await readAliasSource(store, {format: 'keycertfile', cert, certFile: 'leaf.pem', key: encrypted, keyFile: 'enc.key', askPassword: ask})
    expect(asked).toEqual(['enc.key'])
    expect(material.key).toBeDefined()
    // Key and certificate in one file: asked with that file's name.
    await readAliasSource(store, {format: 'keycertfile', cert: Buffer.concat([encrypted, cert]), certFile: 'both.pem', askPassword: ask})
    expect(asked).toEqual(['enc.key', 'both.pem'])
    // No callback (the API): the engine's own refusal.
    const refused = await refusal(readAliasSource(store, {format: 'keycertfile', cert, certFile: 'leaf.pem', key: encrypted, keyFile: 'enc.key'}), 'INVALID_ARGUMENT')
    expect(refused.message).toBe('The private key in enc.key is encrypted and no password was given.')
  })
})

describe('PKCS#12: the MAC iteration count is bounded', () => {
  it('refuses a file asking for 2^31-1 iterations before running any', async () => {
    const ca = await makeCa('p12-ca')
    const leaf = await makeCert(ca, 'p12-leaf')
    const p12 = await createPkcs12({privateKey: leaf.privateKey, chain: [leaf.certificate], password: 'pw', iterations: 64})
    expect((await readPkcs12(p12, 'pw', 'ok.p12')).certs.length).toBe(1)
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(p12.toString('binary')))
    const iterations = ((asn1.value as forge.asn1.Asn1[])[2].value as forge.asn1.Asn1[])[2]
    iterations.value = String.fromCharCode(0x7f, 0xff, 0xff, 0xff)
    const crafted = Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary')
    const started = Date.now()
    const error = await refusal(readPkcs12(crafted, 'pw', 'slow.p12'), 'INVALID_ARGUMENT')
    expect(Date.now() - started).toBeLessThan(5000)
    expect(error.message).toBe('The PKCS#12 file slow.p12 asks for 2,147,483,647 MAC iterations: at most 1,000,000 are accepted.')
  })
})

describe('PKCS#12 bags: their key-derivation iteration counts are bounded too', () => {
  it('refuses an openssl-made file whose bags ask for 1,500,000 PBKDF2 iterations (MAC count 1) before deriving anything', async () => {
    const ca = await makeCa('bag-ca')
    const leaf = await makeCert(ca, 'bag-leaf')
    fs.writeFileSync(path.join(dir, 'bag.pem'), leaf.pem)
    fs.writeFileSync(path.join(dir, 'bag.key'), encodePrivateKey(leaf.privateKey), {mode: 0o600})
    const made = openssl(['pkcs12', '-export', '-in', 'bag.pem', '-inkey', 'bag.key', '-out', 'bag.p12', '-passout', 'pass:pw', '-iter', '1500000', '-nomaciter'], dir)
    expect(made.code, made.stderr).toBe(0)
    const started = Date.now()
    const error = await refusal(readPkcs12(fs.readFileSync(path.join(dir, 'bag.p12')), 'pw', 'bag.p12'), 'INVALID_ARGUMENT')
    expect(Date.now() - started).toBeLessThan(5000)
    expect(error.message).toBe('The PKCS#12 file bag.p12 asks for 1,500,000 key-derivation iterations: at most 1,000,000 are accepted.')
  }, 60_000)
})

describe('encrypted keys: the key-derivation iteration count is bounded', () => {
  it('refuses a PKCS#8 key asking for 2^31-1 PBKDF2 iterations before deriving anything', async () => {
    const ca = await makeCa('iter-ca')
    const pem = encodePrivateKey(ca.privateKey, 'pw')
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')
    expect(derIterationCounts(der)).toEqual([2048])
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')))
    // EncryptedPrivateKeyInfo > AlgorithmIdentifier (PBES2) > params > keyDerivationFunc (PBKDF2) > params > iterationCount
    const kdfParams = (((((asn1.value as forge.asn1.Asn1[])[0].value as forge.asn1.Asn1[])[1].value as forge.asn1.Asn1[])[0].value as forge.asn1.Asn1[])[1])
    ;(kdfParams.value as forge.asn1.Asn1[])[1].value = String.fromCharCode(0x7f, 0xff, 0xff, 0xff)
    const crafted = `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${forge.util.encode64(forge.asn1.toDer(asn1).getBytes(), 64)}\n-----END ENCRYPTED PRIVATE KEY-----\n`
    const started = Date.now()
    expect(() => parsePrivateKey(crafted, {file: 'slow.key', password: 'pw'})).toThrow(
      'The private key in slow.key asks for 2,147,483,647 key-derivation iterations: at most 10,000,000 are accepted.',
    )
    expect(Date.now() - started).toBeLessThan(5000)
    expect(parsePrivateKey(pem, {password: 'pw'}).asymmetricKeyType).toBe('ec')
  })
})
