import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {rmTemp, runCli, tempDir} from '../helpers/cli.js'
import {type OpensslServer, startOpensslServer} from '../helpers/openssl.js'
import {openssl} from '../helpers/pki.js'
import {closedPort, expiredServer, makeProbePki, nginxPath, plainListener, startNginx} from '../helpers/probe-peers.js'

/**
 * `certs probe` against real servers: openssl s_server in each client-certificate mode, an
 * expired certificate, a certificate for another name, TLS 1.3 only, a plain TCP listener, a
 * closed port, and Debian's nginx with `ssl_verify_client on`. Every report and exit code is
 * asserted whole; the chain block is computed from openssl's reading of the certificate.
 */
let dir: string
let home: string
beforeAll(async () => {
  dir = tempDir('mtlsctl-probe-')
  home = path.join(dir, 'state')
  makeProbePki(dir)
  await expiredServer(dir, 'expired')
}, 60_000)
afterAll(() => rmTemp(dir))

const probe = (args: string[]) => runCli(['certs', 'probe', ...args], {home, cwd: dir})

const notAfter = (file: string) => new Date(openssl(['x509', '-in', file, '-noout', '-enddate'], dir).trim().replace('notAfter=', '')).toISOString()

/** The chain block, from openssl's own reading of each certificate file. */
function chainBlock(files: string[]): string {
  return `Chain presented:    ${files.length} certificate${files.length === 1 ? '' : 's'}\n` + files.map((file, i) => certBlock(file, i)).join('')
}

function certBlock(file: string, i: number): string {
  const field = (flag: string) => openssl(['x509', '-in', file, '-noout', flag], dir).trim()
  const subject = field('-subject').replace(/^subject=\s*/, '').replaceAll(' = ', '=')
  const issuer = field('-issuer').replace(/^issuer=\s*/, '').replaceAll(' = ', '=')
  const notBefore = new Date(field('-startdate').replace('notBefore=', '')).toISOString()
  const notAfter = new Date(field('-enddate').replace('notAfter=', '')).toISOString()
  const sanText = openssl(['x509', '-in', file, '-noout', '-ext', 'subjectAltName'], dir)
  const sans = sanText.split('\n')[1]?.trim() || '(none)'
  const fingerprint = field('-fingerprint').replace(/^.*Fingerprint=/, '')
  const sha256 = openssl(['x509', '-in', file, '-noout', '-fingerprint', '-sha256'], dir).trim().replace(/^.*Fingerprint=/, '')
  expect(fingerprint).not.toBe('')
  const days = Math.floor((Date.parse(notAfter) - Date.now()) / 86_400_000)
  const left = days >= 0 ? `${days} day${days === 1 ? '' : 's'} left` : `expired ${-days} day${days === -1 ? '' : 's'} ago`
  return (
    `  [${i}] Subject:      ${subject}\n` +
    `      Issuer:       ${issuer}\n` +
    `      SANs:         ${sans}\n` +
    `      Valid:        ${notBefore} to ${notAfter} (${left})\n` +
    `      Key:          RSA Public Key, 2048 bits\n` +
    `      SHA-256:      ${sha256}\n`
  )
}

function report(port: number, lines: {cert?: string | string[]; tls?: string; verification?: string; client?: string; given?: string; result: string}): string {
  let text = `Target:             127.0.0.1:${port} (server name localhost)\nReachable:          yes\n`
  text += `TLS:                ${lines.tls ?? 'TLSv1.3, TLS_AES_256_GCM_SHA384'}\n`
  if (lines.cert) text += chainBlock(Array.isArray(lines.cert) ? lines.cert : [lines.cert])
  if (lines.verification) text += `Verification:       ${lines.verification}\n`
  if (lines.client) text += `Client certificate: ${lines.client}\n`
  if (lines.given) text += `  given:            ${lines.given}\n`
  return text + `Result:             ${lines.result}\n`
}

