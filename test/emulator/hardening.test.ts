import * as fs from 'node:fs'
import * as http from 'node:http'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {redact, type ApiServer} from '../../src/emulator/index.js'
import {createEnvironment} from '../../src/core/environments.js'
import {createKeystore} from '../../src/core/keystores.js'
import {FileStore} from '../../src/core/store/index.js'
import {json, request, startServer} from '../helpers/api.js'
import {rmTemp, tempDir} from '../helpers/cli.js'
import {openssl, seedCertsFolder} from '../helpers/pki.js'

/**
 * Issue 11's emulator items: secrets never reach the log (item 10), /emulator/status needs the
 * token (item 11), the API speaks API field names (item 15), bodies are refused as soon as they
 * pass their limit (item 4), and a 500 carries no path and no stack.
 */
let dir: string
let certs: string
let root: string
let server: ApiServer
let secured: ApiServer
const lines: string[] = []
const errors: string[] = []
const ENV = '/v1/organizations/myorg/environments/dev'
const SECRET = 'secretpw123'

beforeAll(async () => {
  dir = tempDir()
  certs = await seedCertsFolder(dir)
  openssl(['pkcs12', '-export', '-in', 'my_gateway.pem', '-inkey', 'my_gateway.key', '-passout', `pass:${SECRET}`, '-out', 'gateway.p12'], certs)
  root = path.join(dir, 'state')
  const store = new FileStore(root)
  await createEnvironment(store, 'myorg', 'dev')
  await createKeystore(store, 'myorg', 'dev', 'ks')
  await createKeystore(store, 'myorg', 'dev', 'broken')
  server = await startServer(root, {log: (line) => lines.push(line), onError: (line) => errors.push(line), limits: {archive: 64 * 1024}})
  secured = await startServer(root, {token: 's3cret-token'})
})
afterAll(async () => {
  await server.close()
  await secured.close()
  rmTemp(dir)
})

function googleError(r: {status: number; json: () => any}, code: number, status: string): string {
  expect(r.status).toBe(code)
  const body = r.json()
  expect(Object.keys(body)).toEqual(['error'])
  expect(body.error).toMatchObject({code, status})
  return body.error.message
}

describe('item 10: a password in the URL never reaches the log, however it is spelled', () => {
  it('pkcs12 with `%70assword=` (the server accepts it: the alias is made); the request log masks it', async () => {
    const form = new FormData()
    form.append('file', new Blob([fs.readFileSync(path.join(certs, 'gateway.p12'))]), 'gateway.p12')
    const res = await fetch(`${server.url.replace(/\/$/, '')}${ENV}/keystores/ks/aliases?alias=p12a&format=pkcs12&%70assword=${SECRET}`, {method: 'POST', body: form})
    expect(res.status, await res.clone().text()).toBe(200)
    expect(((await res.json()) as {alias: string}).alias).toBe('p12a')
    const line = lines.find((l) => l.includes('alias=p12a'))
    expect(line).toMatch(new RegExp(`^127\\.0\\.0\\.1 POST ${ENV}/keystores/ks/aliases\\?alias=p12a&format=pkcs12&%70assword=\\*\\*\\* 200 [\\d.]+ ms$`))
  })

  it('every other spelling: case, percent-encoded key or value, `+`, repeated keys, a key in a value, in the path', async () => {
    const spellings = [
      `?PASSWORD=${SECRET}`,
      `?pass%77ord=${SECRET}`,
      `?%50%61%73%73%77%6F%72%64=${SECRET}`,
      `?password=secret%70w123`,
      `?password=secret+pw123`,
      `?password=x&password=${SECRET}`,
      `?password&password=${SECRET}`,
      `?keyPassword=${SECRET}`,
      `?alias=a%26password%3D${SECRET}`,
    ]
    for (const query of spellings) expect((await request(server.url, 'GET', `${ENV}/keystores${query}`)).status).toBe(200)
    expect((await request(server.url, 'GET', `${ENV}/keystores/ks/aliases/password=${SECRET}`)).status).toBe(400)
    expect((await request(server.url, 'GET', `${ENV}/keystores/ks/aliases/pass%77ord%3D${SECRET}`)).status).toBe(400)
    expect(lines.length).toBeGreaterThanOrEqual(spellings.length + 2)
    for (const line of lines) expect(line).not.toMatch(/pw123|w123|%70w/)
    expect(redact(`/x?a=1&password=${SECRET}&b=2`)).toBe('/x?a=1&password=***&b=2')
    expect(redact(`/x?password=x&PassWord=${SECRET}`)).toBe('/x?password=***&PassWord=***')
    expect(redact('/v1/organizations/myorg/environments?pageSize=100')).toBe('/v1/organizations/myorg/environments?pageSize=100')
  })

  it('a 500: Google\'s shape with a generic message (no path, no stack); the error line in the log names the incident, redacted', async () => {
    // A file where the keystore's aliases folder belongs: the write fails as a full disk would.
    fs.mkdirSync(path.join(root, 'organizations/myorg/environments/dev/keystores/broken'), {recursive: true})
    fs.writeFileSync(path.join(root, 'organizations/myorg/environments/dev/keystores/broken/aliases'), '')
    errors.length = 0
    const r = await request(server.url, 'POST', `${ENV}/keystores/broken/aliases?alias=a&format=selfsignedcert&%70assword=${SECRET}`, json({subject: {commonName: 'a'}}))
    const message = googleError(r, 500, 'INTERNAL')
    const incident = /^Internal error: the emulator could not complete the request \(incident ([0-9a-f]{8}) in its log\)\.$/.exec(message)
    expect(incident, message).not.toBeNull()
    expect(r.text).not.toContain(root)
    expect(r.text).not.toMatch(/\bat \S+ \(|\.ts:\d+|node:internal/)
    expect(errors.length).toBe(1)
    expect(errors[0]).toMatch(new RegExp(`^incident ${incident![1]}: POST ${ENV}/keystores/broken/aliases\\?alias=a&format=selfsignedcert&%70assword=\\*\\*\\*: `))
    expect(errors[0]).not.toContain(SECRET)
    for (const line of lines) expect(line).not.toContain(SECRET)
  })
})

describe('item 11: /emulator/status needs the token when one is set', () => {
  it('without it 401 UNAUTHENTICATED (no pid, no folder); with another 401; with it the status', async () => {
    let r = await request(secured.url, 'GET', '/emulator/status')
    expect(googleError(r, 401, 'UNAUTHENTICATED')).toMatch(/^Request is missing required authentication credential\./)
    expect(r.text).not.toContain(root)
    expect(r.text).not.toContain(String(process.pid))
    r = await request(secured.url, 'GET', '/emulator/status', {headers: {authorization: 'Bearer wrong'}})
    expect(googleError(r, 401, 'UNAUTHENTICATED')).toMatch(/^Request had invalid authentication credentials\./)
    r = await request(secured.url, 'GET', '/emulator/status', {headers: {authorization: 'Bearer s3cret-token'}})
    expect(r.status).toBe(200)
    expect(r.json()).toMatchObject({pid: process.pid, stateFolder: root, runningDeployments: 0})
  })
})

describe('item 15: the API words its errors with its own field names', () => {
  it('selfsignedcert certValidityInDays and keySize out of range: the field, not a CLI flag', async () => {
    const self = (body: Record<string, unknown>) => request(server.url, 'POST', `${ENV}/keystores/ks/aliases?alias=self&format=selfsignedcert`, json({subject: {commonName: 'x'}, ...body}))
    let message = googleError(await self({certValidityInDays: 0}), 400, 'INVALID_ARGUMENT')
    expect(message).toBe("Invalid value at 'certValidityInDays' (0): a certificate must be valid for at least 1 day.")
    message = googleError(await self({certValidityInDays: '40000'}), 400, 'INVALID_ARGUMENT')
    expect(message).toBe("Invalid value at 'certValidityInDays' (40000): at most 36525 days (100 years).")
    message = googleError(await self({keySize: 1024}), 400, 'INVALID_ARGUMENT')
    expect(message).toBe("Invalid value at 'keySize' (1024): use 2048, 3072 or 4096.")
  })
})

/** Sends `first` and keeps the request open: the answer must come before the body ends. */
function answerWhileOpen(method: string, rawPath: string, headers: Record<string, string>, first: Buffer): Promise<{status: number; body: any}> {
  const {hostname, port} = new URL(server.url)
  return new Promise((resolve, reject) => {
    const req = http.request({hostname, port, method, path: rawPath, headers: {...headers, 'transfer-encoding': 'chunked'}}, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (d: string) => (text += d))
      res.on('end', () => {
        req.destroy()
        resolve({status: res.statusCode ?? 0, body: JSON.parse(text)})
      })
    })
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)))
    req.write(first)
    // Never ended: a server that waits for the end of the body never answers.
  })
}

