import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {rmTemp, runCli, tempDir} from '../helpers/cli.js'
import {DAY, LAST_YEAR, makeCa, makeCert, writePair} from '../helpers/ca.js'
import {mode, openssl, snapshot} from '../helpers/openssl.js'

/**
 * The certs commands as a user runs them: one state folder and one working folder with a
 * registered RootCA (made in beforeAll), fresh sub-folders per test.
 */
let root: string
let home: string
let work: string
let n = 0
beforeAll(async () => {
  root = tempDir()
  home = path.join(root, 'state')
  work = path.join(root, 'work')
  fs.mkdirSync(work)
  const r = await runCli(['ca', 'create', 'RootCA', '--subject', '/CN=my-ca'], {home, cwd: work})
  expect(r.code).toBe(0)
})
afterAll(() => rmTemp(root))

/** A fresh folder holding copies of RootCA.pem/.key, as the seed's folder would. */
function folder(): string {
  const dir = path.join(root, `t${++n}`)
  fs.mkdirSync(dir)
  for (const f of ['RootCA.pem', 'RootCA.key']) fs.copyFileSync(path.join(work, f), path.join(dir, f))
  return dir
}

const cli = (args: string[], cwd: string) => runCli(args, {home, cwd})
const noKeyMaterial = (r: {stdout: string; stderr: string}) => expect(r.stdout + r.stderr).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----|MII[A-Za-z0-9+/]{20}/)

describe("the seed's Step 1 with mtlsctl", () => {
  it('three commands make the eight files; openssl verifies every one; the pair completes a handshake', async () => {
    const dir = path.join(root, 'step1')
    fs.mkdirSync(dir)
    const home1 = path.join(root, 'state-step1')
    const run = (args: string[]) => runCli(args, {home: home1, cwd: dir})
    const steps = [
      await run(['ca', 'create', 'RootCA', '--subject', '/CN=my-ca']),
      await run(['certs', 'create', 'my_gateway', '--ca', 'RootCA', '--subject', '/CN=my-gateway', '--usage', 'client']),
      await run(['certs', 'create', 'my_server', '--ca', 'RootCA', '--subject', '/CN=localhost', '--san', 'DNS:localhost,IP:127.0.0.1', '--usage', 'server']),
    ]
    for (const s of steps) {
      expect(s.code, s.stderr).toBe(0)
      noKeyMaterial(s)
    }
    expect(steps[1].stderr).toMatch(/^Issued \[my_gateway\] \(CN=my-gateway\) signed by CN=my-ca, valid until \S+\.\nWrote my_gateway\.key \(private key, 0600\), my_gateway\.csr and my_gateway\.pem\.\n$/)
    expect(steps[1].stdout).toMatch(/^NAME\s+SUBJECT\s+ISSUER\s+USAGE\s+NOT_AFTER\nmy_gateway\s+CN=my-gateway\s+CN=my-ca\s+client\s+\S+\n$/)

    expect(fs.readdirSync(dir).sort()).toEqual(
      ['RootCA.key', 'RootCA.pem', 'my_gateway.csr', 'my_gateway.key', 'my_gateway.pem', 'my_server.csr', 'my_server.key', 'my_server.pem'],
    )
    for (const key of ['RootCA.key', 'my_gateway.key', 'my_server.key']) expect(mode(path.join(dir, key)), key).toBe(0o600)

    expect(openssl(['verify', '-CAfile', 'RootCA.pem', 'my_gateway.pem', 'my_server.pem'], dir).stdout).toBe('my_gateway.pem: OK\nmy_server.pem: OK\n')
    expect(openssl(['verify', '-CAfile', 'RootCA.pem', '-purpose', 'sslclient', 'my_gateway.pem'], dir).stdout).toBe('my_gateway.pem: OK\n')
    expect(openssl(['verify', '-CAfile', 'RootCA.pem', '-purpose', 'sslserver', 'my_server.pem'], dir).stdout).toBe('my_server.pem: OK\n')
    const gw = openssl(['x509', '-in', 'my_gateway.pem', '-noout', '-text'], dir).stdout
    expect(gw).toMatch(/Extended Key Usage: \s+TLS Web Client Authentication\n/)
    expect(gw).toContain('Signature Algorithm: sha256WithRSAEncryption')
    expect(gw).toMatch(/Basic Constraints: critical\s+CA:FALSE\n/)
    expect(gw).not.toContain('Subject Alternative Name')
    const srv = openssl(['x509', '-in', 'my_server.pem', '-noout', '-text'], dir).stdout
    expect(srv).toMatch(/Extended Key Usage: \s+TLS Web Server Authentication\n/)
    expect(srv).toMatch(/Subject Alternative Name: \s+DNS:localhost, IP Address:127.0.0.1\n/)
    for (const csr of ['my_gateway.csr', 'my_server.csr']) {
      expect(openssl(['req', '-verify', '-in', csr, '-noout'], dir).stderr).toContain('self-signature verify OK')
    }
    for (const [cert, key] of [['my_gateway.pem', 'my_gateway.key'], ['my_server.pem', 'my_server.key']]) {
      const a = openssl(['x509', '-in', cert, '-noout', '-pubkey'], dir).stdout
      expect(openssl(['pkey', '-in', key, '-pubout'], dir).stdout).toBe(a)
    }

    const hs = await run(['certs', 'handshake', '--ca', 'RootCA', '--server', 'my_server', '--client', 'my_gateway', '--hostname', 'localhost'])
    expect(hs.code, hs.stderr).toBe(0)
    expect(hs.stdout).toMatch(
      /^Mutual TLS handshake succeeded on 127\.0\.0\.1:\d+ \(TLSv1\.3, TLS_\w+\)\.\n {2}server: CN=localhost \(verified by the client, host name localhost checked\)\n {2}client: CN=my-gateway \(verified by the server\)\n$/,
    )
    const json = JSON.parse((await run(['certs', 'handshake', '--ca', 'RootCA', '--server', 'my_server', '--client', 'my_gateway', '--format', 'json'])).stdout)
    expect(json).toMatchObject({protocol: 'TLSv1.3', hostname: null, server: {subject: 'CN=localhost'}, client: {subject: 'CN=my-gateway'}})
  })

  it('a server certificate without a SAN gets its CN as a SAN, with a warning; --serial and --days are honoured', async () => {
    const dir = folder()
    const r = await cli(['certs', 'create', 'srv', '--ca', 'RootCA', '--subject', '/CN=backend.example.com', '--usage', 'server', '--serial', '01', '--days', '30', '--key-type', 'ec-p256'], dir)
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('WARNING: No SAN given for a server certificate: added DNS:backend.example.com from its CN (clients check SANs, not the CN).\n')
    const text = openssl(['x509', '-in', 'srv.pem', '-noout', '-text'], dir).stdout
    expect(text).toMatch(/Subject Alternative Name: \s+DNS:backend.example.com\n/)
    expect(text).toContain('Serial Number: 1 (0x1)')
    expect(text).toContain('ASN1 OID: prime256v1')
    expect(openssl(['x509', '-in', 'srv.pem', '-noout', '-checkend', String(31 * 86400)], dir).stdout).toBe('Certificate will expire\n')
  })
})

