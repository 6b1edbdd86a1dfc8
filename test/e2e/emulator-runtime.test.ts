import * as fs from 'node:fs'
import * as http from 'node:http'
import type {AddressInfo} from 'node:net'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createEnvironment} from '../../src/core/environments.js'
import {FileStore} from '../../src/core/store/index.js'
import {rmTemp, runCli, tempDir} from '../helpers/cli.js'

/**
 * `emulator start --detach --runtime-port 0`: the runtime beside the API, in the emulator's
 * process. A request on the runtime's port reaches a deployed proxy's backend (a plain-HTTP
 * node:http server of this test's own); `emulator status` shows the runtime; `emulator stop`
 * stops both (the runtime's port refuses connections afterwards).
 */
describe('mtlsctl emulator start --runtime-port', () => {
  let dir: string
  let home: string
  let backend: http.Server
  let backendPort: number
  const seen: Array<{method?: string; url?: string; host?: string}> = []

  beforeAll(async () => {
    dir = tempDir('mtlsctl-emulator-runtime-')
    home = path.join(dir, 'state')
    backend = http.createServer((req, res) => {
      seen.push({method: req.method, url: req.url, host: req.headers.host})
      res.writeHead(200, {'content-type': 'application/json', 'x-backend': 'plain'})
      res.end('{"message": "Hello world!"}')
    })
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve))
    backendPort = (backend.address() as AddressInfo).port
    await createEnvironment(new FileStore(home), 'myorg', 'dev')
    const root = path.join(dir, 'archive/src/main/apigee')
    fs.mkdirSync(path.join(root, 'environments/dev'), {recursive: true})
    fs.mkdirSync(path.join(root, 'apiproxies/helloworld'), {recursive: true})
    fs.writeFileSync(
      path.join(root, 'environments/dev/targetservers.json'),
      JSON.stringify([{name: 'plain', host: '127.0.0.1', port: backendPort, isEnabled: true, protocol: 'HTTP'}]),
    )
    fs.writeFileSync(path.join(root, 'environments/dev/deployments.json'), JSON.stringify({proxies: [{name: 'helloworld'}]}))
    fs.writeFileSync(
      path.join(root, 'apiproxies/helloworld/config.yaml'),
      'basepath: /helloworld\noperations:\n  - id: all\n    target:\n      target_server_id: plain\n    http_match:\n      - path_template: "/**"\n',
    )
  })

  afterAll(async () => {
    await runCli(['emulator', 'stop'], {home})
    await new Promise<void>((resolve) => backend.close(() => resolve()))
    rmTemp(dir)
  })

  it('serves a deployed proxy on the runtime port, shows it in emulator status, and emulator stop stops both', async () => {
    const cli = (args: string[]) => runCli(args, {home})
    const deployed = await cli(['archives', 'deploy', '--source', path.join(dir, 'archive/src'), '--organization', 'myorg', '--environment', 'dev'])
    expect(deployed.code, deployed.stderr).toBe(0)
    const started = await cli(['emulator', 'start', '--detach', '--port', '0', '--runtime-port', '0'])
    expect(started.code, started.stderr).toBe(0)
    const api = /^Apigee API emulator listening on (http:\/\/127\.0\.0\.1:\d+\/) \(pid (\d+),/.exec(started.stderr)
    const rt = /\nRuntime listening on (http:\/\/127\.0\.0\.1:(\d+)\/) \(in the emulator's process\)\.\n$/.exec(started.stderr)
    expect(api, started.stderr).not.toBeNull()
    expect(rt, started.stderr).not.toBeNull()
    const [apiUrl, pid] = [api![1], Number(api![2])]
    const [runtimeUrl, runtimePort] = [rt![1], Number(rt![2])]
    expect(runtimeUrl).not.toBe(apiUrl)
    const served = await cli(['runtime', 'status', '--format', 'json'])
    expect(served.code, served.stderr).toBe(0)
    expect(JSON.parse(served.stdout)).toMatchObject({pid, url: runtimeUrl, inEmulator: true, serving: [{organization: 'myorg', environment: 'dev'}]})

    // fetch cannot set Host: node:http can.
    const res = await new Promise<{status?: number; body: string; backend: unknown}>((resolve, reject) => {
      http
        .get(`${runtimeUrl}helloworld/foo?x=1`, {headers: {host: 'myorg-dev.example.test'}}, (r) => {
          let body = ''
          r.setEncoding('utf8').on('data', (d: string) => (body += d))
          r.on('end', () => resolve({status: r.statusCode, body, backend: r.headers['x-backend']}))
        })
        .on('error', reject)
    })
    expect(res).toEqual({status: 200, body: '{"message": "Hello world!"}', backend: 'plain'})
    expect(seen).toEqual([{method: 'GET', url: '/foo?x=1', host: `127.0.0.1:${backendPort}`}])
    // The API still answers beside it, from the same state folder.
    expect(await (await fetch(`${apiUrl}v1/organizations/myorg/environments`)).json()).toEqual(['dev'])

    const status = await cli(['emulator', 'status', '--format', 'json'])
    expect(status.code, status.stderr).toBe(0)
    expect(JSON.parse(status.stdout)).toMatchObject({pid, url: apiUrl, runtimeUrl})

    // `runtime stop` would stop the API too: it refuses and says what to run.
    const runtimeStop = await cli(['runtime', 'stop'])
    expect(runtimeStop.code).toBe(1)
    expect(runtimeStop.stderr).toContain(`FAILED_PRECONDITION: The runtime at ${runtimeUrl} runs inside the emulator (pid ${pid}`)
    expect(runtimeStop.stderr).toContain('Stop both with: mtlsctl emulator stop')

    // The access log (one line per request) is in the emulator's log.
    expect(fs.readFileSync(path.join(home, 'emulator.log'), 'utf8')).toMatch(/ GET myorg-dev\.example\.test \/helloworld\/foo\?x=1 200 target=plain upstream=127\.0\.0\.1:\d+ \d+ms\n/)

    const stopped = await cli(['emulator', 'stop'])
    expect(stopped).toMatchObject({code: 0, stdout: '', stderr: `Stopped the emulator at ${apiUrl} and its runtime at ${runtimeUrl} (pid ${pid}).\n`})
    // Both ports refuse connections; the runtime's files are gone with the emulator's.
    await expect(fetch(`http://127.0.0.1:${runtimePort}/helloworld/foo`)).rejects.toThrow()
    await expect(fetch(`${apiUrl}v1/organizations/myorg/environments`)).rejects.toThrow()
    expect(fs.existsSync(path.join(home, 'runtime.pid'))).toBe(false)
    expect(fs.existsSync(path.join(home, 'emulator.pid'))).toBe(false)
    const after = await cli(['runtime', 'status'])
    expect(after.code).toBe(1)
  })
})
