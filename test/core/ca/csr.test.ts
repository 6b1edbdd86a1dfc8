import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createCsr, generateKey, parseCsr, parseSans, parseSubject, readCsr} from '../../../src/core/ca/index.js'
import {rmTemp, tempDir} from '../../helpers/cli.js'
import {openssl} from '../../helpers/openssl.js'

let dir: string
beforeAll(() => {
  dir = tempDir()
})
afterAll(() => rmTemp(dir))

describe('CSRs', () => {
  it.each(['rsa-2048', 'ec-p256'] as const)('mtlsctl %s CSRs pass `openssl req -verify` with their SANs', async (type) => {
    const key = generateKey(type)
    const pem = await createCsr(key, parseSubject('/C=US/O=Acme/CN=gw.example.com'), parseSans('DNS:gw.example.com,IP:10.1.2.3,URI:spiffe://acme/gw'))
    fs.writeFileSync(path.join(dir, `m-${type}.csr`), pem)
    const r = openssl(['req', '-verify', '-in', `m-${type}.csr`, '-noout', '-text'], dir)
    expect(r.stderr).toContain('verify OK')
    expect(r.stdout).toContain('Subject: C = US, O = Acme, CN = gw.example.com')
    expect(r.stdout).toMatch(/X509v3 Subject Alternative Name: \s+DNS:gw.example.com, IP Address:10.1.2.3, URI:spiffe:\/\/acme\/gw/)
    expect(r.stdout).toContain(type === 'rsa-2048' ? 'sha256WithRSAEncryption' : 'ecdsa-with-SHA256')
  })

  it('reads CSRs openssl made, with every SAN', async () => {
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'o.key', '-out', 'o.csr', '-subj', '/CN=o.example.com',
      '-addext', 'subjectAltName=DNS:o.example.com,DNS:alt.example.com,IP:192.168.0.1,email:ops@example.com'], dir)
    const csr = await readCsr(path.join(dir, 'o.csr'))
    expect(csr.subject).toEqual([{type: 'CN', value: 'o.example.com'}])
    expect(csr.sans).toEqual([
      {type: 'DNS', value: 'o.example.com'},
      {type: 'DNS', value: 'alt.example.com'},
      {type: 'IP', value: '192.168.0.1'},
      {type: 'EMAIL', value: 'ops@example.com'},
    ])
    expect(csr.publicKey.asymmetricKeyType).toBe('ec')
  })

  it('refuses a CSR whose signature does not verify, and malformed ones', async () => {
    const pem = await createCsr(generateKey('rsa-2048'), parseSubject('/CN=honest'))
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')
    // Change the CN's last letter: the signature no longer covers these bytes.
    const at = der.indexOf(Buffer.from('honest'))
    der[at + 5] = 'y'.charCodeAt(0)
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`
    fs.writeFileSync(path.join(dir, 't.csr'), tampered)
    // openssl 3.0 exits 0 here and says so only in words.
    expect(openssl(['req', '-verify', '-in', 't.csr', '-noout'], dir).stderr).toContain('self-signature verify failure')
    await expect(parseCsr(tampered, 't.csr')).rejects.toThrow(
      'The signature of the certificate request t.csr does not verify: it was altered or not signed by its own key.',
    )
    await expect(parseCsr('nothing', 'n.csr')).rejects.toThrow('n.csr holds no PEM certificate request')
    await expect(parseCsr('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', 'm.csr')).rejects.toThrow(
      'm.csr is not a valid certificate request',
    )
  })
})