const SENT_WITH_CA = ['my_server.pem', 'RootCA.pem']
const TRUSTED = 'trusted (RootCA.pem, host name localhost)'
const REQUIRED = 'required by the server (without one: alert "certificate required")'
const withCa = (port: number) => [`127.0.0.1:${port}`, '--servername', 'localhost', '--ca', 'RootCA.pem']
const gateway = ['--cert', 'my_gateway.pem', '--key', 'my_gateway.key']
const rogue = ['--cert', 'rogue.pem', '--key', 'rogue.key']

async function withServer(args: string[], fn: (s: OpensslServer) => Promise<void>): Promise<void> {
  const server = await startOpensslServer(args, dir)
  try {
    await fn(server)
  } finally {
    await server.stop()
  }
}

const serverArgs = (cert = 'my_server') => ['-cert', `${cert}.pem`, '-key', `${cert}.key`, '-naccept', '4']

describe('certs probe against openssl s_server', () => {
  it('no client certificate requested: OK, exit 0; a certificate given is not offered', async () => {
    await withServer(serverArgs(), async ({port}) => {
      const r = await probe([...withCa(port), ...gateway])
      expect(r.stderr).toBe('')
      expect(r.stdout).toBe(report(port, {cert: 'my_server.pem', verification: TRUSTED, client: 'not requested by the server', given: 'CN=gateway: not offered (the server does not ask for one)', result: 'OK'}))
      expect(r.code).toBe(0)
    })
  })

  it('-verify 1: requested, optional: OK without one, exit 0', async () => {
    await withServer([...serverArgs(), '-verify', '1', '-CAfile', 'RootCA.pem'], async ({port}) => {
      const r = await probe(withCa(port))
      // s_server sends its chain as built from -CAfile: the server certificate, then RootCA.
      expect(r.stdout).toBe(report(port, {cert: SENT_WITH_CA, verification: TRUSTED, client: 'requested by the server, not required', result: 'OK'}))
      expect(r.code).toBe(0)
    })
  })

  it('-Verify 1 -verify_return_error: required; none given: exit 13 with the alert', async () => {
    await withServer([...serverArgs(), '-Verify', '1', '-verify_return_error', '-CAfile', 'RootCA.pem'], async ({port}) => {
      const r = await probe(withCa(port))
      expect(r.stdout).toBe(
        report(port, {cert: SENT_WITH_CA, verification: TRUSTED, client: REQUIRED, result: 'CLIENT CERTIFICATE REFUSED: the server requires a client certificate and none was given (alert "certificate required")'}),
      )
      expect(r.code).toBe(13)
    })
  })

  it('required, the right client certificate: accepted, exit 0', async () => {
    await withServer([...serverArgs(), '-Verify', '1', '-verify_return_error', '-CAfile', 'RootCA.pem'], async ({port}) => {
      const r = await probe([...withCa(port), ...gateway])
      expect(r.stdout).toBe(report(port, {cert: SENT_WITH_CA, verification: TRUSTED, client: REQUIRED, given: 'CN=gateway: accepted', result: 'OK'}))
      expect(r.code).toBe(0)
    })
  })

  it("required, a certificate of another CA: refused with the server's alert, exit 13; --format json says the same", async () => {
    await withServer([...serverArgs(), '-Verify', '1', '-verify_return_error', '-CAfile', 'RootCA.pem'], async ({port}) => {
      const r = await probe([...withCa(port), ...rogue])
      expect(r.stdout).toBe(
        report(port, {cert: SENT_WITH_CA, verification: TRUSTED, client: REQUIRED, given: 'CN=rogue: REFUSED: alert "unknown ca"', result: 'CLIENT CERTIFICATE REFUSED: the server refused the client certificate: alert "unknown ca"'}),
      )
      expect(r.code).toBe(13)
      const j = await probe([...withCa(port), ...rogue, '--format', 'json'])
      expect(j.code).toBe(13)
      const parsed = JSON.parse(j.stdout)
      expect(parsed.clientCertificate).toEqual({server: 'required', withoutOne: 'alert "certificate required"', given: 'CN=rogue', accepted: false, refusal: 'alert "unknown ca"'})
      expect(parsed.outcome).toBe('client-certificate-refused')
      expect(parsed.chain[0].sha256Fingerprint).toBe(openssl(['x509', '-in', 'my_server.pem', '-noout', '-fingerprint', '-sha256'], dir).trim().replace(/^.*Fingerprint=/, ''))
    })
  })

  it('an expired server certificate: verification failed, exit 12', async () => {
    await withServer(serverArgs('expired'), async ({port}) => {
      const r = await probe(withCa(port))
      expect(r.stdout).toBe(
        report(port, {
          cert: 'expired.pem',
          verification: `FAILED against RootCA.pem: certificate has expired (notAfter ${notAfter('expired.pem')})`,
          client: 'not requested by the server',
          result: `VERIFICATION FAILED: the server certificate did not verify against RootCA.pem: certificate has expired (notAfter ${notAfter('expired.pem')})`,
        }),
      )
      expect(r.code).toBe(12)
    })
  })

  it('a server for another host name: verification failed (hostname mismatch), exit 12', async () => {
    await withServer(serverArgs('other_host'), async ({port}) => {
      const r = await probe(withCa(port))
      expect(r.stdout).toBe(
        report(port, {
          cert: 'other_host.pem',
          verification: 'FAILED against RootCA.pem: hostname mismatch: localhost is not in the SANs (DNS:other.example.com)',
          client: 'not requested by the server',
          result: 'VERIFICATION FAILED: the server certificate did not verify against RootCA.pem: hostname mismatch: localhost is not in the SANs (DNS:other.example.com)',
        }),
      )
      expect(r.code).toBe(12)
    })
  })

  it('TLS 1.3 only against --tls 1.2: TLS failure with the alert, exit 11', async () => {
    await withServer([...serverArgs(), '-tls1_3'], async ({port}) => {
      const r = await probe([...withCa(port), '--tls', '1.2'])
      expect(r.stdout).toBe(
        `Target:             127.0.0.1:${port} (server name localhost)\nReachable:          yes\nTLS:                yes (handshake refused)\n` +
          'Client certificate: unknown\nResult:             TLS FAILURE: the server refused the handshake: alert "protocol version"\n',
      )
      expect(r.code).toBe(11)
    })
  })
})

