import {spawn, type ChildProcess} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {createArchiveDeployment} from '../../src/core/archives/deployments.js'
import {readSource, zipArchive} from '../../src/core/archives/source.js'
import {finishOperation, type Operation} from '../../src/core/operations.js'
import {invalidArgument} from '../../src/core/errors.js'
import {FileStore, openStore} from '../../src/core/store/index.js'
import {request, startEmulator, type RunningEmulator} from '../helpers/api.js'
import {BIN, cliEnv, rmTemp, ROOT, runCli, tempDir, UUID, type CliResult} from '../helpers/cli.js'
import {startFaultProxy, type FaultProxy} from '../helpers/faults.js'
import {seedStep1} from '../helpers/pki.js'

/**
 * Remote mode (the built CLI over HTTP) when things go wrong, against `mtlsctl emulator start`
 * behind the loopback fault proxy (test/helpers/faults.ts): one 503 then success (a GET is
 * sent again, a POST is not), an answer slower than MTLSCTL_API_TIMEOUT, the emulator stopped
 * in the middle of a blocking `archives deploy`, 1,500 archive deployments read across pages,
 * and a preflight failure that uploads nothing.
 *
 * Nothing leaves loopback: the proxy variables are unset for the CLI, the metadata server is
 * never probed (METADATA_SERVER_DETECTION=none), the token comes from MTLSCTL_ACCESS_TOKEN.
 */
const TOKEN = 'faults-token-7c1e93d0a4'
const ORG = 'myorg'
const ENV = 'dev'
const ENV_PATH = `/v1/organizations/${ORG}/environments/${ENV}`
const EXAMPLES = path.join(ROOT, 'examples/archives')
const LOC = ['--organization', ORG, '--environment', ENV]
/** The file the emulator's deployment workers wait for in item 3: created only at cleanup. */
const PAUSE = 'worker-pause'

/** Every variable that could send the CLI's requests anywhere but the URL it is given. */
const ISOLATED = {
  HTTP_PROXY: undefined,
  HTTPS_PROXY: undefined,
  http_proxy: undefined,
  https_proxy: undefined,
  ALL_PROXY: undefined,
  all_proxy: undefined,
  NO_PROXY: undefined,
  no_proxy: undefined,
  CLOUDSDK_API_ENDPOINT_OVERRIDES_APIGEE: undefined,
  CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: undefined,
  GOOGLE_APPLICATION_CREDENTIALS: undefined,
  METADATA_SERVER_DETECTION: 'none',
}

let dir: string
/** The state folder every emulator starts from: dev, mtls_keystore/mtls_alias, mtls_truststore/rootca. */
let seedHome: string
/** The client's own state folder (no Apigee resources: only what remote mode keeps locally). */
let clientHome: string
let tokenFile: string
const emulators: RunningEmulator[] = []
/** Deployment workers a test found (detached from their emulator): killed at the end whatever happened. */
const workers: number[] = []
const proxies: FaultProxy[] = []

function remoteEnv(endpoint: string, env: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {...ISOLATED, MTLSCTL_API_ENDPOINT: endpoint, MTLSCTL_ACCESS_TOKEN: TOKEN, ...env}
}

/** The built CLI in remote mode against `endpoint` (the organization and environment as flags: stderr stays the command's own). */
function remote(endpoint: string, args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return runCli(args, {home: clientHome, cwd: dir, env: remoteEnv(endpoint, env)})
}

/** A copy of the seed state, served by an emulator (bearer token required) behind a fault proxy. */
async function serve(name: string, env: Record<string, string> = {}): Promise<{home: string; emulator: RunningEmulator; proxy: FaultProxy}> {
  const home = path.join(dir, name)
  if (!fs.existsSync(home)) fs.cpSync(seedHome, home, {recursive: true})
  const emulator = await startEmulator(home, ['--token-file', tokenFile], env)
  emulators.push(emulator)
  const proxy = await startFaultProxy(emulator.url)
  proxies.push(proxy)
  return {home, emulator, proxy}
}

/** `http://127.0.0.1:PORT` as the client's messages show an endpoint. */
const shown = (url: string) => url.replace(/\/$/, '')
const line = (r: {method: string; path: string}) => `${r.method} ${r.path}`
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
/** A stack trace's frames, which a user must never see. */
const STACK = /^\s+at \S/m

