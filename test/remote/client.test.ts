import {execFile} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {readSource, zipArchive} from '../../src/core/archives/source.js'
import {createEnvironment} from '../../src/core/environments.js'
import {MtlsError} from '../../src/core/errors.js'
import {openStore} from '../../src/core/store/index.js'
import {type ApiServer} from '../../src/emulator/index.js'
import {ApigeeHttpClient, type HttpClientOptions, type RetryInfo} from '../../src/remote/client.js'
import type {Credentials} from '../../src/remote/credentials.js'
import {request, startServer} from '../helpers/api.js'
import {makeCa, makeCert} from '../helpers/ca.js'
import {ROOT, rmTemp, tempDir} from '../helpers/cli.js'
import {startFaultProxy, type FaultProxy} from '../helpers/faults.js'
import {freePort} from '../helpers/ports.js'

/**
 * The remote-mode HTTP client against real peers: the emulator (its v1 API, its token check,
 * its upload URLs), behind a loopback proxy that injects faults and records what it saw.
 */
const TOKEN = 'emulator-token-4f1c2a9b7d'
const ENV = 'organizations/myorg/environments/dev'
let dir: string
let emulator: ApiServer
let faults: FaultProxy
let zip: Buffer
const clients: ApigeeHttpClient[] = []

const fixed = (token: string, source = 'MTLSCTL_ACCESS_TOKEN'): Credentials => ({source, refreshable: false, token: async () => token})

/** A client of the fault proxy (proxy variables ignored unless given), retrying fast. */
function client(options: Partial<HttpClientOptions> = {}): ApigeeHttpClient {
  const c = new ApigeeHttpClient({endpoint: faults.url, credentials: fixed(TOKEN), retryBaseMs: 5, env: {}, ...options})
  clients.push(c)
  return c
}

async function rejection(promise: Promise<unknown>): Promise<MtlsError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(MtlsError)
  return error as MtlsError
}

beforeAll(async () => {
  dir = tempDir()
  const root = path.join(dir, 'state')
  await createEnvironment(openStore(root), 'myorg', 'dev')
  zip = await zipArchive(readSource(path.join(ROOT, 'examples/archives/valid/src')))
  emulator = await startServer(root, {token: TOKEN})
  faults = await startFaultProxy(emulator.url)
})
beforeEach(() => {
  faults.seen.length = 0
  faults.connects.length = 0
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})
afterAll(async () => {
  await faults?.close()
  await emulator?.close()
  rmTemp(dir)
})