describe('certs sign', () => {
  it('signs an openssl key and CSR, keeping every SAN; with an openssl-made CA given as files', async () => {
    const dir = folder()
    openssl(['req', '-new', '-x509', '-nodes', '-days', '365', '-subj', '/CN=openssl-ca', '-keyout', 'oca.key', '-out', 'oca.pem'], dir)
    openssl(['genrsa', '-out', 'be.key', '2048'], dir)
    openssl(['req', '-new', '-key', 'be.key', '-subj', '/O=Acme/CN=be.example.com', '-addext', 'subjectAltName=DNS:be.example.com,DNS:be-alt.example.com,IP:10.0.0.7', '-out', 'be.csr'], dir)
    const r = await cli(['certs', 'sign', 'be.csr', '--ca-cert', 'oca.pem', '--ca-key', 'oca.key', '--out', 'be.pem', '--usage', 'server'], dir)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toBe('Signed [be.csr] (CN=be.example.com, O=Acme) with CN=openssl-ca: wrote be.pem.\n')
    expect(openssl(['verify', '-CAfile', 'oca.pem', 'be.pem'], dir).stdout).toBe('be.pem: OK\n')
    const text = openssl(['x509', '-in', 'be.pem', '-noout', '-text'], dir).stdout
    expect(text).toMatch(/Subject Alternative Name: \s+DNS:be.example.com, DNS:be-alt.example.com, IP Address:10.0.0.7\n/)
    expect(text).toContain('Subject: O = Acme, CN = be.example.com')
    expect(openssl(['x509', '-in', 'be.pem', '-noout', '-pubkey'], dir).stdout).toBe(openssl(['pkey', '-in', 'be.key', '-pubout'], dir).stdout)

    // And with the registered CA: the CSR's subject bytes are copied as they are.
    const again = await cli(['certs', 'sign', 'be.csr', '--ca', 'RootCA', '--out', 'be2.pem', '--usage', 'client', '--format', 'json'], dir)
    expect(JSON.parse(again.stdout)).toMatchObject({issuer: 'CN=my-ca', usage: 'client', sans: ['DNS:be.example.com', 'DNS:be-alt.example.com', 'IP:10.0.0.7']})
    expect(openssl(['verify', '-CAfile', 'RootCA.pem', 'be2.pem'], dir).stdout).toBe('be2.pem: OK\n')
  })

  it('opens an encrypted CA key with --ca-password-file; a wrong or missing password writes nothing', async () => {
    const dir = folder()
    fs.writeFileSync(path.join(dir, 'pw.txt'), 'ca pass\n')
    fs.writeFileSync(path.join(dir, 'bad.txt'), 'nope\n')
    const made = await cli(['ca', 'create', 'EncCA', '--subject', '/CN=enc-ca', '--key-password-file', 'pw.txt'], dir)
    expect(made.code).toBe(0)
    const before = snapshot(dir)
    const wrong = await cli(['certs', 'create', 'gw', '--ca', 'EncCA', '--subject', '/CN=gw', '--ca-password-file', 'bad.txt'], dir)
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toBe(`ERROR: (mtlsctl.certs.create) INVALID_ARGUMENT: Wrong password for the private key in ${path.join(dir, 'EncCA.key')}.\n`)
    const missing = await cli(['certs', 'create', 'gw', '--ca', 'EncCA', '--subject', '/CN=gw'], dir)
    expect(missing.code).toBe(2)
    expect(missing.stderr).toBe(
      `ERROR: (mtlsctl.certs.create) Missing required flag --ca-password-file.\n${path.join(dir, 'EncCA.key')} is encrypted: give --ca-password-file FILE (the password on its first line).\n`,
    )
    expect(snapshot(dir)).toEqual(before)
    const ok = await cli(['certs', 'create', 'gw', '--ca-cert', 'EncCA.pem', '--ca-key', 'EncCA.key', '--ca-password-file', 'pw.txt', '--subject', '/CN=gw', '--usage', 'client', '--key-password-file', 'pw.txt'], dir)
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stderr).toContain('Wrote gw.key (private key, 0600, encrypted), gw.csr and gw.pem.')
    expect(openssl(['verify', '-CAfile', 'EncCA.pem', 'gw.pem'], dir).stdout).toBe('gw.pem: OK\n')
    expect(openssl(['pkey', '-in', 'gw.key', '-passin', 'file:pw.txt', '-noout'], dir).code).toBe(0)
  })
})

