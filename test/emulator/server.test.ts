import * as fs from 'node:fs'
import * as net from 'node:net'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type ApiServer} from '../../src/emulator/index.js'
import {createEnvironment} from '../../src/core/environments.js'
import {createKeystore} from '../../src/core/keystores.js'
import {FileStore} from '../../src/core/store/index.js'
import {request, json, startServer} from '../helpers/api.js'
import {rmTemp, tempDir} from '../helpers/cli.js'
import {snapshot} from '../helpers/pki.js'

let dir: string
let root: string
let server: ApiServer
let secured: ApiServer
const ORG = '/v1/organizations/myorg'
const ENV = `${ORG}/environments/dev`

beforeAll(async () => {
  dir = tempDir()
  root = path.join(dir, 'state')
  const store = new FileStore(root)
  await createEnvironment(store, 'myorg', 'dev')
  await createKeystore(store, 'myorg', 'dev', 'ks')
  server = await startServer(root, {limits: {archive: 64 * 1024}})
  secured = await startServer(root, {token: 's3cret-token'})
})
afterAll(async () => {
  await server.close()
  await secured.close()
  rmTemp(dir)
})

/** A Google-shaped error with the given HTTP status and google.rpc status name. */
function expectGoogleError(r: {status: number; headers: Record<string, unknown>; json: () => any}, code: number, status: string): string {
  expect(r.status).toBe(code)
  expect(String(r.headers['content-type'])).toMatch(/^application\/json/)
  const body = r.json()
  expect(Object.keys(body)).toEqual(['error'])
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'status'])
  expect(body.error).toMatchObject({code, status})
  expect(body.error.message.length).toBeGreaterThan(10)
  return body.error.message
}

async function stillServing(): Promise<void> {
  const r = await request(server.url, 'GET', `${ENV}/keystores/ks`)
  expect(r.status).toBe(200)
  expect(r.json()).toEqual({name: 'ks', aliases: []})
}

