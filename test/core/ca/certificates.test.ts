import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {checkDays} from '../../../src/core/ca/certificates.js'
import {
  certInfo,
  createSelfSignedCertificate,
  describeCertificate,
  generateKey,
  issueCertificate,
  parseCertificate,
  parseCertificateChain,
  parseSans,
  parseSerial,
  parseSubject,
} from '../../../src/core/ca/index.js'
import {rmTemp, tempDir} from '../../helpers/cli.js'
import {DAY, LAST_YEAR, makeCa, makeCert} from '../../helpers/ca.js'
import {openssl} from '../../helpers/openssl.js'

let dir: string
beforeAll(() => {
  dir = tempDir()
})
afterAll(() => rmTemp(dir))

const write = (name: string, text: string | Buffer) => {
  fs.writeFileSync(path.join(dir, name), text)
  return name
}

describe.each(['rsa-2048', 'ec-p256'] as const)('certificates with %s keys', (keyType) => {
  it('a CA and a leaf that openssl verifies, with the expected extensions', async () => {
    const ca = await makeCa(`ca-${keyType}`, {keyType})
    const leaf = await makeCert(ca, 'backend.example.com', {keyType, usage: 'server', sans: 'DNS:backend.example.com,IP:10.0.0.5'})
    write(`ca-${keyType}.pem`, ca.pem)
    write(`leaf-${keyType}.pem`, leaf.pem)

    const verified = openssl(['verify', '-CAfile', `ca-${keyType}.pem`, `leaf-${keyType}.pem`], dir)
    expect(verified.stdout).toBe(`leaf-${keyType}.pem: OK\n`)

    const caText = openssl(['x509', '-in', `ca-${keyType}.pem`, '-noout', '-text'], dir).stdout
    expect(caText).toContain('Version: 3 (0x2)')
    expect(caText).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE\n/)
    expect(caText).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n/)
    expect(caText).toContain('X509v3 Subject Key Identifier')
    expect(caText).toContain('X509v3 Authority Key Identifier')
    expect(caText).toContain(keyType === 'rsa-2048' ? 'Signature Algorithm: sha256WithRSAEncryption' : 'Signature Algorithm: ecdsa-with-SHA256')

    const leafText = openssl(['x509', '-in', `leaf-${keyType}.pem`, '-noout', '-text'], dir).stdout
    expect(leafText).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE\n/)
    expect(leafText).toMatch(
      keyType === 'rsa-2048' ? /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\n/ : /X509v3 Key Usage: critical\s+Digital Signature\n/,
    )
    expect(leafText).toMatch(/X509v3 Extended Key Usage: \s+TLS Web Server Authentication\n/)
    expect(leafText).toMatch(/X509v3 Subject Alternative Name: \s+DNS:backend.example.com, IP Address:10.0.0.5\n/)
    // The leaf's AKI is the CA's SKI.
    const ski = /Subject Key Identifier: \s+([0-9A-F:]+)/.exec(caText)![1]
    expect(leafText).toMatch(new RegExp(`Authority Key Identifier: \\s+(keyid:)?${ski}`))
  })
})

describe('serial numbers', () => {
  it('are 16 random bytes, always positive, or exactly the --serial given', async () => {
    const ca = await makeCa()
    for (let i = 0; i < 20; i++) {
      const {certificate} = await makeCert(ca, `c${i}`)
      expect(certificate.serialNumber.length).toBe(16)
      expect(certificate.serialNumber[0] & 0x80).toBe(0)
    }
    const key = generateKey('ec-p256')
    const issuer = {certificate: ca.certificate, privateKey: ca.privateKey}
    const base = {subject: parseSubject('/CN=s'), publicKey: key, profile: {kind: 'leaf' as const, usage: 'client' as const}}
    expect((await certInfo(await issueCertificate({...base, serial: '01'}, issuer))).serialNumber).toBe('01')
    // A high first byte gets a sign byte, as openssl prints it.
    const high = await issueCertificate({...base, serial: 'ff:01'}, issuer)
    expect((await certInfo(high)).serialNumber).toBe('00:ff:01')
    expect(openssl(['x509', '-noout', '-serial', '-in', write('high.pem', high)], dir).stdout).toBe('serial=FF01\n')
    expect(() => parseSerial('xyz')).toThrow(/use hexadecimal digits/)
    expect(() => parseSerial('00')).toThrow(/must be positive/)
    expect(() => parseSerial('ff'.repeat(21))).toThrow(/at most 20 bytes/)
  })
})