beforeAll(async () => {
  dir = tempDir('mtlsctl-faults-')
  seedStep1(dir)
  tokenFile = path.join(dir, 'token')
  fs.writeFileSync(tokenFile, `${TOKEN}\n`, {mode: 0o600})
  seedHome = path.join(dir, 'seed')
  clientHome = path.join(dir, 'client')
  const flags = ['--organization', ORG, '--environment', ENV]
  for (const args of [
    ['environments', 'create', ENV, '--organization', ORG],
    ['keystores', 'create', 'mtls_keystore', ...flags],
    ['keystores', 'create', 'mtls_truststore', ...flags],
    ['aliases', 'add', 'mtls_alias', '--keystore', 'mtls_keystore', '--cert-file', 'my_gateway.pem', '--key-file', 'my_gateway.key', ...flags],
    ['aliases', 'add', 'rootca', '--keystore', 'mtls_truststore', '--cert-file', 'RootCA.pem', ...flags],
  ]) {
    const r = await runCli(args, {home: seedHome, cwd: dir, env: ISOLATED})
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0)
  }
})
/** CLI processes a test started itself (killed here if the test failed before they ended). */
const children: ChildProcess[] = []
afterAll(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await Promise.all(proxies.splice(0).map((p) => p.close()))
  await Promise.all(emulators.splice(0).map((e) => stopHard(e)))
  // A deployment worker still paused (a test that failed before killing it) goes on and ends.
  if (dir) fs.writeFileSync(path.join(dir, PAUSE), '')
  for (const pid of workers.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
  }
  if (dir) rmTemp(dir)
})

/** Stops an emulator at once, whatever it is doing (SIGKILL: as a crash would). */
async function stopHard(emulator: RunningEmulator): Promise<void> {
  if (emulator.proc.exitCode !== null || emulator.proc.signalCode !== null) return
  const exited = new Promise((resolve) => emulator.proc.once('exit', resolve))
  emulator.proc.kill('SIGKILL')
  await exited
}