describe('certs describe', () => {
  it("prints a readable summary, and Apigee's certInfo field names with --format json", async () => {
    const dir = folder()
    // NAME after repeated --san flags: each --san takes one value.
    await cli(['certs', 'create', '--ca', 'RootCA', '--subject', '/CN=srv.example.com', '--san', 'DNS:srv.example.com', '--san', 'IP:10.0.0.9', 'srv', '--usage', 'server'], dir)
    const text = await cli(['certs', 'describe', 'srv.pem'], dir)
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/^Subject: {13}CN=srv\.example\.com\nIssuer: {14}CN=my-ca\n/)
    expect(text.stdout).toContain('SANs:                DNS:srv.example.com, IP:10.0.0.9\n')
    expect(text.stdout).toContain('Public key:          RSA Public Key, 2048 bits\n')
    expect(text.stdout).toContain('Signature:           SHA256-RSA\n')
    expect(text.stdout).toContain('Extended key usage:  serverAuth\n')
    const fp = openssl(['x509', '-in', 'srv.pem', '-noout', '-fingerprint', '-sha256'], dir).stdout.trim().split('=')[1]
    expect(text.stdout).toContain(`SHA-256 fingerprint: ${fp}\n`)

    const info = JSON.parse((await cli(['certs', 'describe', 'srv.pem', '--format', 'json'], dir)).stdout)
    expect(info).toMatchObject({
      version: 3,
      subject: 'CN=srv.example.com',
      issuer: 'CN=my-ca',
      isValid: 'Yes',
      subjectAlternativeNames: ['srv.example.com', '10.0.0.9'],
      sigAlgName: 'SHA256-RSA',
      publicKey: 'RSA Public Key, 2048 bits',
      basicConstraints: 'CA:FALSE',
      keyUsage: ['digitalSignature', 'keyEncipherment'],
      extendedKeyUsage: ['serverAuth'],
      sha256Fingerprint: fp,
    })
    expect(info.expiryDate).toMatch(/^\d{13}$/)
    expect(info.validFrom).toMatch(/^\d{13}$/)
    const serial = openssl(['x509', '-in', 'srv.pem', '-noout', '-serial'], dir).stdout.trim().split('=')[1]
    expect(info.serialNumber).toBe(serial.toLowerCase().match(/../g)!.join(':'))

    fs.writeFileSync(path.join(dir, 'chain.pem'), fs.readFileSync(path.join(dir, 'srv.pem'), 'utf8') + fs.readFileSync(path.join(dir, 'RootCA.pem'), 'utf8'))
    const chain = JSON.parse((await cli(['certs', 'describe', 'chain.pem', '--format', 'json'], dir)).stdout)
    expect(chain.map((c: {subject: string; basicConstraints: string}) => [c.subject, c.basicConstraints])).toEqual([
      ['CN=srv.example.com', 'CA:FALSE'],
      ['CN=my-ca', 'CA:TRUE'],
    ])
  })
})