describe('certs probe against what is not a TLS server', () => {
  it('a plain TCP listener: not TLS, exit 11', async () => {
    const plain = await plainListener()
    try {
      const r = await probe([`127.0.0.1:${plain.port}`, '--timeout', '5s'])
      expect(r.stdout).toBe(`Target:             127.0.0.1:${plain.port}\nReachable:          yes\nTLS:                no\nResult:             NOT TLS: the server does not speak TLS (ERR_SSL_WRONG_VERSION_NUMBER)\n`)
      expect(r.code).toBe(11)
    } finally {
      await plain.close()
    }
  })

  it('a closed port: unreachable, exit 10', async () => {
    const port = await closedPort()
    const r = await probe([`127.0.0.1:${port}`])
    expect(r.stdout).toBe(`Target:             127.0.0.1:${port}\nReachable:          no\nResult:             UNREACHABLE: connection refused\n`)
    expect(r.code).toBe(10)
  })
})

describe.skipIf(!nginxPath())('certs probe against Debian nginx with ssl_verify_client on (the seed article backend)', () => {
  it('completes the handshake and answers 400: the report says the certificate is required; the gateway certificate is accepted', async () => {
    const nginx = await startNginx(dir, path.join(dir, 'my_server.pem'), path.join(dir, 'my_server.key'), path.join(dir, 'RootCA.pem'))
    try {
      // Debian's nginx before 1.23.4 offers TLS 1.2 by default, later ones 1.3: whichever it chose is reported.
      const none = await probe(withCa(nginx.port))
      const tls = /^TLS: {16}(TLSv1\.[23], TLS_\w+)$/m.exec(none.stdout)?.[1]
      expect(tls).toBeDefined()
      expect(none.stdout).toBe(
        report(nginx.port, {
          tls,
          cert: 'my_server.pem',
          verification: TRUSTED,
          client: 'required by the server (without one: HTTP 400 "No required SSL certificate was sent")',
          result: 'CLIENT CERTIFICATE REFUSED: the server requires a client certificate and none was given (HTTP 400 "No required SSL certificate was sent")',
        }),
      )
      expect(none.code).toBe(13)
      const good = await probe([...withCa(nginx.port), ...gateway])
      expect(good.stdout).toBe(
        report(nginx.port, {tls, cert: 'my_server.pem', verification: TRUSTED, client: 'required by the server (without one: HTTP 400 "No required SSL certificate was sent")', given: 'CN=gateway: accepted', result: 'OK'}),
      )
      expect(good.code).toBe(0)
      const bad = await probe([...withCa(nginx.port), ...rogue])
      expect(bad.stdout).toContain('  given:            CN=rogue: REFUSED: HTTP 400 "The SSL certificate error"\n')
      expect(bad.code).toBe(13)
    } finally {
      await nginx.stop()
    }
  })
})

