import * as path from 'node:path'
import * as tls from 'node:tls'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {addAlias, deleteAlias} from '../../../src/core/aliases.js'
import {encodePrivateKey} from '../../../src/core/ca/keys.js'
import {createEnvironment} from '../../../src/core/environments.js'
import {createKeystore} from '../../../src/core/keystores.js'
import {createReference} from '../../../src/core/references.js'
import {boringSslReason, commonNameMatches, protocolRange, targetTls, type UpstreamTls} from '../../../src/core/runtime/index.js'
import {FileStore} from '../../../src/core/store/index.js'
import {makeCa, makeCert, type TestCa, type TestCert} from '../../helpers/ca.js'
import {rmTemp, tempDir} from '../../helpers/cli.js'

let dir: string
let store: FileStore
let ca: TestCa
let server: TestCert
let gateway: TestCert

beforeAll(async () => {
  dir = tempDir()
  store = new FileStore(path.join(dir, 'state'))
  ca = await makeCa('RootCA')
  server = await makeCert(ca, 'backend.internal', {usage: 'server', sans: 'DNS:backend.internal,IP:127.0.0.1'})
  gateway = await makeCert(ca, 'gateway', {usage: 'client'})
  await createEnvironment(store, 'myorg', 'dev')
  await createKeystore(store, 'myorg', 'dev', 'ks')
  await createKeystore(store, 'myorg', 'dev', 'ts')
  await addAlias(store, 'myorg', 'dev', 'ks', 'gw', {format: 'keycertfile', cert: Buffer.from(gateway.pem), certFile: 'g.pem', key: Buffer.from(encodePrivateKey(gateway.privateKey)), keyFile: 'g.key'})
  await addAlias(store, 'myorg', 'dev', 'ts', 'root', {format: 'keycertfile', cert: Buffer.from(ca.pem), certFile: 'ca.pem'})
  await createReference(store, 'myorg', 'dev', 'ksref', {refers: 'ks', resourceType: 'KeyStore'})
})
afterAll(() => rmTemp(dir))

/** One handshake of the built options against a Node TLS server that requires a client certificate of ca. */
function handshake(up: UpstreamTls): Promise<{ok: true; clientCn: string} | {ok: false; error: Error}> {
  return new Promise((resolve) => {
    let clientCn = ''
    const srv = tls.createServer({cert: server.pem, key: encodePrivateKey(server.privateKey), ca: ca.pem, requestCert: true, rejectUnauthorized: true}, (s) => {
      clientCn = String(s.getPeerCertificate().subject?.CN ?? '')
      s.end('ok')
    })
    srv.listen(0, '127.0.0.1', () => {
      const {port} = srv.address() as {port: number}
      const socket = tls.connect({...up.options, host: '127.0.0.1', port})
      socket.on('data', () => {})
      socket.on('end', () => {
        srv.close()
        resolve({ok: true, clientCn})
      })
      socket.on('error', (error) => {
        srv.close()
        resolve({ok: false, error})
      })
    })
  })
}

describe('southbound TLS from sSLInfo', () => {
  it('protocols: ["1.2"] is 1.2 only; ["1.2", "TLSv1.3"] a range', () => {
    expect(protocolRange(['1.2'])).toEqual({minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', unknown: []})
    expect(protocolRange(['TLSv1.3', '1.2'])).toEqual({minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', unknown: []})
    expect(protocolRange(undefined)).toEqual({unknown: []})
  })

  it('commonName: exact, or one wildcard label with wildcardMatch', () => {
    expect(commonNameMatches({value: 'backend.internal', wildcardMatch: false}, 'BACKEND.internal')).toBe(true)
    expect(commonNameMatches({value: '*.internal', wildcardMatch: false}, 'backend.internal')).toBe(false)
    expect(commonNameMatches({value: '*.example.com', wildcardMatch: true}, 'api.example.com')).toBe(true)
    expect(commonNameMatches({value: '*.example.com', wildcardMatch: true}, 'a.b.example.com')).toBe(false)
  })

  it('the key alias (through ref://) is the client certificate, the truststore verifies the backend: a real handshake', async () => {
    const built = await targetTls(store, 'myorg', 'dev', '127.0.0.1', {enabled: true, clientAuthEnabled: true, keyStore: 'ref://ksref', keyAlias: 'gw', trustStore: 'ts', protocols: ['1.2']})
    expect('tls' in built).toBe(true)
    const up = (built as {tls: UpstreamTls}).tls
    expect(up.options.servername).toBeUndefined() // No SNI for an IP address.
    expect(await handshake(up)).toEqual({ok: true, clientCn: 'gateway'})
  })

  it('commonName that does not match the backend: CERTIFICATE_VERIFY_FAILED; ignoreValidationErrors skips the check', async () => {
    const ssl = {enabled: true, clientAuthEnabled: true, keyStore: 'ks', keyAlias: 'gw', trustStore: 'ts', commonName: {value: 'someone.else', wildcardMatch: false}}
    const strict = ((await targetTls(store, 'myorg', 'dev', '127.0.0.1', ssl)) as {tls: UpstreamTls}).tls
    const result = await handshake(strict)
    expect(result.ok).toBe(false)
    expect(boringSslReason((result as {error: Error}).error)?.name).toBe('CERTIFICATE_VERIFY_FAILED')
    const lax = ((await targetTls(store, 'myorg', 'dev', '127.0.0.1', {...ssl, trustStore: undefined, ignoreValidationErrors: true})) as {tls: UpstreamTls}).tls
    expect(lax.options.rejectUnauthorized).toBe(false)
    expect(strict.fingerprint).not.toBe(lax.fingerprint)
  })

  it('SNI is the host name; a deleted alias or a missing reference is a problem, not an exception', async () => {
    const named = await targetTls(store, 'myorg', 'dev', 'backend.internal', {enabled: true, trustStore: 'ts'})
    expect((named as {tls: UpstreamTls}).tls.options.servername).toBe('backend.internal')
    expect(await targetTls(store, 'myorg', 'dev', 'h', {enabled: true, clientAuthEnabled: true, keyStore: 'ref://nope', keyAlias: 'gw'})).toEqual({problem: 'reference "ref://nope" not found'})
    await addAlias(store, 'myorg', 'dev', 'ks', 'doomed', {format: 'keycertfile', cert: Buffer.from(gateway.pem), certFile: 'g.pem', key: Buffer.from(encodePrivateKey(gateway.privateKey)), keyFile: 'g.key'})
    const ssl = {enabled: true, clientAuthEnabled: true, keyStore: 'ks', keyAlias: 'doomed'}
    expect('tls' in (await targetTls(store, 'myorg', 'dev', 'h', ssl))).toBe(true)
    await deleteAlias(store, 'myorg', 'dev', 'ks', 'doomed')
    expect(await targetTls(store, 'myorg', 'dev', 'h', ssl)).toEqual({problem: 'alias "organizations/myorg/environments/dev/keystores/ks/aliases/doomed" (the client certificate) not found'})
  })
})