describe('certs verify', () => {
  it('passes a good certificate and names each failure, exit 1', async () => {
    const dir = folder()
    await cli(['certs', 'create', 'srv', '--ca', 'RootCA', '--subject', '/CN=srv', '--san', 'DNS:srv.example.com', '--usage', 'server'], dir)
    await cli(['certs', 'create', 'other', '--ca', 'RootCA', '--subject', '/CN=other', '--usage', 'client'], dir)
    const ok = await cli(['certs', 'verify', 'srv.pem', '--ca', 'RootCA', '--key', 'srv.key', '--hostname', 'srv.example.com', '--usage', 'server'], dir)
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stdout).toMatch(/^CN=srv: verified\nOK {4}chain {5}signed by CN=my-ca\nOK {4}validity .*\nOK {4}key {7}the private key matches the certificate\nOK {4}usage {5}extKeyUsage includes serverAuth\nOK {4}hostname  srv\.example\.com matches the certificate's SANs\n$/)

    const ca = await makeCa('other-ca')
    writePair(dir, 'foreign', await makeCert(ca, 'foreign'))
    const rootCa = {certificate: (await import('../../src/core/ca/index.js')).parseCertificate(fs.readFileSync(path.join(dir, 'RootCA.pem')))}
    const issuer = {certificate: await rootCa.certificate, privateKey: (await import('../../src/core/ca/index.js')).readPrivateKey(path.join(dir, 'RootCA.key')), pem: ''}
    writePair(dir, 'expired', await makeCert(issuer, 'expired', LAST_YEAR))

    const cases: Array<[string[], string]> = [
      [['expired.pem', '--ca', 'RootCA'], 'expired.pem failed verification: certificate has expired (notAfter '],
      [['foreign.pem', '--ca-cert', 'RootCA.pem'], 'foreign.pem failed verification: unable to get local issuer certificate: no trusted CA named CN=other-ca.'],
      [['srv.pem', '--ca', 'RootCA', '--key', 'other.key'], "srv.pem failed verification: key values mismatch: the private key is not the certificate's."],
      [['srv.pem', '--ca', 'RootCA', '--hostname', 'evil.example.com'], 'srv.pem failed verification: hostname mismatch: evil.example.com is not in the SANs (DNS:srv.example.com).'],
      [['srv.pem', '--ca', 'RootCA', '--usage', 'client'], 'srv.pem failed verification: unsupported certificate purpose: extKeyUsage is serverAuth, not clientAuth.'],
    ]
    for (const [args, message] of cases) {
      const r = await cli(['certs', 'verify', ...args], dir)
      expect(r.code, args.join(' ')).toBe(1)
      expect(r.stdout).toBe('')
      expect(r.stderr).toContain(`ERROR: (mtlsctl.certs.verify) FAILED_PRECONDITION: ${message}`)
    }
  })
})