it('keeps key material out of every output', async () => {
  const port = await closedPort()
  const r = await probe([`127.0.0.1:${port}`, ...gateway])
  expect(r.stdout + r.stderr).not.toMatch(/PRIVATE KEY|MII[A-Za-z0-9+/]{20}/)
  expect(fs.existsSync(path.join(dir, 'my_gateway.key'))).toBe(true)
})

describe("certs probe with the current backend's keystores (the seed's Step 2 names)", () => {
  it('--keystore mtls_keystore --alias mtls_alias --truststore mtls_truststore: accepted; a certificate-only alias is refused as a client identity', async () => {
    const where = ['--organization', 'myorg', '--environment', 'dev']
    const setup = [
      ['environments', 'create', 'dev', '--organization', 'myorg'],
      ['keystores', 'create', 'mtls_keystore', ...where],
      ['aliases', 'add', 'mtls_alias', '--keystore', 'mtls_keystore', '--cert-file', 'my_gateway.pem', '--key-file', 'my_gateway.key', ...where],
      ['keystores', 'create', 'mtls_truststore', ...where],
      ['aliases', 'add', 'mtls_ca', '--keystore', 'mtls_truststore', '--cert-file', 'RootCA.pem', ...where],
    ]
    for (const args of setup) expect((await runCli(args, {home, cwd: dir})).code).toBe(0)
    await withServer([...serverArgs(), '-Verify', '1', '-verify_return_error', '-CAfile', 'RootCA.pem'], async ({port}) => {
      const r = await probe([`127.0.0.1:${port}`, '--servername', 'localhost', '--truststore', 'mtls_truststore', '--keystore', 'mtls_keystore', '--alias', 'mtls_alias', ...where])
      expect(r.stdout).toBe(
        report(port, {cert: SENT_WITH_CA, verification: 'trusted (truststore mtls_truststore, host name localhost)', client: REQUIRED, given: 'CN=gateway: accepted', result: 'OK'}),
      )
      expect(r.code).toBe(0)
      const certOnly = await probe([`127.0.0.1:${port}`, '--keystore', 'mtls_truststore', '--alias', 'mtls_ca', ...where])
      expect(certOnly.stderr).toBe(
        'ERROR: (mtlsctl.certs.probe) FAILED_PRECONDITION: Alias "organizations/myorg/environments/dev/keystores/mtls_truststore/aliases/mtls_ca" holds no private key: a client certificate needs a key and certificate alias.\n',
      )
      expect(certOnly.code).toBe(1)
    })
  })

  it('--cert with another certificate\'s --key is refused before any connection, naming both files', async () => {
    const r = await probe(['127.0.0.1:1', '--cert', 'my_gateway.pem', '--key', 'rogue.key'])
    expect(r.stderr).toBe(
      'ERROR: (mtlsctl.certs.probe) INVALID_ARGUMENT: The key rogue.key does not match the certificate my_gateway.pem (key values mismatch).\nGive --key the private key of the certificate in --cert.\n',
    )
    expect(r.code).toBe(1)
  })
})