describe('validity', () => {
  it('defaults to 365 days from now; notBefore/notAfter make expired certificates', async () => {
    const ca = await makeCa()
    const {certificate} = await makeCert(ca, 'now')
    expect(certificate.notAfter.getTime() - certificate.notBefore.getTime()).toBe(365 * DAY)
    expect(Math.abs(certificate.notBefore.getTime() - Date.now())).toBeLessThan(5_000)
    const old = await makeCert(ca, 'old', LAST_YEAR)
    expect((await certInfo(old.pem)).isValid).toBe('No')
    const future = await makeCert(ca, 'future', {notBefore: new Date(Date.now() + 10 * DAY), notAfter: new Date(Date.now() + 20 * DAY)})
    expect((await certInfo(future.pem)).isValid).toBe('Not yet')
    // Years from 2050 are GeneralizedTime (RFC 5280); openssl reads them.
    const far = await makeCert(ca, 'far', {notBefore: new Date('2049-06-01T00:00:00Z'), notAfter: new Date('2051-06-01T00:00:00Z')})
    expect(far.certificate.notAfter.toISOString()).toBe('2051-06-01T00:00:00.000Z')
    expect(openssl(['x509', '-noout', '-enddate', '-in', write('far.pem', far.pem)], dir).stdout).toBe('notAfter=Jun  1 00:00:00 2051 GMT\n')
    await expect(makeCert(ca, 'zero', {notBefore: new Date(), notAfter: new Date(Date.now() - 1000)})).rejects.toThrow(/must end after it starts/)
  })

  it('checkDays speaks of a validity, or of the name its caller gives (no CLI flag in the engine)', () => {
    expect(() => checkDays(0)).toThrow('Invalid validity of 0 days: a certificate must be valid for at least 1 day.')
    expect(() => checkDays(40_000)).toThrow('Invalid validity of 40000 days: at most 36525 days (100 years).')
    expect(() => checkDays(-5, '--days -5')).toThrow('Invalid --days -5: a certificate must be valid for at least 1 day.')
    expect(checkDays(undefined)).toBe(365)
  })
})