describe('API server: bad requests are 4xx in Google\'s shape and the server stays up', () => {
  it('malformed JSON, a JSON array, a wrong content type', async () => {
    let r = await request(server.url, 'POST', `${ENV}/keystores`, {headers: {'content-type': 'application/json'}, body: '{"name": "x",'})
    expect(expectGoogleError(r, 400, 'INVALID_ARGUMENT')).toMatch(/^Invalid JSON payload received\. /)
    r = await request(server.url, 'POST', `${ENV}/keystores`, {headers: {'content-type': 'application/json'}, body: '["x"]'})
    expectGoogleError(r, 400, 'INVALID_ARGUMENT')
    r = await request(server.url, 'POST', `${ENV}/keystores`, {headers: {'content-type': 'text/plain'}, body: '{"name": "x"}'})
    expect(expectGoogleError(r, 415, 'INVALID_ARGUMENT')).toBe('Invalid Content-Type "text/plain": this method takes application/json.')
    r = await request(server.url, 'POST', `${ENV}/keystores/ks/aliases?alias=a&format=keycertfile`, json({certFile: 'x'}))
    expect(expectGoogleError(r, 415, 'INVALID_ARGUMENT')).toContain('multipart/form-data')
    r = await request(server.url, 'POST', `${ENV}/keystores/ks/aliases?alias=a&format=keycertfile`, {headers: {'content-type': 'multipart/form-data'}, body: 'x'})
    expect(expectGoogleError(r, 400, 'INVALID_ARGUMENT')).toMatch(/^Invalid multipart body: /)
    await stillServing()
  })

  it('bodies over the limit: declared (Content-Length) and streamed (chunked)', async () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 'a')
    let r = await request(server.url, 'POST', `${ENV}/keystores`, {headers: {'content-type': 'application/json'}, body: big})
    expect(expectGoogleError(r, 413, 'INVALID_ARGUMENT')).toBe('Request payload size exceeds the limit: 1048576 bytes.')
    r = await request(server.url, 'POST', `${ENV}/keystores`, {headers: {'content-type': 'application/json', 'transfer-encoding': 'chunked'}, body: big})
    expectGoogleError(r, 413, 'INVALID_ARGUMENT')
    // Archive uploads have their own limit (64 KiB in this server, 1 GiB by default).
    const upload = (await request(server.url, 'POST', `${ENV}/archiveDeployments:generateUploadUrl`)).json().uploadUri as string
    r = await request(server.url, 'PUT', new URL(upload).pathname, {headers: {'content-type': 'application/zip'}, body: Buffer.alloc(64 * 1024 + 1)})
    expect(expectGoogleError(r, 413, 'INVALID_ARGUMENT')).toBe('Request payload size exceeds the limit: 65536 bytes.')
    r = await request(server.url, 'PUT', new URL(upload).pathname, {headers: {'content-type': 'text/plain'}, body: 'x'})
    expectGoogleError(r, 415, 'INVALID_ARGUMENT')
    await stillServing()
  })

  it('unknown paths and methods', async () => {
    expectGoogleError(await request(server.url, 'GET', '/'), 404, 'NOT_FOUND')
    expectGoogleError(await request(server.url, 'GET', '/v2/organizations/myorg'), 404, 'NOT_FOUND')
    expectGoogleError(await request(server.url, 'GET', `${ENV}/nonsense`), 404, 'NOT_FOUND')
    const r = await request(server.url, 'PATCH', `${ENV}/keystores/ks`)
    expect(expectGoogleError(r, 404, 'NOT_FOUND')).toBe(`Method not found: PATCH ${ENV}/keystores/ks (allowed: GET, DELETE).`)
    expect(r.headers.allow).toBe('GET, DELETE')
    expectGoogleError(await request(server.url, 'PUT', '/upload/0123456789abcdef0123456789abcdef.zip', {headers: {'content-type': 'application/zip'}, body: 'PK'}), 404, 'NOT_FOUND')
    await stillServing()
  })

  it('resource names that would leave the state folder', async () => {
    const outside = path.join(dir, 'escaped')
    const before = snapshot(root)
    const cases: Array<[string, string, ReturnType<typeof json> | undefined]> = [
      ['GET', '/v1/organizations/..%2F..%2Fescaped/environments', undefined],
      ['GET', `${ORG}/environments/..`, undefined],
      ['GET', `${ENV}/keystores/..%2F..%2F..%2F..%2Fescaped`, undefined],
      ['GET', `${ENV}/keystores/%2e%2e`, undefined],
      ['POST', `${ENV}/keystores`, json({name: '../../../../escaped'})],
      ['POST', `${ENV}/keystores?name=..`, undefined],
      ['POST', `${ENV}/references`, json({name: '../x', refers: 'ks', resourceType: 'KeyStore'})],
      ['POST', `${ENV}/keystores/ks/aliases?alias=..%2F..%2Fx&format=selfsignedcert`, json({subject: {commonName: 'x'}})],
      ['DELETE', `${ENV}/keystores/ks%2F..%2F..%2F..`, undefined],
      ['GET', `${ORG}/operations/..%2F..%2Fenvironments`, undefined],
      ['GET', `${ENV}/archiveDeployments/..`, undefined],
      ['GET', `${ENV}/keystores/%E0%A4%A`, undefined],
    ]
    for (const [method, p, body] of cases) {
      const r = await request(server.url, method, p, body ?? {})
      expect(r.status, `${method} ${p}`).toBe(400)
      expectGoogleError(r, 400, 'INVALID_ARGUMENT')
    }
    // A raw `..` segment changes the path's shape: no route matches it.
    expectGoogleError(await request(server.url, 'GET', `${ENV}/keystores/ks/../../../../../etc`), 404, 'NOT_FOUND')
    expect(fs.existsSync(outside)).toBe(false)
    expect(snapshot(root)).toEqual(before)
    await stillServing()
  })

  it('bytes that are not HTTP get a 400 and only that connection closes', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(server.port, '127.0.0.1', () => socket.write('HELLO \x00\x01 nonsense\r\n\r\n'))
      let data = ''
      socket.on('data', (d) => (data += d))
      socket.on('end', () => resolve(data))
      socket.on('error', reject)
    })
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/)
    expect(JSON.parse(answer.split('\r\n\r\n')[1])).toMatchObject({error: {code: 400, status: 'INVALID_ARGUMENT'}})
    await stillServing()
  })

  it('engine errors map by their google.rpc status', async () => {
    expect(expectGoogleError(await request(server.url, 'GET', `${ENV}/keystores/nope`), 404, 'NOT_FOUND')).toBe(
      'Keystore "organizations/myorg/environments/dev/keystores/nope" not found.',
    )
    expect(expectGoogleError(await request(server.url, 'POST', `${ENV}/keystores`, json({name: 'ks'})), 409, 'ALREADY_EXISTS')).toBe(
      'Keystore "organizations/myorg/environments/dev/keystores/ks" already exists.',
    )
    expectGoogleError(await request(server.url, 'GET', `${ORG}/environments/prod`), 404, 'NOT_FOUND')
    expectGoogleError(await request(server.url, 'GET', `${ORG}/operations/6b7dbb09-fa01-4cb1-8c3f-9393027b3d92`), 404, 'NOT_FOUND')
    expectGoogleError(await request(server.url, 'POST', `${ENV}/archiveDeployments`, json({gcs_uri: 'gs://bucket/x.zip'})), 400, 'INVALID_ARGUMENT')
    expectGoogleError(await request(server.url, 'POST', `${ENV}/archiveDeployments`, json({})), 400, 'INVALID_ARGUMENT')
  })
})

describe('API server: bearer token (--token-file)', () => {
  it('without the token: 401 UNAUTHENTICATED in Google\'s shape; with it: served', async () => {
    let r = await request(secured.url, 'GET', `${ENV}/keystores`)
    expect(expectGoogleError(r, 401, 'UNAUTHENTICATED')).toMatch(/^Request is missing required authentication credential\./)
    expect(r.headers['www-authenticate']).toBe('Bearer realm="https://accounts.google.com/"')
    r = await request(secured.url, 'GET', `${ENV}/keystores`, {headers: {authorization: 'Bearer wrong'}})
    expect(expectGoogleError(r, 401, 'UNAUTHENTICATED')).toMatch(/^Request had invalid authentication credentials\./)
    r = await request(secured.url, 'GET', `${ENV}/keystores`, {headers: {authorization: 'Bearer s3cret-token'}})
    expect(r.status).toBe(200)
    expect(r.json()).toEqual(['ks'])
  })

  it('the upload URL needs no token (gcloud sends none to a signed URL): the URL is the credential', async () => {
    const auth = {authorization: 'Bearer s3cret-token'}
    const {uploadUri} = (await request(secured.url, 'POST', `${ENV}/archiveDeployments:generateUploadUrl`, {headers: auth})).json()
    expect(uploadUri).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${secured.port}/upload/[0-9a-f]{32}\\.zip$`))
    const r = await request(secured.url, 'PUT', new URL(uploadUri).pathname, {headers: {'content-type': 'application/zip'}, body: 'not a zip'})
    expect(r.status).toBe(200)
  })
})
