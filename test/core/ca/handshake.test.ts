import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {connectHandshakeClient, runHandshake, startHandshakeServer, type TlsIdentity} from '../../../src/core/ca/index.js'
import {rmTemp, tempDir} from '../../helpers/cli.js'
import {LAST_YEAR, makeCa, makeCert, type TestCa, type TestCert, writePair} from '../../helpers/ca.js'
import {opensslAsync, type OpensslServer, startOpensslServer} from '../../helpers/openssl.js'

let dir: string
let ca: TestCa
let server: TestCert
let client: TestCert
let expiredClient: TestCert
let foreignClient: TestCert

const identity = (c: TestCert): TlsIdentity => ({certificate: c.pem, privateKey: c.privateKey})

beforeAll(async () => {
  dir = tempDir()
  ca = await makeCa('hs-ca', {keyType: 'rsa-2048'})
  server = await makeCert(ca, 'localhost', {usage: 'server', sans: 'DNS:localhost,IP:127.0.0.1', keyType: 'rsa-2048'})
  client = await makeCert(ca, 'gateway', {usage: 'client', keyType: 'rsa-2048'})
  expiredClient = await makeCert(ca, 'expired-gateway', {usage: 'client', ...LAST_YEAR})
  foreignClient = await makeCert(await makeCa('other-ca'), 'foreign-gateway', {usage: 'client'})
  fs.writeFileSync(path.join(dir, 'ca.pem'), ca.pem)
  writePair(dir, 'server', server)
  writePair(dir, 'client', client)
  writePair(dir, 'expired', expiredClient)
  writePair(dir, 'foreign', foreignClient)
})
afterAll(() => rmTemp(dir))

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => 'succeeded',
    (e: Error & {status?: string}) => `${e.status}: ${e.message}`,
  )

describe('runHandshake (both sides in Node)', () => {
  it('succeeds for a matching set and reports the protocol and both subjects', async () => {
    const result = await runHandshake({ca: ca.pem, server: identity(server), client: identity(client), hostname: 'localhost'})
    expect(result).toMatchObject({protocol: 'TLSv1.3', hostname: 'localhost', server: {subject: 'CN=localhost'}, client: {subject: 'CN=gateway'}})
    expect(result.address).toMatch(/^127\.0\.0\.1:\d+$/)
    const ec = await makeCert(ca, 'ec-gateway', {usage: 'client', keyType: 'ec-p256'})
    expect((await runHandshake({ca: ca.pem, server: identity(server), client: identity(ec)})).client.subject).toBe('CN=ec-gateway')
  })

  it('names why it fails: expired, other CA, no client certificate, wrong purpose, host name', async () => {
    const run = (c: TestCert | undefined, hostname?: string) =>
      failure(runHandshake({ca: ca.pem, server: identity(server), client: c && identity(c), hostname}))
    expect(await run(expiredClient)).toBe(
      'FAILED_PRECONDITION: TLS handshake failed: CERTIFICATE_VERIFY_FAILED: the server rejected the client certificate: certificate has expired.',
    )
    expect(await run(foreignClient)).toBe(
      'FAILED_PRECONDITION: TLS handshake failed: CERTIFICATE_VERIFY_FAILED: the server rejected the client certificate: unable to verify the first certificate.',
    )
    expect(await run(undefined)).toBe('FAILED_PRECONDITION: TLS handshake failed: certificate required: the client sent no certificate.')
    expect(await run(server)).toBe(
      'FAILED_PRECONDITION: TLS handshake failed: CERTIFICATE_VERIFY_FAILED: the server rejected the client certificate: unsupported certificate purpose.',
    )
    expect(await run(client, 'backend.example.com')).toMatch(
      /^FAILED_PRECONDITION: TLS handshake failed: CERTIFICATE_VERIFY_FAILED: the client rejected the server certificate: hostname mismatch/,
    )
  })
})

describe('against openssl s_server -Verify 1', () => {
  let sServer: OpensslServer
  beforeAll(async () => {
    // -Verify 1 requires a client certificate; -verify_return_error makes a bad one fatal
    // (without it s_server logs the error and carries on); -www answers GET / .
    sServer = await startOpensslServer(['-cert', 'server.pem', '-key', 'server.key', '-CAfile', 'ca.pem', '-Verify', '1', '-verify_return_error', '-www'], dir)
  })
  afterAll(() => sServer.stop())

  const connect = (c?: TestCert) => connectHandshakeClient({port: sServer.port, ca: ca.pem, identity: c && identity(c), hostname: 'localhost'})

  it('an mtlsctl client certificate completes the handshake and gets an answer', async () => {
    const outcome = await connect(client)
    expect(outcome).toMatchObject({ok: true, protocol: 'TLSv1.3', serverSubject: 'CN=localhost', reply: 'HTTP/1.0 200 ok'})
  })

  it('an expired client certificate, one from another CA, and none at all fail with the named reason', async () => {
    expect(await connect(expiredClient)).toMatchObject({
      ok: false,
      error: 'CERTIFICATE_VERIFY_FAILED: the server rejected the client certificate: certificate has expired (TLS alert)',
    })
    expect(await connect(foreignClient)).toMatchObject({
      ok: false,
      error: 'CERTIFICATE_VERIFY_FAILED: the server rejected the client certificate: unknown ca (TLS alert)',
    })
    expect(await connect(undefined)).toMatchObject({
      ok: false,
      error: 'certificate required: the server requires a client certificate and none was accepted',
    })
  })
})

describe('openssl s_client against the mtlsctl server (the mirror)', () => {
  const sClient = async (args: string[]) => {
    const hs = await startHandshakeServer({ca: ca.pem, identity: identity(server)})
    try {
      const run = await opensslAsync(
        ['s_client', '-connect', `127.0.0.1:${hs.port}`, '-CAfile', 'ca.pem', '-verify_return_error', '-verify_hostname', 'localhost', '-ign_eof', ...args],
        dir,
        'GET / HTTP/1.0\r\n\r\n',
      )
      return {run, outcome: await hs.firstOutcome}
    } finally {
      await hs.close()
    }
  }

  it('succeeds with an mtlsctl client certificate', async () => {
    const {run, outcome} = await sClient(['-cert', 'client.pem', '-key', 'client.key'])
    expect(run.stdout).toContain('Verify return code: 0 (ok)')
    expect(run.stdout).toContain('HTTP/1.1 200 OK')
    expect(outcome).toMatchObject({ok: true, clientSubject: 'CN=gateway', protocol: 'TLSv1.3'})
  })

  it('refuses expired, foreign and missing client certificates with the named reason', async () => {
    const expired = await sClient(['-cert', 'expired.pem', '-key', 'expired.key'])
    expect(expired.outcome).toMatchObject({ok: false, error: 'CERTIFICATE_VERIFY_FAILED: the server rejected the client certificate: certificate has expired'})
    expect(expired.run.stdout).not.toContain('200 OK')
    const foreign = await sClient(['-cert', 'foreign.pem', '-key', 'foreign.key'])
    expect(foreign.outcome).toMatchObject({
      ok: false,
      error: 'CERTIFICATE_VERIFY_FAILED: the server rejected the client certificate: unable to verify the first certificate',
    })
    const none = await sClient([])
    expect(none.outcome).toMatchObject({ok: false, error: 'certificate required: the client sent no certificate'})
    // TLS 1.3: the client's side of the handshake "succeeded" before the server judged it.
    expect(none.run.stdout).toContain('Verify return code: 0 (ok)')
    expect(none.run.stdout).not.toContain('200 OK')
  })
})
