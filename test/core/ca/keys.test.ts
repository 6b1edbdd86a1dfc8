import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {describePublicKey, encodePrivateKey, generateKey, isEncryptedPrivateKey, keysMatch, parsePrivateKey, readPrivateKey} from '../../../src/core/ca/index.js'
import {rmTemp, tempDir} from '../../helpers/cli.js'
import {makeCa} from '../../helpers/ca.js'
import {openssl} from '../../helpers/openssl.js'

let dir: string
beforeAll(() => {
  dir = tempDir()
  fs.writeFileSync(path.join(dir, 'pw.txt'), 's3cret pass\n')
})
afterAll(() => rmTemp(dir))

describe('generated keys', () => {
  it.each(['rsa-2048', 'rsa-3072', 'ec-p256'] as const)('%s is what it says', (type) => {
    const key = generateKey(type)
    expect(describePublicKey(crypto.createPublicKey(key))).toBe(
      {'rsa-2048': 'RSA Public Key, 2048 bits', 'rsa-3072': 'RSA Public Key, 3072 bits', 'ec-p256': 'EC Public Key, 256 bits'}[type],
    )
  })

  it('are written as PKCS#8; encrypted ones (PBES2, PBKDF2-SHA256, AES-256-CBC) open in openssl with the password', () => {
    for (const type of ['rsa-2048', 'ec-p256'] as const) {
      const key = generateKey(type)
      expect(encodePrivateKey(key)).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
      const pem = encodePrivateKey(key, 's3cret pass')
      expect(pem).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/)
      expect(isEncryptedPrivateKey(pem)).toBe(true)
      fs.writeFileSync(path.join(dir, `enc-${type}.key`), pem)
      const parsed = openssl(['asn1parse', '-in', `enc-${type}.key`], dir).stdout
      expect(parsed).toContain(':PBES2')
      expect(parsed).toContain(':PBKDF2')
      expect(parsed).toContain(':hmacWithSHA256')
      expect(parsed).toContain(':aes-256-cbc')
      const opened = openssl(['pkey', '-in', `enc-${type}.key`, '-passin', 'file:pw.txt', '-pubout'], dir)
      expect(opened.code).toBe(0)
      expect(opened.stdout).toBe(crypto.createPublicKey(key).export({type: 'spki', format: 'pem'}))
      expect(openssl(['pkey', '-in', `enc-${type}.key`, '-passin', 'pass:wrong', '-noout'], dir).code).not.toBe(0)
    }
    expect(() => encodePrivateKey(generateKey('ec-p256'), '')).toThrow('A key password must not be empty.')
  })
})

describe('reading keys openssl made', () => {
  const cases: Array<[string, string[]]> = [
    ['genrsa (PKCS#8)', ['genrsa', '-out', 'k1.key', '2048']],
    ['traditional RSA', ['genrsa', '-traditional', '-out', 'k2.key', '2048']],
    ['EC (SEC1)', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'k3.key']],
    ['encrypted PKCS#8', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-aes-256-cbc', '-pass', 'file:pw.txt', '-out', 'k4.key']],
    ['legacy encrypted PEM', ['genrsa', '-traditional', '-aes256', '-passout', 'file:pw.txt', '-out', 'k5.key', '2048']],
  ]
  it.each(cases)('%s', (_label, args) => {
    expect(openssl(args, dir).code).toBe(0)
    const file = path.join(dir, args[args.indexOf('-out') + 1])
    const encrypted = isEncryptedPrivateKey(fs.readFileSync(file))
    const key = readPrivateKey(file, encrypted ? 's3cret pass' : undefined)
    const pub = openssl(['pkey', '-in', file, '-passin', 'file:pw.txt', '-pubout'], dir).stdout
    expect(crypto.createPublicKey(key).export({type: 'spki', format: 'pem'})).toBe(pub)
    if (encrypted) {
      expect(() => readPrivateKey(file, 'wrong')).toThrow(`Wrong password for the private key in ${file}.`)
      expect(() => readPrivateKey(file)).toThrow(`The private key in ${file} is encrypted and no password was given.`)
    }
  })

  it('finds the key in a combined certificate+key file and tells keys apart', async () => {
    const ca = await makeCa()
    const combined = ca.pem + encodePrivateKey(ca.privateKey)
    const key = parsePrivateKey(combined, {file: 'both.pem'})
    expect(keysMatch(key, ca.certificate.publicKey)).toBe(true)
    expect(keysMatch(generateKey('ec-p256'), ca.certificate.publicKey)).toBe(false)
  })

  it('errors name the file, never the contents', () => {
    const secretish = '-----BEGIN PRIVATE KEY-----\nTUlJQ2VnSUJBREFOQmdrcWhraUc5dzBCQVFFRkFBU0NBbUF3Z2dKY0FnRUFBb0dCQUw=\n-----END PRIVATE KEY-----\n'
    let message = ''
    try {
      parsePrivateKey(secretish, {file: 'bad.key'})
    } catch (e) {
      message = (e as Error).message
    }
    expect(message).toBe('bad.key holds a malformed private key.')
    expect(() => parsePrivateKey('just text', {file: 'x.key'})).toThrow(/x\.key holds no PEM private key/)
    expect(() => readPrivateKey(path.join(dir, 'missing.key'))).toThrow(`Cannot read the key file ${path.join(dir, 'missing.key')}: no such file.`)
  })
})

describe('encrypted keys whose iteration count cannot be read', () => {
  it('an encrypted PKCS#8 key in BER indefinite length (which OpenSSL opens) is refused before any key derivation', () => {
    const {privateKey} = crypto.generateKeyPairSync('ec', {namedCurve: 'P-256'})
    const pem = privateKey.export({type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw'}) as string
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')
    // The outer SEQUENCE re-encoded with an indefinite length: 30 80 <contents> 00 00.
    const lengthBytes = der[1] & 0x80 ? 1 + (der[1] & 0x7f) : 1
    const ber = Buffer.concat([Buffer.from([0x30, 0x80]), der.subarray(1 + lengthBytes), Buffer.from([0, 0])])
    const berPem = `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${ber.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END ENCRYPTED PRIVATE KEY-----\n`
    expect(() => parsePrivateKey(Buffer.from(berPem), {file: 'ber.key', password: 'pw'})).toThrow(
      'The private key in ber.key is encrypted with parameters that cannot be read (an encrypted PKCS#8 key must be DER-encoded).',
    )
    // The DER original still opens.
    expect(parsePrivateKey(Buffer.from(pem), {file: 'der.key', password: 'pw'}).asymmetricKeyType).toBe('ec')
  })
})