describe('calls', () => {
  it('lists and creates keystores; ALREADY_EXISTS keeps the server status and words', async () => {
    const c = client()
    expect(await c.call({method: 'GET', path: `${ENV}/keystores`})).toEqual([])
    expect(await c.call({method: 'POST', path: `${ENV}/keystores`, json: {name: 'ks1'}})).toMatchObject({name: 'ks1'})
    expect(await c.call({method: 'GET', path: `${ENV}/keystores`})).toEqual(['ks1'])

    const error = await rejection(c.call({method: 'POST', path: `${ENV}/keystores`, json: {name: 'ks1'}}))
    const raw = await request(emulator.url, 'POST', `/v1/${ENV}/keystores`, {headers: {authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json'}, body: JSON.stringify({name: 'ks1'})})
    expect(raw.status).toBe(409)
    expect(error.status).toBe('ALREADY_EXISTS')
    expect(error.message).toBe(raw.json().error.message)
    expect(error.message).toContain('ks1')
    // One POST: a create is never sent twice.
    expect(faults.requests('POST')).toHaveLength(2)
  })

  it('creates a keycertfile alias from multipart parts (certFile, keyFile, password) and reads its certificate as text', async () => {
    const c = client()
    await c.call({method: 'POST', path: `${ENV}/keystores`, json: {name: 'mtls_keystore'}})
    const ca = await makeCa('client-test-ca')
    const leaf = await makeCert(ca, 'gateway', {usage: 'client'})
    const encryptedKey = leaf.privateKey.export({type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'p4ss-w0rd'}) as string
    const alias = await c.call<Record<string, any>>({
      method: 'POST',
      path: `${ENV}/keystores/mtls_keystore/aliases`,
      query: {alias: 'gw', format: 'keycertfile', ignoreExpiryValidation: undefined},
      form: [
        {name: 'certFile', value: Buffer.from(leaf.pem), filename: 'gw.pem'},
        {name: 'keyFile', value: Buffer.from(encryptedKey), filename: 'gw.key'},
        {name: 'password', value: 'p4ss-w0rd'},
      ],
    })
    expect(alias).toMatchObject({alias: 'gw', type: 'KEY_CERT', certsInfo: {certInfo: [{subject: 'CN=gateway', issuer: 'CN=client-test-ca'}]}})
    const [post] = faults.requests('POST', `/v1/${ENV}/keystores/mtls_keystore/aliases`)
    expect(post.path).toBe(`/v1/${ENV}/keystores/mtls_keystore/aliases?alias=gw&format=keycertfile`)
    expect(post.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/)

    const pem = await c.call<string>({method: 'GET', path: `${ENV}/keystores/mtls_keystore/aliases/gw/certificate`, accept: 'text'})
    expect(pem).toContain('-----BEGIN CERTIFICATE-----')
    expect(await c.call({method: 'GET', path: `${ENV}/keystores/mtls_keystore/aliases`})).toEqual(['gw'])
  })

  it('a wrong password is the server\'s INVALID_ARGUMENT; the password is not in the error', async () => {
    const c = client()
    await c.call({method: 'POST', path: `${ENV}/keystores`, json: {name: 'pw_keystore'}})
    const ca = await makeCa('pw-ca')
    const leaf = await makeCert(ca, 'pw', {usage: 'client'})
    const key = leaf.privateKey.export({type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'right-password'}) as string
    const form = (password: string) => [
      {name: 'certFile', value: Buffer.from(leaf.pem), filename: 'pw.pem'},
      {name: 'keyFile', value: Buffer.from(key), filename: 'pw.key'},
      {name: 'password', value: password},
    ]
    const error = await rejection(c.call({method: 'POST', path: `${ENV}/keystores/pw_keystore/aliases`, query: {alias: 'a', format: 'keycertfile'}, form: form('wrong-password-123')}))
    expect(error.status).toBe('INVALID_ARGUMENT')
    expect(`${error.message} ${error.hint}`).not.toContain('wrong-password-123')
    expect(`${error.message} ${error.hint}`).not.toContain('BEGIN')
  })
})

describe('retries', () => {
  it('a GET answered 503 once is sent again and succeeds; a POST is not', async () => {
    const retries: RetryInfo[] = []
    const c = client({onRetry: (info) => retries.push(info)})
    faults.once({status: 503}, {method: 'GET'})
    expect(await c.call({method: 'GET', path: `${ENV}/keystores`})).toEqual(expect.any(Array))
    expect(faults.requests('GET', `/v1/${ENV}/keystores`)).toHaveLength(2)
    expect(retries).toEqual([{method: 'GET', path: `${ENV}/keystores`, attempt: 1, reason: 'HTTP 503 (UNAVAILABLE)', delayMs: expect.any(Number)}])
    expect(retries[0].delayMs).toBeLessThan(5)

    faults.once({status: 503}, {method: 'POST'})
    const error = await rejection(c.call({method: 'POST', path: `${ENV}/keystores`, json: {name: 'never'}}))
    expect(error.status).toBe('UNAVAILABLE')
    expect(error.message).toBe('Injected HTTP 503.')
    expect(faults.requests('POST')).toHaveLength(1)
    expect(retries).toHaveLength(1)
    expect(await rejection(c.call({method: 'GET', path: `${ENV}/keystores/never`}))).toMatchObject({status: 'NOT_FOUND'})
  })

  it('429 with Retry-After: 0 is retried at once', async () => {
    const retries: RetryInfo[] = []
    // A base so large that only Retry-After can explain a prompt retry.
    const c = client({onRetry: (info) => retries.push(info), retryBaseMs: 60_000})
    faults.once({status: 429, headers: {'retry-after': '0'}}, {method: 'GET'})
    expect(await c.call({method: 'GET', path: `${ENV}/keystores`})).toEqual(expect.any(Array))
    expect(retries).toEqual([expect.objectContaining({reason: 'HTTP 429 (RESOURCE_EXHAUSTED)', delayMs: 0})])
    expect(faults.requests('GET')).toHaveLength(2)
  })

  it('gives up after `retries` attempts with the last answer', async () => {
    const retries: RetryInfo[] = []
    const c = client({onRetry: (info) => retries.push(info), retries: 2})
    for (let i = 0; i < 3; i++) faults.once({status: 502, body: '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>'}, {method: 'GET'})
    const error = await rejection(c.call({method: 'GET', path: `${ENV}/keystores`, query: {secret: 'query-value'}}))
    expect(retries.map((r) => r.attempt)).toEqual([1, 2])
    expect(faults.requests('GET')).toHaveLength(3)
    expect(error.status).toBe('UNAVAILABLE')
    expect(error.message).toBe(`HTTP 502 from ${faults.url}v1/${ENV}/keystores: 502 Bad Gateway`)
    expect(error.hint).toContain('--api-endpoint')
  })

  it('a connection reset on a GET is retried; on a POST it is an error', async () => {
    const retries: RetryInfo[] = []
    const c = client({onRetry: (info) => retries.push(info)})
    faults.once({reset: true}, {method: 'GET'})
    expect(await c.call({method: 'GET', path: `${ENV}/keystores`})).toEqual(expect.any(Array))
    expect(faults.requests('GET')).toHaveLength(2)
    expect(retries).toHaveLength(1)
    expect(retries[0].reason).toBe('the connection was reset')

    faults.once({reset: true}, {method: 'POST'})
    const error = await rejection(c.call({method: 'POST', path: `${ENV}/keystores`, json: {name: 'reset'}}))
    expect(error.status).toBe('UNAVAILABLE')
    expect(error.message).toBe(`The connection to the Apigee API at ${faults.url.replace(/\/$/, '')} failed: the connection was reset (POST ${ENV}/keystores).`)
    expect(faults.requests('POST')).toHaveLength(1)
    expect(retries).toHaveLength(1)
  })

  it('a retried multipart request sends its parts again (a call marked idempotent)', async () => {
    const retries: RetryInfo[] = []
    const c = client({onRetry: (info) => retries.push(info)})
    await c.call({method: 'POST', path: `${ENV}/keystores`, json: {name: 'trust'}})
    const ca = await makeCa('retried-ca')
    faults.once({status: 503}, {method: 'POST', path: `/v1/${ENV}/keystores/trust/aliases`})
    const alias = await c.call<Record<string, any>>({
      method: 'POST',
      path: `${ENV}/keystores/trust/aliases`,
      query: {alias: 'root', format: 'keycertfile'},
      form: [{name: 'certFile', value: Buffer.from(ca.pem), filename: 'ca.pem'}],
      idempotent: true,
    })
    expect(alias).toMatchObject({alias: 'root', type: 'CERT', certsInfo: {certInfo: [{subject: 'CN=retried-ca'}]}})
    const posts = faults.requests('POST', `/v1/${ENV}/keystores/trust/aliases`)
    expect(posts).toHaveLength(2)
    expect(posts[0].headers['content-length']).toBe(posts[1].headers['content-length'])
    expect(retries).toHaveLength(1)
  })
})

describe('timeouts and unreachable endpoints', () => {
  it('an answer slower than responseTimeoutMs is DEADLINE_EXCEEDED, not retried', async () => {
    const c = client({responseTimeoutMs: 200})
    faults.once({delayMs: 2000}, {method: 'GET'})
    const started = Date.now()
    const error = await rejection(c.call({method: 'GET', path: `${ENV}/keystores`}))
    expect(Date.now() - started).toBeLessThan(1500)
    expect(error.status).toBe('DEADLINE_EXCEEDED')
    expect(error.message).toBe(`The Apigee API at ${faults.url.replace(/\/$/, '')} did not answer within 200 ms (GET ${ENV}/keystores).`)
    expect(error.hint).toContain('--api-endpoint')
    expect(faults.requests('GET')).toHaveLength(1)
    // The client still works: the next answer is not slow.
    expect(await c.call({method: 'GET', path: `${ENV}/keystores`})).toEqual(expect.any(Array))
  })

  it('connection refused is UNAVAILABLE after the retries of an idempotent call, at once for a POST', async () => {
    const port = await freePort()
    const retries: RetryInfo[] = []
    const c = client({endpoint: `http://127.0.0.1:${port}`, retryBaseMs: 5, onRetry: (info) => retries.push(info)})
    expect(c.endpoint).toBe(`http://127.0.0.1:${port}/`)
    const started = Date.now()
    const error = await rejection(c.call({method: 'GET', path: `${ENV}/keystores`}))
    expect(Date.now() - started).toBeLessThan(2000)
    expect(error.status).toBe('UNAVAILABLE')
    expect(error.message).toBe(`Cannot reach the Apigee API at http://127.0.0.1:${port}: connection refused.`)
    expect(error.hint).toContain('mtlsctl emulator start')
    expect(error.hint).toContain('Gave up after 5 attempts')
    expect(retries.map((r) => [r.attempt, r.reason])).toEqual([1, 2, 3, 4].map((n) => [n, 'connection refused']))

    const post = await rejection(c.call({method: 'POST', path: `${ENV}/keystores`, json: {name: 'x'}}))
    expect(post.message).toBe(error.message)
    expect(retries).toHaveLength(4)
  })

  it('an endpoint without a scheme is INVALID_ARGUMENT', () => {
    expect(() => new ApigeeHttpClient({endpoint: 'ftp://example.com/', credentials: fixed(TOKEN)})).toThrow(/the scheme must be https or http/)
  })
})

describe('credentials', () => {
  it('a 401 with refreshable credentials refreshes the token once and repeats the request', async () => {
    let refreshes = 0
    let current = 'stale-token-0000'
    const credentials: Credentials = {
      source: 'test ADC',
      refreshable: true,
      async token(refresh) {
        if (refresh) {
          refreshes++
          current = TOKEN
        }
        return current
      },
    }
    const c = client({credentials})
    // A POST too: a 401 means nothing was done.
    expect(await c.call({method: 'POST', path: `${ENV}/keystores`, json: {name: 'after401'}})).toMatchObject({name: 'after401'})
    expect(refreshes).toBe(1)
    const posts = faults.requests('POST')
    expect(posts.map((r) => r.headers.authorization)).toEqual(['Bearer stale-token-0000', `Bearer ${TOKEN}`])
  })

  it('a 401 with credentials that cannot refresh is UNAUTHENTICATED naming the source, never the token', async () => {
    const secret = 'ya29.not-the-right-token-f00'
    const c = client({credentials: fixed(secret, '--access-token-file tok.txt')})
    const error = await rejection(c.call({method: 'GET', path: `${ENV}/keystores`}))
    expect(error.status).toBe('UNAUTHENTICATED')
    expect(error.message).toContain('Request had invalid authentication credentials.')
    expect(error.hint).toContain('--access-token-file tok.txt')
    expect(error.hint).toContain('gcloud auth application-default login')
    expect(`${error.message}\n${error.hint}\n${error.stack}`).not.toContain(secret)
    expect(faults.requests('GET')).toHaveLength(1)
  })

  it('a refreshed token refused again is UNAUTHENTICATED after one refresh', async () => {
    let refreshes = 0
    const c = client({credentials: {source: 'gcloud', refreshable: true, token: async (refresh) => (refresh ? (refreshes++, 'new-but-wrong-1') : 'old-and-wrong-1')}})
    const error = await rejection(c.call({method: 'GET', path: `${ENV}/keystores`}))
    expect(refreshes).toBe(1)
    expect(error.status).toBe('UNAUTHENTICATED')
    expect(error.hint).toContain('refreshed once')
    expect(faults.requests('GET')).toHaveLength(2)
  })

  it('a token the server echoes is redacted from the error', async () => {
    const c = client()
    faults.once({status: 400, body: JSON.stringify({error: {code: 400, message: `Bad header: Bearer ${TOKEN}`, status: 'INVALID_ARGUMENT'}})})
    const error = await rejection(c.call({method: 'GET', path: `${ENV}/keystores`}))
    expect(error.message).toBe('Bad header: Bearer [REDACTED]')
  })

  it('403 "API has not been used in project" hints at --billing-project', async () => {
    const c = client()
    faults.once({status: 403, body: JSON.stringify({error: {code: 403, message: 'Apigee API has not been used in project 764086051850 before or it is disabled.', status: 'PERMISSION_DENIED'}})})
    const error = await rejection(c.call({method: 'GET', path: `${ENV}/keystores`}))
    expect(error.status).toBe('PERMISSION_DENIED')
    expect(error.hint).toContain('--billing-project')
  })
})

describe('answers and errors', () => {
  it("details' violations become lines; unknown statuses come from the HTTP code", async () => {
    const c = client()
    faults.once({
      status: 400,
      body: JSON.stringify({
        error: {
          code: 400,
          message: 'bundle contains errors',
          status: 'FAILED_PRECONDITION',
          details: [
            {'@type': 'type.googleapis.com/edge.configstore.bundle.BadBundle', violations: [{filename: 'src/main/apigee/environments/dev/deployments.json', description: 'unknown proxy "nope"'}]},
            {'@type': 'type.googleapis.com/google.rpc.PreconditionFailure', violations: [{type: 'KEYSTORE', subject: 'mtls_keystore', description: 'has no alias'}]},
          ],
        },
      }),
    })
    const error = await rejection(c.call({method: 'POST', path: `${ENV}/archiveDeployments`, json: {}}))
    expect(error.status).toBe('FAILED_PRECONDITION')
    expect(error.message).toBe('bundle contains errors\n  - src/main/apigee/environments/dev/deployments.json: unknown proxy "nope"\n  - mtls_keystore: has no alias')

    faults.once({status: 409, body: JSON.stringify({error: {code: 409, message: 'conflict', status: 'SOMETHING_NEW'}})})
    expect(await rejection(c.call({method: 'GET', path: `${ENV}/keystores`}))).toMatchObject({status: 'ALREADY_EXISTS', message: 'conflict'})
  })

  it('a 2xx answer that is not JSON is INTERNAL, clipped', async () => {
    const c = client()
    faults.once({status: 200, body: `<html><body>Please log in to the corporate portal${' .'.repeat(5000)}</body></html>`})
    const error = await rejection(c.call({method: 'GET', path: `${ENV}/keystores`}))
    expect(error.status).toBe('INTERNAL')
    expect(error.message).toMatch(/^The Apigee API at http:\/\/127\.0\.0\.1:\d+ answered with something that is not JSON \(GET organizations\/myorg\/environments\/dev\/keystores, HTTP 200, text\/plain\): <html><body>Please log in/)
    expect(error.message.length).toBeLessThan(400)
  })

  it('an empty answer is {}', async () => {
    const c = client()
    faults.once({status: 200, body: ''})
    expect(await c.call({method: 'DELETE', path: `${ENV}/keystores/none`})).toEqual({})
  })

  it('close() ends the client: later calls fail, closing twice is fine', async () => {
    const c = client()
    await c.call({method: 'GET', path: `${ENV}/keystores`})
    await c.close()
    await c.close()
    expect(await rejection(c.call({method: 'GET', path: `${ENV}/keystores`}))).toMatchObject({status: 'FAILED_PRECONDITION'})
  })
})

describe('headers and archive uploads', () => {
  it('sends User-Agent, x-goog-user-project, accept and the bearer token', async () => {
    const c = client({userAgent: 'mtlsctl/9.9.9', userProject: 'billing-proj'})
    await c.call({method: 'GET', path: `${ENV}/keystores`})
    expect(faults.seen[0].headers).toMatchObject({'user-agent': 'mtlsctl/9.9.9', 'x-goog-user-project': 'billing-proj', accept: 'application/json', authorization: `Bearer ${TOKEN}`})
  })

  it("uploads a zip to the emulator's upload URL without the token, with GCS's headers, and deploys it", async () => {
    const c = client({userAgent: 'mtlsctl/9.9.9'})
    const {uploadUri} = await c.call<{uploadUri: string}>({method: 'POST', path: `${ENV}/archiveDeployments:generateUploadUrl`})
    // The emulator names its upload URL after the Host it was asked on: the fault proxy.
    expect(uploadUri.startsWith(`${faults.url}upload/`)).toBe(true)
    await c.uploadArchive(uploadUri, zip)
    const [put] = faults.requests('PUT', '/upload/')
    expect(put.headers.authorization).toBeUndefined()
    expect(put.headers).toMatchObject({'content-type': 'application/zip', 'x-goog-content-length-range': '0,1073741824', 'user-agent': 'mtlsctl/9.9.9', 'content-length': String(zip.length)})
    const operation = await c.call<Record<string, any>>({method: 'POST', path: `${ENV}/archiveDeployments`, json: {gcs_uri: uploadUri}})
    expect(operation.name).toMatch(/^organizations\/myorg\/operations\//)
  })

  it('a failed upload names the archive upload and its HTTP status, never the query of the URL; a 503 is retried', async () => {
    const c = client()
    const signed = `${faults.url}upload/${'0'.repeat(32)}.zip?X-Goog-Signature=abcdef0123456789secret&X-Goog-Expires=3600`
    const error = await rejection(c.uploadArchive(signed, zip))
    expect(error.status).toBe('NOT_FOUND')
    expect(error.message).toMatch(new RegExp(`^The archive upload to ${faults.url}upload/0{32}\\.zip failed: HTTP 404: `))
    expect(`${error.message}\n${error.hint}`).not.toMatch(/X-Goog|abcdef0123456789secret/)

    const retries: RetryInfo[] = []
    const retrying = client({onRetry: (info) => retries.push(info)})
    const {uploadUri} = await retrying.call<{uploadUri: string}>({method: 'POST', path: `${ENV}/archiveDeployments:generateUploadUrl`})
    faults.once({status: 503}, {method: 'PUT'})
    await retrying.uploadArchive(`${uploadUri}?X-Goog-Signature=abc`, zip)
    expect(retries).toEqual([expect.objectContaining({method: 'PUT', path: 'upload', reason: 'HTTP 503 (UNAVAILABLE)'})])
  })
})

describe('proxies', () => {
  it('HTTP_PROXY carries an http:// endpoint (an absolute-form request, as http-proxy-agent sends it), unless NO_PROXY names the host', async () => {
    const proxy = await startFaultProxy(emulator.url)
    try {
      const port = new URL(emulator.url).port
      const through = client({endpoint: emulator.url, env: {HTTP_PROXY: proxy.url}})
      expect(await through.call({method: 'GET', path: `${ENV}/keystores`})).toEqual(expect.any(Array))
      expect(proxy.connects).toEqual([])
      expect(proxy.seen).toEqual([expect.objectContaining({method: 'GET', path: `/v1/${ENV}/keystores`, headers: expect.objectContaining({host: `127.0.0.1:${port}`})})])

      const bypass = client({endpoint: emulator.url, env: {HTTP_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1'}})
      expect(await bypass.call({method: 'GET', path: `${ENV}/keystores`})).toEqual(expect.any(Array))
      // HTTPS_PROXY is for https:// endpoints only.
      const httpsOnly = client({endpoint: emulator.url, env: {HTTPS_PROXY: proxy.url}})
      expect(await httpsOnly.call({method: 'GET', path: `${ENV}/keystores`})).toEqual(expect.any(Array))
      expect(proxy.connects).toEqual([])
      expect(proxy.seen).toHaveLength(1)
    } finally {
      await proxy.close()
    }
  })

  it('a proxy that cannot be reached is named in the hint', async () => {
    const port = await freePort()
    const c = client({endpoint: emulator.url, env: {http_proxy: `127.0.0.1:${port}`}, retries: 0})
    const error = await rejection(c.call({method: 'GET', path: `${ENV}/keystores`}))
    expect(error.status).toBe('UNAVAILABLE')
    expect(error.message).toContain('connection refused')
    expect(error.hint).toContain(`the proxy http://127.0.0.1:${port} it goes through (http_proxy; add 127.0.0.1 to NO_PROXY to bypass it)`)
  })

  it('HTTPS through HTTPS_PROXY, trusting the CA of NODE_EXTRA_CA_CERTS (a process of its own)', async () => {
    const ca = await makeCa('extra-ca')
    const serverCert = await makeCert(ca, 'localhost', {usage: 'server', sans: 'DNS:localhost,IP:127.0.0.1'})
    const caFile = path.join(dir, 'extra-ca.pem')
    fs.writeFileSync(caFile, ca.pem)
    const front = await startFaultProxy(emulator.url, {tls: {cert: serverCert.pem, key: serverCert.privateKey.export({type: 'pkcs8', format: 'pem'}) as string}})
    const proxy = await startFaultProxy(emulator.url)
    const run = (env: Record<string, string>) =>
      new Promise<{code: number; stdout: string; stderr: string}>((resolve) => {
        const {NODE_EXTRA_CA_CERTS: _, HTTP_PROXY: _1, HTTPS_PROXY: _2, http_proxy: _3, https_proxy: _4, NO_PROXY: _5, no_proxy: _6, ...base} = process.env
        execFile(process.execPath, ['--import', 'tsx', '--no-warnings', path.join(ROOT, 'test/fixtures/remote-client.ts'), `${ENV}/keystores`], {cwd: ROOT, env: {...base, TOKEN, ...env}}, (error, stdout, stderr) =>
          resolve({code: error ? Number((error as {code?: number}).code ?? 1) : 0, stdout, stderr}),
        )
      })
    try {
      const endpoint = `https://localhost:${front.port}/`
      const trusted = await run({ENDPOINT: endpoint, NODE_EXTRA_CA_CERTS: caFile, HTTPS_PROXY: proxy.url})
      expect(trusted.stderr).toBe('')
      expect(JSON.parse(trusted.stdout)).toEqual(expect.any(Array))
      expect(proxy.connects).toEqual([`localhost:${front.port}`])
      expect(front.requests('GET', `/v1/${ENV}/keystores`)).toHaveLength(1)

      const untrusted = await run({ENDPOINT: endpoint})
      expect(untrusted.code).toBe(1)
      expect(untrusted.stderr).toMatch(new RegExp(`^UNAVAILABLE: Cannot reach the Apigee API at https://localhost:${front.port} securely: its TLS certificate did not verify`))
      expect(untrusted.stderr).toContain('NODE_EXTRA_CA_CERTS')
    } finally {
      await front.close()
      await proxy.close()
    }
  })
})
