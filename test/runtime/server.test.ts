import {EventEmitter, once} from 'node:events'
import * as http from 'node:http'
import * as https from 'node:https'
import * as net from 'node:net'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createArchiveDeployment, runArchiveDeployment} from '../../src/core/archives/deployments.js'
import {zipArchive} from '../../src/core/archives/source.js'
import {createEnvironment} from '../../src/core/environments.js'
import {FileStore} from '../../src/core/store/index.js'
import {forwardHeaders, startRuntimeServer, STATUS_PATH, type RuntimeServer} from '../../src/runtime/server.js'
import {makeCa, makeCert} from '../helpers/ca.js'
import {rmTemp, tempDir} from '../helpers/cli.js'
import {call} from '../helpers/runtime.js'

/**
 * The transport in-process, against plain-TCP peers that misbehave on purpose: a backend that
 * never answers (504 after the route timeout), one that hangs up after reading the request
 * (connection termination), and an echo backend (a POST body and the backend's own status and
 * headers pass through untouched); and, with a route timeout long enough never to fire, a
 * backend that holds what it gets and a TLS backend behind a gate that holds the handshake (a
 * request queued for its connection).
 */
let dir: string
let store: FileStore
let server: RuntimeServer
/** The same deployment with a route timeout that does not fire during a test. */
let patient: RuntimeServer
const peers: net.Server[] = []
let echoPort: number
const lines: string[] = []
const logged: Array<() => boolean> = []
const logLines = () => lines.join('').split('\n')
/** The access-log lines that match re, once there is one (a missing line fails in 5 s, not at the test timeout). */
function logLine(re: RegExp): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no access-log line matches ${re}; the log:\n${lines.join('')}`)), 5000)
    const check = () => {
      const found = logLines().filter((l) => re.test(l))
      if (found.length > 0) {
        clearTimeout(timer)
        resolve(found)
      }
      return found.length > 0
    }
    if (!check()) logged.push(check)
  })
}
/** A backend that never answers: it says when a request reaches it ('arrived', with its socket). */
const hold = new EventEmitter()
/** In front of a TLS backend: says when a connection comes ('gated', with a function that lets it through). */
const gate = new EventEmitter()
/** Requests the TLS backend behind the gate received, and its connections that closed. */
const tlsBackend = {requests: 0, closed: new EventEmitter()}

function listen(s: net.Server): Promise<number> {
  peers.push(s)
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as net.AddressInfo).port)))
}

beforeAll(async () => {
  dir = tempDir()
  store = new FileStore(path.join(dir, 'state'))
  await createEnvironment(store, 'myorg', 'dev')
  const silent = await listen(net.createServer(() => {}))
  const hangup = await listen(net.createServer((socket) => socket.once('data', () => socket.destroy())))
  const holdPort = await listen(net.createServer((socket) => socket.once('data', () => hold.emit('arrived', socket))))
  const ca = await makeCa()
  const cert = await makeCert(ca, 'localhost', {usage: 'server', sans: 'DNS:localhost,IP:127.0.0.1'})
  const tlsServer = https.createServer({cert: cert.pem, key: cert.privateKey.export({type: 'pkcs8', format: 'pem'})}, (_req, res) => {
    tlsBackend.requests++
    res.end('reached')
  })
  tlsServer.on('connection', (socket: net.Socket) => socket.on('close', () => tlsBackend.closed.emit('close')))
  const tlsPort = await listen(tlsServer)
  const gatePort = await listen(
    net.createServer((socket) => {
      // Nothing is read until released: the runtime's ClientHello waits, its handshake hangs.
      gate.emit('gated', () => {
        const upstream = net.connect(tlsPort, '127.0.0.1')
        socket.pipe(upstream).pipe(socket)
      })
    }),
  )
  echoPort = await listen(
    http.createServer((req, res) => {
      let body = ''
      req.setEncoding('utf8').on('data', (d: string) => (body += d))
      req.on('end', () => {
        res.writeHead(418, 'I Am A Teapot', {'x-backend': 'yes', 'content-type': 'text/x-echo'})
        res.end(`${req.method} ${req.url} host=${req.headers.host} ${body}`)
      })
    }),
  )
  const targets = [
    {name: 'silent', host: '127.0.0.1', port: silent},
    {name: 'hangup', host: '127.0.0.1', port: hangup},
    {name: 'echo', host: '127.0.0.1', port: echoPort},
    {name: 'hold', host: '127.0.0.1', port: holdPort},
    {name: 'gated', host: '127.0.0.1', port: gatePort, sSLInfo: {enabled: true, ignoreValidationErrors: true}},
  ]
  const files = new Map<string, Buffer>([['environments/dev/targetservers.json', Buffer.from(JSON.stringify(targets))]])
  for (const t of targets) files.set(`apiproxies/${t.name}/config.yaml`, Buffer.from(`basepath: /${t.name}\ntarget:\n  target_server_id: ${t.name}\n`))
  const {deployment} = await createArchiveDeployment(store, 'myorg', 'dev', await zipArchive(files), {workerPid: process.pid})
  await runArchiveDeployment(store, 'myorg', deployment.name)
  const log = (l: string) => {
    lines.push(l)
    for (const check of [...logged]) if (check()) logged.splice(logged.indexOf(check), 1)
  }
  server = await startRuntimeServer({store, host: '127.0.0.1', port: 0, timeoutMs: 300, reloadMs: 60_000, log})
  patient = await startRuntimeServer({store, host: '127.0.0.1', port: 0, timeoutMs: 600_000, reloadMs: 60_000, log})
})

afterAll(async () => {
  await server?.close()
  await patient?.close()
  for (const p of peers) p.close()
  rmTemp(dir)
})

describe('the runtime transport', () => {
  it('a backend that never answers: 504 upstream request timeout after the route timeout', async () => {
    const reply = await call(server.port, '/silent/x', 'any.host')
    expect(reply).toMatchObject({status: 504, body: 'upstream request timeout'})
    expect(reply.headers['content-type']).toBe('text/plain')
  })

  it('a backend that hangs up after the request: 503 connection termination', async () => {
    expect(await call(server.port, '/hangup', 'any.host')).toMatchObject({
      status: 503,
      body: 'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
    })
  })

  it("the backend's status, reason, headers and body pass through; a POST body reaches it; the path after the basepath is forwarded", async () => {
    const reply = await new Promise<{status: number; message: string; headers: http.IncomingHttpHeaders; body: string}>((resolve, reject) => {
      const req = http.request({host: '127.0.0.1', port: server.port, path: '/echo/a/b?q=1', method: 'POST', headers: {host: 'myorg-dev.example', 'content-type': 'text/plain'}}, (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (d: string) => (body += d))
        res.on('end', () => resolve({status: res.statusCode!, message: res.statusMessage!, headers: res.headers, body}))
      })
      req.on('error', reject)
      req.end('hello body')
    })
    expect(reply).toMatchObject({status: 418, message: 'I Am A Teapot', body: `POST /a/b?q=1 host=127.0.0.1:${echoPort} hello body`})
    expect(reply.headers['x-backend']).toBe('yes')
    expect(reply.headers['content-type']).toBe('text/x-echo')
  })

  it('its status path says which deployments it serves; one access-log line per request', async () => {
    const status = await call(server.port, STATUS_PATH, 'x')
    expect(JSON.parse(status.body)).toMatchObject({pid: process.pid, serving: [{organization: 'myorg', environment: 'dev', proxies: [{name: 'echo', basepath: '/echo'}, {name: 'gated', basepath: '/gated'}, {name: 'hangup', basepath: '/hangup'}, {name: 'hold', basepath: '/hold'}, {name: 'silent', basepath: '/silent'}]}]})
    await new Promise((r) => setImmediate(r))
    const all = lines.join('').trimEnd().split('\n')
    expect(all).toHaveLength(3)
    expect(all[0]).toMatch(/^\S+Z GET any\.host \/silent\/x 504 target=silent upstream=127\.0\.0\.1:\d+ \d+ms failure="upstream request timeout"$/)
    expect(all[2]).toMatch(/^\S+Z POST myorg-dev\.example \/echo\/a\/b\?q=1 418 target=echo upstream=127\.0\.0\.1:\d+ \d+ms$/)
  })
})

/** Sends `request` to the hold target, hangs up once it reached the target, and resolves when the runtime has closed its upstream connection. */
async function leaveEarly(request: string): Promise<void> {
  const arrived = once(hold, 'arrived')
  const client = net.connect(patient.port, '127.0.0.1', () => client.write(request))
  client.on('error', () => {})
  const [upstream] = (await arrived) as [net.Socket]
  client.destroy()
  await once(upstream, 'close')
}

describe('requests Envoy forwards or logs that are easy to miss', () => {
  it('a GET with a body: the body reaches the target, as Envoy forwards it', async () => {
    const reply = await new Promise<{status: number; body: string}>((resolve, reject) => {
      const req = http.request({host: '127.0.0.1', port: server.port, path: '/echo/q', method: 'GET', headers: {host: 'any.host', 'content-type': 'application/json', 'content-length': 12}}, (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (d: string) => (body += d))
        res.on('end', () => resolve({status: res.statusCode!, body}))
      })
      req.on('error', reject)
      req.end('{"query": 1}')
    })
    expect(reply).toEqual({status: 418, body: `GET /q host=127.0.0.1:${echoPort} {"query": 1}`})
  })

  it('a client that leaves before the answer: the upstream request is stopped and logged with status 0 (Envoy\'s DC)', async () => {
    await leaveEarly('GET /hold/x HTTP/1.1\r\nHost: myorg-dev.example\r\n\r\n')
    const logged = await logLine(/ \/hold\/x /)
    expect(logged).toHaveLength(1)
    expect(logged[0]).toMatch(/^\S+Z GET myorg-dev\.example \/hold\/x 0 target=hold upstream=127\.0\.0\.1:\d+ \d+ms failure="downstream connection termination"$/)
  })

  it('a client that leaves in the middle of its body: one access-log line all the same', async () => {
    await leaveEarly('POST /hold/upload HTTP/1.1\r\nHost: any.host\r\nContent-Length: 100\r\n\r\n0123456789')
    const logged = await logLine(/ \/hold\/upload /)
    expect(logged).toHaveLength(1)
    expect(logged[0]).toMatch(/^\S+Z POST any\.host \/hold\/upload 0 target=hold upstream=127\.0\.0\.1:\d+ \d+ms failure="downstream connection termination"$/)
  })

  it('a client that leaves while its request waits for a connection: logged, and the request is never sent', async () => {
    const gated = once(gate, 'gated')
    const client = net.connect(patient.port, '127.0.0.1', () => client.write('GET /gated/x HTTP/1.1\r\nHost: any.host\r\n\r\n'))
    client.on('error', () => {})
    // The runtime's connection to the target is open, its TLS handshake held: the request is queued.
    const [release] = (await gated) as [() => void]
    client.destroy()
    const logged = await logLine(/ \/gated\/x /)
    expect(logged).toHaveLength(1)
    expect(logged[0]).toMatch(/^\S+Z GET any\.host \/gated\/x 0 target=gated upstream=127\.0\.0\.1:\d+ \d+ms failure="downstream connection termination"$/)
    // Let the handshake finish: the connection is made, and closed without the request.
    const closed = once(tlsBackend.closed, 'close')
    release()
    await closed
    expect(tlsBackend.requests).toBe(0)
  })
})

describe('headers forwarded upstream', () => {
  it("drops hop-by-hop headers, those the client's Connection names, and a client's own x-forwarded-proto", () => {
    const raw = ['Host', 'myorg-dev.apigee.net', 'Connection', 'close, X-Secret', 'X-Secret', 's', 'X-Forwarded-Proto', 'https', 'Keep-Alive', '5', 'Accept', '*/*']
    expect(forwardHeaders(raw, 'backend:443', 'http')).toEqual(['Accept', '*/*', 'host', 'backend:443', 'x-forwarded-proto', 'http'])
  })
})