describe('certs handshake failures', () => {
  it('an expired client certificate and one from another CA fail with the named reason, exit 1', async () => {
    const dir = folder()
    await cli(['certs', 'create', 'srv', '--ca', 'RootCA', '--subject', '/CN=localhost', '--usage', 'server'], dir)
    const {parseCertificate, readPrivateKey} = await import('../../src/core/ca/index.js')
    const issuer = {certificate: await parseCertificate(fs.readFileSync(path.join(dir, 'RootCA.pem'))), privateKey: readPrivateKey(path.join(dir, 'RootCA.key')), pem: ''}
    writePair(dir, 'old', await makeCert(issuer, 'old-gateway', {usage: 'client', ...LAST_YEAR}))
    writePair(dir, 'foreign', await makeCert(await makeCa('other-ca'), 'foreign-gateway', {usage: 'client'}))
    const expired = await cli(['certs', 'handshake', '--ca', 'RootCA', '--server', 'srv', '--client-cert', 'old.pem', '--client-key', 'old.key'], dir)
    expect(expired.code).toBe(1)
    expect(expired.stdout).toBe('')
    expect(expired.stderr).toBe(
      'ERROR: (mtlsctl.certs.handshake) FAILED_PRECONDITION: TLS handshake failed: CERTIFICATE_VERIFY_FAILED: the server rejected the client certificate: certificate has expired.\n',
    )
    const foreign = await cli(['certs', 'handshake', '--ca', 'RootCA', '--server', 'srv', '--client', 'foreign'], dir)
    expect(foreign.code).toBe(1)
    expect(foreign.stderr).toContain('CERTIFICATE_VERIFY_FAILED: the server rejected the client certificate: unable to verify the first certificate.')
    const host = await cli(['certs', 'handshake', '--ca', 'RootCA', '--server', 'srv', '--client', 'srv', '--hostname', 'other.example.com'], dir)
    expect(host.code).toBe(1)
    expect(host.stderr).toContain('the client rejected the server certificate: hostname mismatch')
    const noClient = await cli(['certs', 'handshake', '--ca', 'RootCA', '--server', 'srv'], dir)
    expect(noClient.code).toBe(2)
    expect(noClient.stderr).toContain('Missing required flag --client.')
  })
})

describe('certs export', () => {
  it('writes a PKCS#12 (0600) with the key and the CA chain that openssl opens with the password', async () => {
    const dir = folder()
    fs.writeFileSync(path.join(dir, 'p12.txt'), 'export pass\n')
    await cli(['certs', 'create', 'gw', '--ca', 'RootCA', '--subject', '/CN=gw', '--usage', 'client', '--key-type', 'ec-p256'], dir)
    const r = await cli(['certs', 'export', 'gw', '--p12', 'gw.p12', '--password-file', 'p12.txt'], dir)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toBe('Wrote gw.p12 (0600): the key and 2 certificate(s).\n')
    noKeyMaterial(r)
    expect(mode(path.join(dir, 'gw.p12'))).toBe(0o600)
    const info = openssl(['pkcs12', '-info', '-in', 'gw.p12', '-passin', 'file:p12.txt', '-nodes'], dir)
    expect(info.code).toBe(0)
    expect(info.stdout).toContain('subject=CN = gw')
    expect(info.stdout).toContain('subject=CN = my-ca')
    expect(info.stdout).toContain('friendlyName: gw')
    expect(info.stdout).toContain('-----BEGIN PRIVATE KEY-----')
    expect(openssl(['pkcs12', '-info', '-in', 'gw.p12', '-passin', 'pass:wrong', '-noout'], dir).code).not.toBe(0)

    const again = await cli(['certs', 'export', 'gw', '--p12', 'gw.p12', '--password-file', 'p12.txt'], dir)
    expect(again.code).toBe(1)
    expect(again.stderr).toContain(`ALREADY_EXISTS: gw.p12 already exists.`)
    const noPassword = await cli(['certs', 'export', 'gw', '--p12', 'other.p12'], dir)
    expect(noPassword.code).toBe(2)
    expect(noPassword.stderr).toContain('Missing required flag --password-file.')
    expect(fs.existsSync(path.join(dir, 'other.p12'))).toBe(false)
  })
})