describe('certInfo (Apigee Alias certsInfo.certInfo)', () => {
  it('has exactly the reference fields and forms', async () => {
    const ca = await makeCa('my-ca', {keyType: 'rsa-2048'})
    const leaf = await makeCert(ca, 'backend', {keyType: 'ec-p256', usage: 'server', sans: 'DNS:backend,IP:127.0.0.1'})
    const info = await certInfo(leaf.pem)
    expect(Object.keys(info).sort()).toEqual(
      ['basicConstraints', 'expiryDate', 'isValid', 'issuer', 'publicKey', 'serialNumber', 'sigAlgName', 'subject', 'subjectAlternativeNames', 'validFrom', 'version'].sort(),
    )
    expect(info).toMatchObject({
      version: 3,
      subject: 'CN=backend',
      issuer: 'CN=my-ca',
      isValid: 'Yes',
      subjectAlternativeNames: ['backend', '127.0.0.1'],
      sigAlgName: 'SHA256-RSA',
      publicKey: 'EC Public Key, 256 bits',
      basicConstraints: 'CA:FALSE',
    })
    expect(info.expiryDate).toBe(String(leaf.certificate.notAfter.getTime()))
    expect(info.validFrom).toMatch(/^\d{13}$/)
    expect(info.serialNumber).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){15}$/)
    const caInfo = await certInfo(ca.pem)
    expect(caInfo).toMatchObject({basicConstraints: 'CA:TRUE', publicKey: 'RSA Public Key, 2048 bits', subjectAlternativeNames: []})
    expect((await certInfo((await makeCert(await makeCa('ec-ca'), 'x')).pem)).sigAlgName).toBe('SHA256-ECDSA')
  })

  it('reads certificates openssl made (v3 with its default extensions, and v1)', async () => {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'o.key', '-out', 'o.pem', '-days', '30', '-subj', '/C=US/O=Acme/CN=openssl-ca', '-addext', 'subjectAltName=DNS:o.example.com'], dir)
    const info = await describeCertificate(fs.readFileSync(path.join(dir, 'o.pem')))
    expect(info).toMatchObject({subject: 'CN=openssl-ca, O=Acme, C=US', basicConstraints: 'CA:TRUE', sans: ['DNS:o.example.com'], selfSigned: true, version: 3})
    const fingerprint = openssl(['x509', '-in', 'o.pem', '-noout', '-fingerprint', '-sha256'], dir).stdout.trim().split('=')[1]
    expect(info.sha256Fingerprint).toBe(fingerprint)
    const serial = openssl(['x509', '-in', 'o.pem', '-noout', '-serial'], dir).stdout.trim().split('=')[1]
    expect(info.serialNumber.replaceAll(':', '').toUpperCase().replace(/^00/, '')).toBe(serial.replace(/^00/, ''))

    openssl(['x509', '-req', '-in', write('v1.csr', openssl(['req', '-new', '-key', 'o.key', '-subj', '/CN=v1'], dir).stdout), '-signkey', 'o.key', '-out', 'v1.pem', '-days', '3'], dir)
    const v1 = await describeCertificate(fs.readFileSync(path.join(dir, 'v1.pem')))
    expect(v1).toMatchObject({version: 1, basicConstraints: 'CA:FALSE', keyUsage: [], extendedKeyUsage: []})
  })
})

describe('parseCertificateChain', () => {
  it('reads a chain in order, and one DER certificate', async () => {
    const ca = await makeCa('root')
    const leaf = await makeCert(ca, 'leaf')
    const chain = await parseCertificateChain(leaf.pem + ca.pem, 'chain.pem')
    expect(chain.map((c) => c.subject[0].value)).toEqual(['leaf', 'root'])
    const der = Buffer.from(leaf.pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')
    expect((await parseCertificate(der, 'leaf.der')).subject).toEqual([{type: 'CN', value: 'leaf'}])
  })

  it('refuses malformed input with INVALID_ARGUMENT naming the file, never echoing it', async () => {
    await expect(parseCertificateChain('hello', 'a.pem')).rejects.toThrow('a.pem holds no PEM certificate ("-----BEGIN CERTIFICATE-----").')
    await expect(parseCertificateChain('-----BEGIN CERTIFICATE-----\n@@@\n-----END CERTIFICATE-----\n', 'b.pem')).rejects.toThrow(
      'b.pem holds a malformed PEM CERTIFICATE block (bad base64).',
    )
    await expect(parseCertificateChain('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'c.pem')).rejects.toThrow(
      'c.pem is not a valid X.509 certificate.',
    )
    const ca = await makeCa()
    const broken = ca.pem.replace(/\n(.{10})/, '\nAAAAAAAAAA')
    await expect(parseCertificateChain(ca.pem + broken, 'd.pem')).rejects.toThrow(/^d\.pem \(certificate 2\) is not a valid X\.509 certificate/)
  })
})

describe('self-signed leaf (Apigee selfsignedcert)', () => {
  it('is verifiable against itself', async () => {
    const key = generateKey('rsa-2048')
    const pem = await createSelfSignedCertificate(
      {subject: parseSubject('/CN=self'), publicKey: key, sans: parseSans('DNS:self'), profile: {kind: 'leaf', usage: 'server'}, days: 30},
      key,
    )
    write('self.pem', pem)
    expect(openssl(['verify', '-CAfile', 'self.pem', '-partial_chain', 'self.pem'], dir).stdout).toBe('self.pem: OK\n')
    expect(await describeCertificate(pem)).toMatchObject({selfSigned: true, basicConstraints: 'CA:FALSE', sans: ['DNS:self']})
  })
})