describe('one 503, then success: an idempotent GET is sent again, a POST is not (issue item 1)', () => {
  let url: string
  let proxy: FaultProxy
  let home: string
  beforeAll(async () => {
    ;({proxy, home} = await serve('retry'))
    url = proxy.url
  })
  afterEach(() => {
    proxy.seen.length = 0
  })

  it('keystores list: the GET answered 503 is sent again; exit 0 with the list', async () => {
    proxy.once({status: 503}, {method: 'GET', path: `${ENV_PATH}/keystores`})
    const r = await remote(url, ['keystores', 'list', ...LOC, '--verbosity', 'info'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe('mtls_keystore\nmtls_truststore\n')
    expect(proxy.seen.map(line)).toEqual([`GET ${ENV_PATH}/keystores`, `GET ${ENV_PATH}/keystores`])
    for (const seen of proxy.seen) expect(seen.headers.authorization).toBe(`Bearer ${TOKEN}`)
    expect(r.stderr).toMatch(new RegExp(`^INFO: Retrying GET organizations/${ORG}/environments/${ENV}/keystores in \\d+ ms \\(HTTP 503 \\(UNAVAILABLE\\)\\)\\.$`, 'm'))
    expect(r.stderr).not.toContain('ERROR')
  })

  it('keystores create: the POST answered 503 is not sent again; exit 4, nothing created', async () => {
    proxy.once({status: 503}, {method: 'POST', path: `${ENV_PATH}/keystores`})
    const r = await remote(url, ['keystores', 'create', 'never_made', ...LOC])
    expect(r.code).toBe(4)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe('ERROR: (mtlsctl.keystores.create) UNAVAILABLE: Injected HTTP 503.\n')
    expect(proxy.requests('POST').map(line)).toEqual([`POST ${ENV_PATH}/keystores`])
    expect(proxy.seen).toHaveLength(1)

    // Not created: neither through the API nor in the emulator's state folder.
    const list = await remote(url, ['keystores', 'list', ...LOC])
    expect(list).toMatchObject({code: 0, stdout: 'mtls_keystore\nmtls_truststore\n'})
    expect(await openStore(home).get(`organizations/${ORG}/environments/${ENV}/keystores/never_made`)).toBeUndefined()
    // The same command without the fault creates it: the 503 alone stopped it.
    expect((await remote(url, ['keystores', 'create', 'made_later', ...LOC])).code).toBe(0)
    expect((await remote(url, ['keystores', 'list', ...LOC])).stdout).toBe('made_later\nmtls_keystore\nmtls_truststore\n')
  })
})

describe('an answer slower than MTLSCTL_API_TIMEOUT (issue item 2)', () => {
  it('exit 4, DEADLINE_EXCEEDED naming the endpoint and the call; the timed-out GET is not sent again', async () => {
    const {proxy} = await serve('slow')
    proxy.once({delayMs: 20_000}, {method: 'GET', path: `${ENV_PATH}/keystores`})
    const started = Date.now()
    const r = await remote(proxy.url, ['keystores', 'list', ...LOC], {MTLSCTL_API_TIMEOUT: '1'})
    const elapsed = Date.now() - started
    expect(r.code).toBe(4)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(
      `ERROR: (mtlsctl.keystores.list) DEADLINE_EXCEEDED: The Apigee API at ${shown(proxy.url)} did not answer within 1 s (GET organizations/${ORG}/environments/${ENV}/keystores).\n` +
        `Check the endpoint (--api-endpoint; now ${shown(proxy.url)}).\n`,
    )
    // One GET: a retry would have been forwarded at once (the fault is used up) and succeeded.
    expect(proxy.seen.map(line)).toEqual([`GET ${ENV_PATH}/keystores`])
    // It gave up on its own timeout (1 s, plus the CLI's start), long before the proxy's 20 s.
    expect(elapsed).toBeLessThan(10_000)
  })
})

describe('the emulator stopped in the middle of a blocking archives deploy (issue item 3)', () => {
  /**
   * Deterministic: the emulator's deployment worker waits for MTLSCTL_WORKER_PAUSE_FILE (not
   * created while the test runs), so the operation exists and stays IN_PROGRESS while the CLI
   * polls it. Once the CLI has said `Waiting for operation [UUID]` (the POST was answered) and
   * printed one poll's dot (a GET of the operation found it running), the emulator and its
   * worker are killed with SIGKILL, as in a crash: the CLI's next poll finds nothing listening,
   * nor do its retries. A restarted emulator then finishes the operation (its lease ran out).
   */
  it('exit 4 with a clear message, no stack trace; the restarted emulator finishes the operation with an error, no revision made', async () => {
    const pause = path.join(dir, PAUSE)
    const {home, emulator} = await serve('stopped', {MTLSCTL_WORKER_PAUSE_FILE: pause, MTLSCTL_OPERATION_LEASE_MS: '1000'})
    const store = openStore(home)
    const child = spawn(process.execPath, [BIN, 'archives', 'deploy', ...LOC, '--source', path.join(EXAMPLES, 'valid/src')], {
      cwd: dir,
      env: cliEnv(clientHome, remoteEnv(emulator.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.push(child)
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    const waiting = new Promise<string>((resolve, reject) => {
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d
        // The POST was answered, and one poll found the operation still running.
        const m = new RegExp(`Waiting for operation \\[(${UUID})\\] to complete\\.\\.\\.\\n\\.`).exec(stderr)
        if (m) resolve(m[1])
      })
      void exited.then((code) => reject(new Error(`archives deploy exited (${code}) before waiting:\n${stderr}`)))
    })
    const uuid = await waiting
    const opName = `organizations/${ORG}/operations/${uuid}`
    const held = (await store.get<Operation & {lease?: {pid: number}}>(opName))!
    expect(held.metadata.state).toBe('IN_PROGRESS')
    const worker = held.lease!.pid
    workers.push(worker)
    expect(worker).not.toBe(emulator.proc.pid)

    await stopHard(emulator)
    process.kill(worker, 'SIGKILL')

    const code = await exited
    expect(code, stderr).toBe(4)
    expect(stdout).toBe('')
    expect(stderr).not.toMatch(STACK)
    // gcloud's progress line, its dots (one per poll) ended, then the error on its own line.
    const m = new RegExp(`^Waiting for operation \\[${uuid}\\] to complete\\.\\.\\.\\n\\.+failed\\.\\nERROR: \\(mtlsctl\\.archives\\.deploy\\) (.*)\\n(.*)\\n$`).exec(stderr)
    expect(m, stderr).not.toBeNull()
    expect(m![1]).toBe(`UNAVAILABLE: Cannot reach the Apigee API at ${shown(emulator.url)}: connection refused.`)
    expect(m![2]).toBe(`Check the endpoint (--api-endpoint; now ${shown(emulator.url)}). If it is the emulator, start it: mtlsctl emulator start. (Gave up after 5 attempts.)`)

    // A new emulator on the same state: the operation is there, and finishes with the error
    // that its worker stopped (its lease ran out); the deployment made no revision.
    const again = await startEmulator(home, ['--token-file', tokenFile])
    emulators.push(again)
    const waited = await remote(again.url, ['operations', 'wait', uuid, '--organization', ORG, '--timeout', '60s'])
    expect(waited.code, waited.stderr).toBe(1)
    expect(waited.stderr).toContain(`Details: The process working on this operation (pid ${worker}) stopped before finishing it.`)
    const described = await remote(again.url, ['operations', 'describe', uuid, '--organization', ORG, '--format', 'json'])
    expect(described.code, described.stderr).toBe(0)
    const operation = JSON.parse(described.stdout)
    expect(operation).toMatchObject({done: true, error: {code: 13}, metadata: {state: 'FINISHED', operationType: 'INSERT'}})
    const deployment = operation.metadata.targetResourceName as string
    const listed = await remote(again.url, ['archives', 'list', ...LOC, '--format', 'json'])
    expect(listed.code, listed.stderr).toBe(0)
    expect(JSON.parse(listed.stdout)).toMatchObject([{name: deployment, operation: opName, operationStatus: 'Failed'}])
    // No half-made deployment: no revision of the proxy, nothing for the runtime to serve.
    const api = await request(again.url, 'GET', `/v1/organizations/${ORG}/apis/helloworld`, {headers: {authorization: `Bearer ${TOKEN}`}})
    expect(api.status).toBe(404)
    const revisions = await store.get<{apis?: Record<string, number>}>(`organizations/${ORG}/apiRevisions`)
    expect(revisions?.apis?.helloworld).toBeUndefined()
  })
})

describe('1,500 archive deployments listed across pages (issue item 4)', () => {
  const COUNT = 1500
  let home: string
  let proxy: FaultProxy
  /** archiveId -> createdAt (ms), as the engine stored them. */
  const created = new Map<string, number>()

  beforeAll(async () => {
    home = path.join(dir, 'many')
    fs.cpSync(seedHome, home, {recursive: true})
    /**
     * The engine's own documents (createArchiveDeployment, finishOperation) in the real file
     * store (atomic, fsync'ed writes), without its inter-process lock: nothing else uses this
     * folder yet. Measured on 2 cores: ~22 s through the locked store, ~9 s locked with fsync
     * skipped, 2.5 to 4.5 s unlocked (the 1,000 finished operations included).
     */
    class Unlocked extends FileStore {
      override async withLock<T>(fn: () => Promise<T>): Promise<T> {
        return fn()
      }
    }
    const store = new Unlocked(home)
    const zip = await zipArchive(readSource(path.join(EXAMPLES, 'valid/src')))
    for (let i = 0; i < COUNT; i++) {
      const {deployment, operation} = await createArchiveDeployment(store, ORG, ENV, zip, i % 7 === 0 ? {labels: {batch: String(i % 3)}} : {})
      created.set(deployment.name.split('/').pop()!, Number(deployment.createdAt))
      // A mix of outcomes: failed, deployed, and still in progress (no lease: never expires).
      if (i % 3 === 0) await finishOperation(store, operation.name, {error: invalidArgument(`deployment ${i} refused`)})
      else if (i % 3 === 1) await finishOperation(store, operation.name, {response: {'@type': 'type.googleapis.com/google.cloud.apigee.v1.ArchiveDeployment', ...deployment}})
    }
    expect(created.size).toBe(COUNT)
    ;({proxy} = await serve('many'))
  }, 120_000)

  it('remote archives list: 1,500 distinct ids, newest first, read in 15 pages of 100 following nextPageToken; the same bytes as the local engine', async () => {
    const r = await remote(proxy.url, ['archives', 'list', ...LOC, '--format', 'value(archiveId)'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toBe('')
    const ids = r.stdout.split('\n').slice(0, -1)
    expect(ids).toHaveLength(COUNT)
    expect(new Set(ids).size).toBe(COUNT)
    expect(new Set(ids)).toEqual(new Set(created.keys()))
    // Newest first (ties of the same millisecond by id, as gcloud's sort leaves them).
    const expected = [...created].sort(([a, at], [b, bt]) => bt - at || (a < b ? -1 : a > b ? 1 : 0)).map(([id]) => id)
    expect(ids).toEqual(expected)

    const pages = proxy.requests('GET', `${ENV_PATH}/archiveDeployments`)
    expect(pages).toHaveLength(15)
    const queries = pages.map((p) => new URL(p.path, 'http://x').searchParams)
    for (const q of queries) expect(q.get('pageSize')).toBe('100')
    expect(queries[0].has('pageToken')).toBe(false)
    const tokens = queries.slice(1).map((q) => q.get('pageToken'))
    for (const t of tokens) expect(t).toMatch(/^\S+$/)
    expect(new Set(tokens).size).toBe(14)
    // The statuses come from one list of the organization's operations (the emulator answers
    // it in one page, as Apigee does), not from one read per deployment.
    expect(proxy.requests('GET', `/v1/organizations/${ORG}/operations?`)).toHaveLength(1)
    expect(proxy.requests('GET', `/v1/organizations/${ORG}/operations/`)).toHaveLength(0)
    expect(proxy.seen.filter((s) => s.method !== 'GET')).toEqual([])

    // The local engine on the same state folder prints the same bytes.
    const local = await runCli(['archives', 'list', ...LOC, '--format', 'value(archiveId)'], {home, cwd: dir, env: ISOLATED})
    expect(local.code, local.stderr).toBe(0)
    expect(local.stdout === r.stdout).toBe(true)
  })

  it("the default table (dates, labels, operation status) is the same bytes remote and local", async () => {
    const remoteTable = await remote(proxy.url, ['archives', 'list', ...LOC])
    const localTable = await runCli(['archives', 'list', '--organization', ORG, '--environment', ENV], {home, cwd: dir, env: ISOLATED})
    expect(remoteTable.code, remoteTable.stderr).toBe(0)
    expect(localTable.code, localTable.stderr).toBe(0)
    const rows = remoteTable.stdout.split('\n').slice(1, -1)
    expect(rows).toHaveLength(COUNT)
    const statuses = new Map<string, number>()
    for (const row of rows) {
      const status = /(Deployed|Failed|In Progress)$/.exec(row)?.[1] ?? row
      statuses.set(status, (statuses.get(status) ?? 0) + 1)
    }
    expect(Object.fromEntries(statuses)).toEqual({Failed: 500, Deployed: 500, 'In Progress': 500})
    expect(remoteTable.stdout.match(/batch=\d/g)).toHaveLength(Math.ceil(COUNT / 7))
    expect(remoteTable.stdout === localTable.stdout).toBe(true)
  })
})

describe('a remote preflight failure uploads nothing (issue item 5)', () => {
  let proxy: FaultProxy
  let home: string
  beforeAll(async () => {
    ;({proxy, home} = await serve('preflight'))
  })
  afterEach(() => {
    proxy.seen.length = 0
  })
  const source = path.join(EXAMPLES, 'missing-keystore/src')

  it('exit 1 naming the problem; the API saw reads only: no upload URL asked for, no PUT, no deployment', async () => {
    const r = await remote(proxy.url, ['archives', 'deploy', ...LOC, '--source', source])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(
      new RegExp(`^ERROR: \\(mtlsctl\\.archives\\.deploy\\) FAILED_PRECONDITION: Preflight found 1 problem\\(s\\) against ${escape(proxy.url)}; nothing was uploaded\\.\\n`),
    )
    expect(r.stderr).toContain('does-not-exist')
    expect(r.stderr).toContain('Fix them and deploy again, or pass --skip-preflight to leave the verdict to the server.')
    expect(proxy.seen.length).toBeGreaterThan(0)
    expect(proxy.seen.filter((s) => s.method !== 'GET').map(line)).toEqual([])
    expect(proxy.seen.filter((s) => s.path.startsWith('/upload/') || s.path.includes(':generateUploadUrl'))).toEqual([])
    expect(await openStore(home).ids(`organizations/${ORG}/environments/${ENV}/archiveDeployments`)).toEqual([])
  })

  it('--skip-preflight: the zip is PUT to the upload URL with GCS\'s headers and no Authorization; the server refuses the deployment', async () => {
    const r = await remote(proxy.url, ['archives', 'deploy', ...LOC, '--source', source, '--skip-preflight'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(new RegExp(`^Waiting for operation \\[${UUID}\\] to complete\\.\\.\\.\\n\\.*failed\\.\\nERROR: \\(mtlsctl\\.archives\\.deploy\\) Failed to await operation:\\n`))
    expect(r.stderr).toContain('does-not-exist')
    const writes = proxy.seen.filter((s) => s.method !== 'GET')
    expect(writes.map((s) => s.method + ' ' + s.path.replace(/[0-9a-f]{32}\.zip$/, 'ID.zip'))).toEqual([
      `POST ${ENV_PATH}/archiveDeployments:generateUploadUrl`,
      'PUT /upload/ID.zip',
      `POST ${ENV_PATH}/archiveDeployments`,
    ])
    const [ask, put, create] = writes
    expect(ask.headers.authorization).toBe(`Bearer ${TOKEN}`)
    expect(create.headers.authorization).toBe(`Bearer ${TOKEN}`)
    expect(put.headers['content-type']).toBe('application/zip')
    expect(put.headers['x-goog-content-length-range']).toBe('0,1073741824')
    expect(put.headers).not.toHaveProperty('authorization')
    expect(Number(put.headers['content-length'])).toBeGreaterThan(0)
  })
})
