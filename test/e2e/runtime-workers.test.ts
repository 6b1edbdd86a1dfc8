import * as fs from 'node:fs'
import * as http from 'node:http'
import type {AddressInfo} from 'node:net'
import * as path from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {BIN, cliEnv, rmTemp, runCli, tempDir} from '../helpers/cli.js'
import {call, startRuntime, type RunningRuntime} from '../helpers/runtime.js'

/**
 * `runtime start --workers N`: N worker processes behind one listening socket. What a user can
 * tell from outside: connections are spread over the workers; a "Serving ..." line is printed
 * once, when every worker serves that deployment (so any connection after it meets the new one);
 * a worker that dies is replaced; a stop (SIGTERM, Ctrl-C to the process group) stops them all;
 * access-log lines from several workers never interleave. The targets are two plain-HTTP
 * backends on loopback that name themselves.
 */
const STATUS = '/.mtlsctl/runtime/status'
const ACCESS_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z GET myorg-dev\.apigee\.net \/hello\/\S* 200 target=backend upstream=127\.0\.0\.1:\d+ \d+ms$/

const childrenOf = (pid: number): number[] =>
  fs
    .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .split(' ')
    .filter(Boolean)
    .map(Number)
const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('mtlsctl runtime start --workers', () => {
  let dir: string
  let home: string
  const backends: http.Server[] = []
  let runtime: RunningRuntime | undefined

  /** A plain-HTTP backend that answers its name and the path it was asked for. */
  async function backend(name: string): Promise<number> {
    const server = http.createServer((req, res) => {
      const body = `${name} ${req.url}`
      res.writeHead(200, {'content-type': 'text/plain', 'content-length': Buffer.byteLength(body)})
      res.end(body)
    })
    backends.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return (server.address() as AddressInfo).port
  }

  /** An archive whose proxy /hello sends everything to the target server "backend" on `port`. */
  function archive(name: string, port: number): string {
    const root = path.join(dir, name, 'src/main/apigee')
    fs.mkdirSync(path.join(root, 'environments/dev'), {recursive: true})
    fs.mkdirSync(path.join(root, 'apiproxies/hello'), {recursive: true})
    fs.writeFileSync(path.join(root, 'environments/dev/targetservers.json'), JSON.stringify([{name: 'backend', host: '127.0.0.1', port, isEnabled: true}]))
    fs.writeFileSync(path.join(root, 'apiproxies/hello/config.yaml'), 'basepath: /hello\ntarget:\n  target_server_id: backend\n')
    return path.join(dir, name, 'src')
  }
  const deploy = async (source: string) => {
    const r = await runCli(['archives', 'deploy', '--source', source, '--organization', 'myorg', '--environment', 'dev'], {home})
    expect(r.code, r.stderr).toBe(0)
  }
  /** `count` requests, each on a fresh connection: which workers answered the status path. */
  async function workersAnswering(port: number, count: number): Promise<Set<number>> {
    const seen = new Set<number>()
    for (let i = 0; i < count; i++) seen.add(JSON.parse((await call(port, STATUS)).body).worker)
    return seen
  }

  beforeAll(async () => {
    dir = tempDir('mtlsctl-runtime-workers-')
    home = path.join(dir, 'state')
    expect((await runCli(['environments', 'create', 'dev', '--organization', 'myorg'], {home})).code).toBe(0)
    await deploy(archive('a', await backend('A')))
  }, 60_000)

  afterEach(async () => {
    await runtime?.stop()
    runtime = undefined
  })

  afterAll(async () => {
    await Promise.all(backends.map((b) => new Promise((resolve) => b.close(resolve))))
    rmTemp(dir)
  })

  it('three workers share the port, each connection goes to the next; a new deployment is announced once, when all three serve it', async () => {
    runtime = await startRuntime(home, ['--workers', '3'])
    const primary = runtime.proc.pid!
    expect(runtime.stderr()).toContain(`(state folder ${home}, 3 workers).`)
    expect(runtime.stderr().match(/^Serving myorg-dev: /gm)).toHaveLength(1)
    const workers = childrenOf(primary)
    expect(workers).toHaveLength(3)
    // Round robin: six connections reach all three workers; the status names the primary.
    expect([...(await workersAnswering(runtime.port, 6))].sort()).toEqual([...workers].sort())
    expect(JSON.parse((await call(runtime.port, STATUS)).body).pid).toBe(primary)
    const status = await runCli(['runtime', 'status', '--format', 'json'], {home})
    expect(JSON.parse(status.stdout)).toMatchObject({pid: primary, workers: 3, upstreamTimeoutMs: 15_000})

    expect((await call(runtime.port, '/hello/x?y=1')).body).toBe('A /x?y=1')
    const from = runtime.stderr().length
    await deploy(archive('b', await backend('B')))
    await runtime.waitFor(/^Serving myorg-dev: archive deployment /m, from)
    // Announced once, and true on every worker from then on.
    for (let i = 0; i < 9; i++) expect((await call(runtime.port, `/hello/${i}`)).body).toBe(`B /${i}`)
    expect(runtime.stderr().slice(from).match(/^Serving myorg-dev: /gm)).toHaveLength(1)
  }, 60_000)

  it('a worker killed is replaced and serving goes on; SIGTERM stops the primary and every worker, exit 0', async () => {
    runtime = await startRuntime(home, ['--workers', '2'])
    const primary = runtime.proc.pid!
    const [victim, survivor] = childrenOf(primary)
    process.kill(victim, 'SIGKILL')
    await runtime.waitFor(new RegExp(`^Runtime worker pid ${victim} exited \\(SIGKILL\\); starting another\\.$`, 'm'))
    for (let i = 0; i < 4; i++) expect((await call(runtime.port, '/hello/')).status).toBe(200)
    const now = childrenOf(primary)
    expect(now).toHaveLength(2)
    expect(now).toContain(survivor)
    expect(now).not.toContain(victim)
    // The replacement serves: fresh connections, handed out in turn, reach it.
    const replacement = now.find((pid) => pid !== survivor)!
    let seen = new Set<number>()
    while (!seen.has(replacement)) seen = await workersAnswering(runtime.port, 4)
    expect([...seen].sort()).toEqual([...now].sort())
    // Nothing new was deployed: the replacement's first load is not announced again.
    expect(runtime.stderr().match(/^Serving myorg-dev: /gm)).toHaveLength(1)

    expect(await runtime.stop()).toBe(0)
    runtime = undefined
    for (const pid of now) expect(alive(pid)).toBe(false)
    expect(fs.existsSync(path.join(home, 'runtime.pid'))).toBe(false)
  }, 60_000)

  it("Ctrl-C reaches the whole process group: the primary stops the workers itself (none is 'replaced'), exit 0", async () => {
    const {spawn} = await import('node:child_process')
    // A process group of its own, as a shell gives a foreground job.
    const proc = spawn(process.execPath, [BIN, 'runtime', 'start', '--port', '0', '--workers', '2'], {env: cliEnv(home), stdio: ['ignore', 'pipe', 'pipe'], detached: true})
    try {
      let stderr = ''
      proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
      const closed = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)))
      await new Promise<void>((resolve) => proc.stdout!.once('data', () => resolve()))
      const workers = childrenOf(proc.pid!)
      expect(workers).toHaveLength(2)
      process.kill(-proc.pid!, 'SIGINT')
      expect(await closed).toBe(0)
      expect(stderr).toContain('Runtime stopped.')
      expect(stderr).not.toContain('starting another')
      for (const pid of workers) expect(alive(pid)).toBe(false)
    } finally {
      if (proc.exitCode === null && proc.signalCode === null) process.kill(-proc.pid!, 'SIGKILL')
    }
  }, 60_000)

  it('access-log lines of several workers under concurrent load are whole lines, one per request', async () => {
    runtime = await startRuntime(home, ['--workers', '2'])
    const from = runtime.stderr().length
    const agent = new http.Agent({keepAlive: true, maxSockets: 40})
    const one = (i: number) =>
      new Promise<number>((resolve, reject) => {
        // A long path makes each line long, so that a batch of lines is bigger than a pipe's atomic write.
        http
          .get({host: '127.0.0.1', port: runtime!.port, path: `/hello/${'p'.repeat(300)}${i}`, agent, headers: {host: 'myorg-dev.apigee.net'}}, (res) => {
            res.resume().on('end', () => resolve(res.statusCode ?? 0))
          })
          .on('error', reject)
      })
    const statuses = await Promise.all(Array.from({length: 2000}, (_, i) => one(i)))
    agent.destroy()
    expect(statuses.every((s) => s === 200)).toBe(true)
    // Stopped, every worker's pending lines are written and read.
    expect(await runtime.stop()).toBe(0)
    const lines = runtime.stderr().slice(from).split('\n').filter((l) => l.includes(' GET '))
    expect(lines).toHaveLength(2000)
    for (const line of lines) expect(line).toMatch(ACCESS_LINE)
    runtime = undefined
  }, 60_000)

  it('a port in use: every worker stops, the state folder is given back, and the user gets the fix, no stack trace', async () => {
    const busy = http.createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    const port = (busy.address() as AddressInfo).port
    try {
      const r = await runCli(['runtime', 'start', '--port', String(port), '--workers', '2'], {home})
      expect(r.code).toBe(1)
      // (Whether the workers' first load is announced before one fails to listen depends on timing.)
      expect(r.stderr.replace(/^Serving myorg-dev: .*\n/, '')).toBe(`ERROR: (mtlsctl.runtime.start) FAILED_PRECONDITION: Cannot listen on 127.0.0.1:${port}: the address is in use.\nChoose another --port (0 picks a free one).\n`)
      expect(r.stderr).not.toMatch(/^\s+at /m)
      expect(fs.existsSync(path.join(home, 'runtime.pid'))).toBe(false)
      expect(fs.existsSync(path.join(home, 'runtime.json'))).toBe(false)
    } finally {
      await new Promise((resolve) => busy.close(resolve))
    }
  }, 60_000)

  it('--workers 0 or not a number: a usage error (exit 2) naming the flag and what it takes, before anything starts', async () => {
    const zero = await runCli(['runtime', 'start', '--port', '0', '--workers', '0'], {home})
    expect(zero.code).toBe(2)
    expect(zero.stderr).toBe('ERROR: (mtlsctl.runtime.start) Parsing --workers \n\tExpected an integer greater than or equal to 1 but received: 0\nSee more help with --help\n')
    const word = await runCli(['runtime', 'start', '--port', '0', '--workers', 'x'], {home})
    expect(word.code).toBe(2)
    expect(word.stderr).toBe('ERROR: (mtlsctl.runtime.start) Parsing --workers \n\tExpected an integer but received: x\nSee more help with --help\n')
    expect(fs.existsSync(path.join(home, 'runtime.pid'))).toBe(false)
  }, 60_000)

  it('--workers 1 is one process, as before', async () => {
    runtime = await startRuntime(home, ['--workers', '1'])
    expect(childrenOf(runtime.proc.pid!)).toEqual([])
    expect(runtime.stderr()).toContain(`(state folder ${home}).`)
    expect(JSON.parse((await call(runtime.port, STATUS)).body)).toMatchObject({pid: runtime.proc.pid, worker: runtime.proc.pid})
  }, 60_000)
})
