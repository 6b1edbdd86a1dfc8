import * as fs from 'node:fs'
import * as path from 'node:path'
import {performance} from 'node:perf_hooks'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {getApiProxy} from '../../src/core/archives/deployments.js'
import {zipArchive} from '../../src/core/archives/source.js'
import {createEnvironment} from '../../src/core/environments.js'
import {FileStore} from '../../src/core/store/index.js'
import {json, request} from '../helpers/api.js'
import {rmTemp, runCli, tempDir} from '../helpers/cli.js'

/**
 * The emulator while it works (issue 11, item 3 and the "stays responsive" defence): a
 * deployment runs in a worker process, so the server answers while a 5,000-proxy archive
 * deploys; and one state folder has one emulator, held by a lock that a busy (or stopped)
 * emulator still holds, so `status`, `stop` and a second `start` see it.
 */
const PROXIES = 5000
const TOKEN = 'busy-test-token'
const AUTH = {authorization: `Bearer ${TOKEN}`}
const ENV = '/v1/organizations/myorg/environments/dev'

let dir: string

/** 5,000 proxies, each with a config.yaml of ten operations routed to ten target servers, and those servers. */
async function bigArchive(): Promise<Buffer> {
  const files = new Map<string, Buffer>()
  const operations = Array.from({length: 10}, (_, t) => `  - id: op${t}\n    target:\n      target_server_id: "plain${t}"\n    http_match:\n      - path_template: "/p${t}"\n        method: GET\n`)
  const config = Buffer.from(`operations:\n${operations.join('')}`)
  for (let p = 0; p < PROXIES; p++) files.set(`apiproxies/proxy${p}/config.yaml`, config)
  const servers = Array.from({length: 10}, (_, t) => ({name: `plain${t}`, host: 'backend.example.com', port: 8080 + t, isEnabled: true, protocol: 'HTTP'}))
  files.set('environments/dev/targetservers.json', Buffer.from(JSON.stringify(servers)))
  files.set('environments/dev/deployments.json', Buffer.from(JSON.stringify({proxies: Array.from({length: PROXIES}, (_, p) => ({name: `proxy${p}`})), sharedflows: []})))
  return zipArchive(files)
}

