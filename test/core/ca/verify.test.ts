import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createSelfSignedCertificate, generateKey, issueCertificate, parseCertificate, parseSubject, verifyCertificate} from '../../../src/core/ca/index.js'
import {rmTemp, tempDir} from '../../helpers/cli.js'
import {DAY, LAST_YEAR, makeCa, makeCert} from '../../helpers/ca.js'
import {openssl} from '../../helpers/openssl.js'

let dir: string
beforeAll(() => {
  dir = tempDir()
})
afterAll(() => rmTemp(dir))

const failures = (report: ReturnType<typeof verifyCertificate>) => report.checks.filter((c) => !c.ok).map((c) => c.detail)

describe('verifyCertificate', () => {
  it('passes chain, validity, key, usage and hostname for a good certificate', async () => {
    const ca = await makeCa('my-ca')
    const leaf = await makeCert(ca, 'backend', {usage: 'server', sans: 'DNS:backend.example.com,IP:10.0.0.5'})
    const report = verifyCertificate({chain: [leaf.certificate], trusted: [ca.certificate], privateKey: leaf.privateKey, usage: 'server', hostname: 'backend.example.com'})
    expect(report).toMatchObject({subject: 'CN=backend', issuer: 'CN=my-ca', valid: true})
    expect(report.checks.map((c) => [c.check, c.ok])).toEqual([
      ['chain', true],
      ['validity', true],
      ['key', true],
      ['usage', true],
      ['hostname', true],
    ])
    expect(verifyCertificate({chain: [leaf.certificate], trusted: [ca.certificate], hostname: '10.0.0.5'}).valid).toBe(true)
  })

  it("names each failure in openssl's words", async () => {
    const ca = await makeCa('my-ca')
    const other = await makeCa('other-ca')
    const server = await makeCert(ca, 'backend', {usage: 'server', sans: 'DNS:backend.example.com'})
    const expired = await makeCert(ca, 'old', LAST_YEAR)
    const notYet = await makeCert(ca, 'soon', {notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 9 * DAY)})
    const foreign = await makeCert(other, 'foreign')
    const trusted = [ca.certificate]

    expect(failures(verifyCertificate({chain: [expired.certificate], trusted}))).toEqual([expect.stringMatching(/^certificate has expired \(notAfter /)])
    expect(failures(verifyCertificate({chain: [notYet.certificate], trusted}))).toEqual([expect.stringMatching(/^certificate is not yet valid/)])
    expect(failures(verifyCertificate({chain: [foreign.certificate], trusted}))).toEqual([
      'unable to get local issuer certificate: no trusted CA named CN=other-ca',
    ])
    expect(failures(verifyCertificate({chain: [server.certificate], trusted, privateKey: generateKey('ec-p256')}))).toEqual([
      "key values mismatch: the private key is not the certificate's",
    ])
    expect(failures(verifyCertificate({chain: [server.certificate], trusted, usage: 'client'}))).toEqual([
      'unsupported certificate purpose: extKeyUsage is serverAuth, not clientAuth',
    ])
    expect(failures(verifyCertificate({chain: [server.certificate], trusted, hostname: 'evil.example.com'}))).toEqual([
      'hostname mismatch: evil.example.com is not in the SANs (DNS:backend.example.com)',
    ])
    expect(failures(verifyCertificate({chain: [server.certificate], trusted, hostname: '10.9.9.9'}))).toEqual([
      'IP address mismatch: 10.9.9.9 is not in the SANs (DNS:backend.example.com)',
    ])
    expect(failures(verifyCertificate({chain: [other.certificate], trusted}))).toEqual(['self-signed certificate: CN=other-ca is not a trusted CA'])
  })

  it('follows intermediates and enforces pathLen and CA expiry, agreeing with openssl', async () => {
    const root = await makeCa('root')
    const rootKey = root.privateKey
    const strictRootKey = generateKey('ec-p256')
    const strictRoot = await parseCertificate(
      await createSelfSignedCertificate(
        {subject: parseSubject('/CN=strict-root'), publicKey: strictRootKey, profile: {kind: 'ca', pathLen: 0}},
        strictRootKey,
      ),
    )
    const interKey = generateKey('ec-p256')
    const inter = await parseCertificate(
      await issueCertificate({subject: parseSubject('/CN=inter'), publicKey: interKey, profile: {kind: 'ca'}}, {certificate: strictRoot, privateKey: strictRootKey}),
    )
    const leaf = await makeCert({certificate: inter, privateKey: interKey, pem: inter.pem}, 'leaf')
    const report = verifyCertificate({chain: [leaf.certificate, inter], trusted: [strictRoot]})
    expect(failures(report)).toEqual(['path length constraint exceeded at CN=strict-root'])
    fs.writeFileSync(path.join(dir, 'strict.pem'), strictRoot.pem)
    fs.writeFileSync(path.join(dir, 'inter.pem'), inter.pem)
    fs.writeFileSync(path.join(dir, 'leaf.pem'), leaf.pem)
    expect(openssl(['verify', '-CAfile', 'strict.pem', '-untrusted', 'inter.pem', 'leaf.pem'], dir).stderr).toContain('path length constraint exceeded')

    // The same shape under a root without pathLen verifies.
    const inter2Key = generateKey('ec-p256')
    const inter2 = await parseCertificate(
      await issueCertificate({subject: parseSubject('/CN=inter2'), publicKey: inter2Key, profile: {kind: 'ca'}}, {certificate: root.certificate, privateKey: rootKey}),
    )
    const leaf2 = await makeCert({certificate: inter2, privateKey: inter2Key, pem: inter2.pem}, 'leaf2')
    const ok = verifyCertificate({chain: [leaf2.certificate, inter2], trusted: [root.certificate]})
    expect(ok.valid).toBe(true)
    expect(ok.checks[0].detail).toBe('signed by CN=inter2 <- CN=root')

    const oldRoot = await makeCa('old-root', LAST_YEAR)
    const child = await makeCert(oldRoot, 'child', {notBefore: LAST_YEAR.notBefore, notAfter: new Date(Date.now() + DAY)})
    expect(failures(verifyCertificate({chain: [child.certificate], trusted: [oldRoot.certificate]}))).toEqual([
      expect.stringMatching(/^CA certificate CN=old-root has expired \(notAfter /),
    ])
  })
})