describe('item 4: a body past its limit is refused as soon as it passes it, not when it ends', () => {
  it('JSON (1 MiB), multipart (4 MiB) and an archive upload (64 KiB here): 413 while the client is still sending', async () => {
    let r = await answerWhileOpen('POST', `${ENV}/keystores`, {'content-type': 'application/json'}, Buffer.alloc(1024 * 1024 + 10, 'a'))
    expect(r).toEqual({status: 413, body: {error: {code: 413, message: 'Request payload size exceeds the limit: 1048576 bytes.', status: 'INVALID_ARGUMENT'}}})
    const boundary = 'xyzBOUNDARY'
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="certFile"; filename="c.pem"\r\nContent-Type: application/octet-stream\r\n\r\n`)
    r = await answerWhileOpen('POST', `${ENV}/keystores/ks/aliases?alias=big&format=keycertfile`, {'content-type': `multipart/form-data; boundary=${boundary}`}, Buffer.concat([head, Buffer.alloc(4 * 1024 * 1024 + 10, 'a')]))
    expect(r.status).toBe(413)
    expect(r.body.error.message).toBe('Request payload size exceeds the limit: 4194304 bytes.')
    // Bytes busboy skips (a preamble before any part) count too.
    r = await answerWhileOpen('POST', `${ENV}/keystores/ks/aliases?alias=big&format=keycertfile`, {'content-type': `multipart/form-data; boundary=${boundary}`}, Buffer.alloc(4 * 1024 * 1024 + 10, 'a'))
    expect(r.status).toBe(413)
    const upload = (await request(server.url, 'POST', `${ENV}/archiveDeployments:generateUploadUrl`)).json().uploadUri as string
    r = await answerWhileOpen('PUT', new URL(upload).pathname, {'content-type': 'application/zip'}, Buffer.alloc(100 * 1024))
    expect(r.status).toBe(413)
    expect(r.body.error.message).toBe('Request payload size exceeds the limit: 65536 bytes.')
    // Nothing of it was kept: the upload URL holds nothing.
    const created = await request(server.url, 'POST', `${ENV}/archiveDeployments`, json({gcs_uri: upload}))
    expect(googleError(created, 400, 'INVALID_ARGUMENT')).toBe(`Invalid gcs_uri "${upload}": nothing was uploaded to it (PUT the zip first).`)
    expect((await request(server.url, 'GET', `${ENV}/keystores/ks`)).status).toBe(200)
  })
})