describe('bad input: a clear error, the exit code, and nothing written', () => {
  it('refuses each and leaves the folder and the store as they were', async () => {
    const dir = folder()
    await cli(['certs', 'create', 'gw', '--ca', 'RootCA', '--subject', '/CN=gw', '--usage', 'client'], dir)
    fs.writeFileSync(path.join(dir, 'garbage.pem'), '-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n')
    fs.writeFileSync(path.join(dir, 'text.pem'), 'hello\n')
    // A CSR whose subject was changed after signing.
    const csr = fs.readFileSync(path.join(dir, 'gw.csr'), 'utf8')
    const der = Buffer.from(csr.replace(/-----[^-]+-----|\s/g, ''), 'base64')
    der[der.indexOf(Buffer.from('gw')) + 1] = 'x'.charCodeAt(0)
    fs.writeFileSync(path.join(dir, 'tampered.csr'), `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`)
    const expiredCa = await makeCa('expired-ca', LAST_YEAR)
    writePair(dir, 'expired-ca', expiredCa)
    const soonCa = await makeCa('future-ca', {notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 9 * DAY)})
    writePair(dir, 'future-ca', soonCa)

    const create = (...extra: string[]) => ['certs', 'create', 'new', '--subject', '/CN=new', ...extra]
    const cases: Array<[string[], number, string]> = [
      // A bad flag value is a usage error (exit 2), with the engine's message (issue 11, item 13).
      [create('--ca', 'RootCA', '--san', 'DNS:ok.example.com,bogus'), 2, 'ERROR: (mtlsctl.certs.create) Invalid SAN "bogus": the type must be DNS, IP, EMAIL or URI.\n'],
      [create('--ca', 'RootCA', '--san', 'FOO:bar'), 2, 'ERROR: (mtlsctl.certs.create) Invalid SAN "FOO:bar": the type must be DNS, IP, EMAIL or URI.\n'],
      [create('--ca', 'RootCA', '--san', 'IP:999.1.1.1'), 2, 'ERROR: (mtlsctl.certs.create) Invalid SAN "IP:999.1.1.1": not an IPv4 or IPv6 address.\n'],
      [['certs', 'create', 'new', '--ca', 'RootCA', '--subject', '/CN=new/=x'], 2, 'ERROR: (mtlsctl.certs.create) Invalid subject "/CN=new/=x": "=x" is not TYPE=value.\n'],
      [['certs', 'create', 'new', '--ca', 'RootCA', '--subject', 'CN=x'], 2, 'ERROR: (mtlsctl.certs.create) Invalid subject "CN=x": it must start with "/" and hold at least one TYPE=value.\n'],
      [create('--ca', 'RootCA', '--days', '0'), 2, 'ERROR: (mtlsctl.certs.create) Invalid --days 0: a certificate must be valid for at least 1 day.\n'],
      [create('--ca', 'RootCA', '--days', '-5'), 2, 'ERROR: (mtlsctl.certs.create) Invalid --days -5: a certificate must be valid for at least 1 day.\n'],
      [create('--ca', 'RootCA', '--days', 'ten'), 2, 'ERROR: (mtlsctl.certs.create) Invalid --days "ten": give a whole number of days.\n'],
      [create('--ca', 'RootCA', '--serial', 'zz'), 2, 'ERROR: (mtlsctl.certs.create) Invalid serial "zz": use hexadecimal digits, e.g. 01 or 5f:3a:9c.\n'],
      [create('--ca', 'NoSuchCA'), 1, 'NOT_FOUND: CA "NoSuchCA" not found.'],
      [create('--ca-cert', 'garbage.pem', '--ca-key', 'RootCA.key'), 1, 'INVALID_ARGUMENT: garbage.pem holds a malformed PEM CERTIFICATE block (bad base64).'],
      [create('--ca-cert', 'text.pem', '--ca-key', 'RootCA.key'), 1, 'INVALID_ARGUMENT: text.pem holds no PEM certificate ("-----BEGIN CERTIFICATE-----").'],
      [create('--ca-cert', 'RootCA.pem', '--ca-key', 'text.pem'), 1, 'INVALID_ARGUMENT: text.pem holds no PEM private key'],
      [create('--ca-cert', 'RootCA.pem', '--ca-key', 'gw.key'), 1, 'INVALID_ARGUMENT: The CA key gw.key does not match the CA certificate RootCA.pem (key values mismatch).'],
      [create('--ca-cert', 'missing.pem', '--ca-key', 'RootCA.key'), 1, 'INVALID_ARGUMENT: Cannot read the certificate file missing.pem (--ca-cert): no such file.'],
      [create('--ca-cert', '/dev/zero', '--ca-key', 'RootCA.key'), 1, 'ERROR: (mtlsctl.certs.create) INVALID_ARGUMENT: Cannot read the certificate file /dev/zero (--ca-cert): it is not a regular file (a device, socket or other special file).\n'],
      [create('--ca-cert', 'RootCA.pem', '--ca-key', '/dev/zero'), 1, 'ERROR: (mtlsctl.certs.create) INVALID_ARGUMENT: Cannot read the key file /dev/zero (--ca-key): it is not a regular file (a device, socket or other special file).\n'],
      [create('--ca-cert', 'gw.pem', '--ca-key', 'gw.key'), 1, 'INVALID_ARGUMENT: gw.pem is not a CA certificate (basicConstraints CA:FALSE): it cannot sign certificates.'],
      [create('--ca-cert', 'expired-ca.pem', '--ca-key', 'expired-ca.key'), 1, 'FAILED_PRECONDITION: The CA certificate expired-ca.pem (CN=expired-ca) has expired: it was valid until '],
      [create('--ca-cert', 'future-ca.pem', '--ca-key', 'future-ca.key'), 1, 'FAILED_PRECONDITION: The CA certificate future-ca.pem is not valid yet'],
      [create('--ca-key', 'RootCA.key'), 2, 'All of the following must be provided when using --ca-key: --ca-cert'],
      [create('--ca', 'RootCA', '--ca-cert', 'RootCA.pem'), 2, '--ca-cert=RootCA.pem cannot also be provided when using --ca'],
      [create(), 2, 'Missing required flag --ca.'],
      [['certs', 'create', 'gw', '--ca', 'RootCA', '--subject', '/CN=gw'], 1, `ALREADY_EXISTS: ${path.join(dir, 'gw.key')} already exists.`],
      [['certs', 'sign', 'tampered.csr', '--ca', 'RootCA', '--out', 'new.pem'], 1, 'INVALID_ARGUMENT: The signature of the certificate request tampered.csr does not verify: it was altered or not signed by its own key.'],
      [['certs', 'sign', 'gw.pem', '--ca', 'RootCA', '--out', 'new.pem'], 1, 'INVALID_ARGUMENT: gw.pem holds no PEM certificate request'],
      [['certs', 'sign', 'gw.csr', '--ca', 'RootCA', '--out', 'new.pem', '--days', '0'], 2, 'ERROR: (mtlsctl.certs.sign) Invalid --days 0: a certificate must be valid for at least 1 day.\n'],
      [['certs', 'sign', '/dev/zero', '--ca', 'RootCA', '--out', 'new.pem'], 1, 'ERROR: (mtlsctl.certs.sign) INVALID_ARGUMENT: Cannot read the certificate request file /dev/zero: it is not a regular file (a device, socket or other special file).\n'],
      [['certs', 'verify', 'gw.pem', '--ca', 'RootCA', '--key', '/dev/zero'], 1, 'ERROR: (mtlsctl.certs.verify) INVALID_ARGUMENT: Cannot read the key file /dev/zero (--key): it is not a regular file (a device, socket or other special file).\n'],
      [['certs', 'export', 'gw', '--p12', 'new.p12', '--password-file', '/dev/zero'], 1, 'ERROR: (mtlsctl.certs.export) INVALID_ARGUMENT: Cannot read the password file /dev/zero (--password-file): it is not a regular file (a device, socket or other special file).\n'],
      [['certs', 'sign', 'gw.csr', '--ca-cert', 'gw.pem', '--ca-key', 'gw.key', '--out', 'new.pem'], 1, 'is not a CA certificate'],
      [['certs', 'sign', 'gw.csr', '--ca', 'RootCA', '--out', 'gw.pem'], 1, 'ALREADY_EXISTS: gw.pem already exists.'],
      [['certs', 'describe', 'garbage.pem'], 1, 'INVALID_ARGUMENT: garbage.pem holds a malformed PEM CERTIFICATE block (bad base64).'],
      [['certs', 'export', 'gw', '--p12', 'new.p12', '--password-file', 'missing.txt'], 1, 'INVALID_ARGUMENT: Cannot read the password file missing.txt (--password-file): no such file.'],
    ]
    const before = snapshot(root)
    for (const [args, code, message] of cases) {
      const r = await cli(args, dir)
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(code)
      expect(r.stdout, args.join(' ')).toBe('')
      expect(r.stderr, args.join(' ')).toContain(message)
      noKeyMaterial(r)
      expect(snapshot(root), args.join(' ')).toEqual(before)
    }
  }, 180_000)
})