/** `emulator start --detach` on a fresh state folder with an ARCHIVE environment; its URL. */
async function detached(home: string, env: Record<string, string> = {}): Promise<{url: string; pid: number}> {
  await createEnvironment(new FileStore(home), 'myorg', 'dev')
  const tokenFile = path.join(home, '..', `${path.basename(home)}.token`)
  fs.writeFileSync(tokenFile, `${TOKEN}\n`)
  const started = await runCli(['emulator', 'start', '--detach', '--port', '0', '--token-file', tokenFile], {home, env})
  expect(started.code, started.stderr).toBe(0)
  const url = /CLOUDSDK_API_ENDPOINT_OVERRIDES_APIGEE=(\S+)\n/.exec(started.stdout)![1]
  const pid = Number(/\(pid (\d+),/.exec(started.stderr)![1])
  return {url, pid}
}

/** generateUploadUrl, PUT, create (gcloud's order): the operation's name. */
async function deploy(url: string, zip: Buffer): Promise<string> {
  const upload = await request(url, 'POST', `${ENV}/archiveDeployments:generateUploadUrl`, {headers: AUTH})
  expect(upload.status, upload.text).toBe(200)
  const put = await request(url, 'PUT', new URL(upload.json().uploadUri).pathname, {headers: {'content-type': 'application/zip'}, body: zip})
  expect(put.status, put.text).toBe(200)
  const created = await request(url, 'POST', `${ENV}/archiveDeployments`, {headers: {...AUTH, ...json({}).headers}, body: JSON.stringify({gcs_uri: upload.json().uploadUri})})
  expect(created.status, created.text).toBe(200)
  return created.json().name as string
}

beforeAll(() => {
  dir = tempDir()
})
afterAll(() => rmTemp(dir))

describe('the emulator stays responsive while it deploys', () => {
  it(`a ${PROXIES}-proxy archive deploys while every ping (status and the operation) is answered within 200 ms`, async () => {
    const home = path.join(dir, 'responsive')
    const zip = await bigArchive()
    const {url} = await detached(home)
    try {
      const operation = await deploy(url, zip)
      const pings: number[] = []
      let done: any
      const deadline = Date.now() + 50_000
      // One ping after the other until the operation is done: each one's latency is measured.
      for (let i = 0; Date.now() < deadline; i++) {
        const at = performance.now()
        const r = i % 2 === 0 ? await request(url, 'GET', '/emulator/status', {headers: AUTH}) : await request(url, 'GET', `/v1/${operation}`, {headers: AUTH})
        const ms = performance.now() - at
        expect(r.status, r.text).toBe(200)
        if (i % 2 === 1 && r.json().done) {
          done = r.json()
          break
        }
        pings.push(ms)
        // Pacing (not synchronisation): leave the two cores to the worker and the server.
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      expect(done, 'the deployment did not finish within 50 s').toBeDefined()
      expect(done.error, JSON.stringify(done.error)).toBeUndefined()
      expect(done.metadata.state).toBe('FINISHED')
      // Enough pings while it ran to mean something, and every one of them within the bound.
      expect(pings.length).toBeGreaterThanOrEqual(10)
      expect(Math.max(...pings), `ping latencies (ms): ${pings.map((p) => p.toFixed(0)).join(' ')}`).toBeLessThan(200)
      const proxy = await getApiProxy(new FileStore(home), 'myorg', `proxy${PROXIES - 1}`)
      expect(proxy?.latestRevisionId).toBe('1')
    } finally {
      expect((await runCli(['emulator', 'stop'], {home})).code).toBe(0)
    }
  }, 90_000)
})

describe('one emulator per state folder, even when it cannot answer', () => {
  it('a stopped (SIGSTOP) emulator: `status` shows it (exit 0), a second `start --detach` is refused (exit 1), `stop` stops it once it runs again', async () => {
    const home = path.join(dir, 'stopped')
    const {url, pid} = await detached(home)
    process.kill(pid, 'SIGSTOP')
    try {
      const status = await runCli(['emulator', 'status', '--format', 'json'], {home})
      expect(status.code, status.stderr).toBe(0)
      expect(JSON.parse(status.stdout)).toMatchObject({pid, url, stateFolder: home, tokenRequired: true})
      const second = await runCli(['emulator', 'start', '--detach', '--port', '0'], {home})
      expect(second.code).toBe(1)
      expect(second.stdout).toBe('')
      expect(second.stderr).toBe(
        `ERROR: (mtlsctl.emulator.start) FAILED_PRECONDITION: An emulator is already running on the state folder ${home} (pid ${pid}, ${url}).\nStop it with: mtlsctl emulator stop (or use another state folder: MTLSCTL_HOME).\n`,
      )
      const foreground = await runCli(['emulator', 'start', '--port', '0'], {home})
      expect(foreground.code).toBe(1)
      expect(foreground.stderr).toContain('FAILED_PRECONDITION: An emulator is already running on the state folder')
      // The first emulator's records are untouched.
      expect(fs.readFileSync(path.join(home, 'emulator.pid'), 'utf8')).toBe(`${pid}\n`)
      expect(JSON.parse(fs.readFileSync(path.join(home, 'emulator.json'), 'utf8')).url).toBe(url)
    } finally {
      process.kill(pid, 'SIGCONT')
    }
    const stopped = await runCli(['emulator', 'stop'], {home})
    expect(stopped).toMatchObject({code: 0, stdout: '', stderr: `Stopped the emulator at ${url} (pid ${pid}).\n`})
    expect(() => process.kill(pid, 0)).toThrow()
    const after = await runCli(['emulator', 'status'], {home})
    expect(after.code).toBe(1)
    expect(after.stderr).toBe(`ERROR: (mtlsctl.emulator.status) NOT_FOUND: No emulator is running on the state folder ${home}.\nStart one with: mtlsctl emulator start --detach\n`)
  }, 60_000)

  it('an emulator killed with SIGKILL leaves a dead socket: `status` says none runs, and the next `start` takes the folder over', async () => {
    const home = path.join(dir, 'killed')
    const {pid} = await detached(home)
    process.kill(pid, 'SIGKILL')
    while (fs.existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))) await new Promise((r) => setTimeout(r, 20))
    expect(fs.existsSync(path.join(home, 'emulator.sock'))).toBe(true)
    const status = await runCli(['emulator', 'status'], {home})
    expect(status.code).toBe(1)
    expect(status.stderr).toContain('NOT_FOUND: No emulator is running on the state folder')
    const again = await runCli(['emulator', 'start', '--detach', '--port', '0'], {home})
    expect(again.code, again.stderr).toBe(0)
    expect((await runCli(['emulator', 'stop'], {home})).code).toBe(0)
  }, 60_000)

  it('`stop` waits for a running deployment to finish; the deployment is not cut short', async () => {
    const home = path.join(dir, 'stop-waits')
    const pause = path.join(dir, 'stop-waits-resume')
    const {url, pid} = await detached(home, {MTLSCTL_WORKER_PAUSE_FILE: pause})
    const zip = await zipArchive(new Map([
      ['apiproxies/hello/config.yaml', Buffer.from('operations:\n  - id: op\n    target:\n      target_server_id: "plain"\n    http_match:\n      - path_template: "/p"\n        method: GET\n')],
      ['environments/dev/targetservers.json', Buffer.from(JSON.stringify([{name: 'plain', host: 'h', port: 80}]))],
    ]))
    const operation = await deploy(url, zip)
    const stopping = runCli(['emulator', 'stop'], {home})
    // The emulator says it waits for the deployment (its log), and still holds the folder.
    const log = path.join(home, 'emulator.log')
    while (!fs.readFileSync(log, 'utf8').includes('Stopping the emulator: waiting for 1 running deployment(s) to finish...')) await new Promise((r) => setTimeout(r, 20))
    const status = await runCli(['emulator', 'status', '--format', 'value(pid)'], {home})
    expect(status).toMatchObject({code: 0, stdout: `${pid}\n`})
    fs.writeFileSync(pause, '')
    const stopped = await stopping
    expect(stopped.code, stopped.stderr).toBe(0)
    expect(stopped.stderr).toMatch(new RegExp(`Stopped the emulator at ${url.replaceAll('.', '\\.')} \\(pid ${pid}\\)\\.\\n$`))
    const op = JSON.parse(fs.readFileSync(path.join(home, `${operation}.json`), 'utf8'))
    expect(op).toMatchObject({done: true, metadata: {state: 'FINISHED'}})
    expect(op.error).toBeUndefined()
  }, 60_000)
})
