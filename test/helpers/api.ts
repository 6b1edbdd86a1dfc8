import {execFile, spawn, type ChildProcess} from 'node:child_process'
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as path from 'node:path'

import {startApiServer, type ApiServer, type ApiServerOptions} from '../../src/emulator/index.js'
import {BIN, cliEnv, ROOT, tempDir, rmTemp} from './cli.js'

/** An in-process API server on a free port (the engine's own tests). */
export function startServer(root: string, options: Partial<ApiServerOptions> = {}): Promise<ApiServer> {
  return startApiServer({root, host: '127.0.0.1', port: 0, ...options})
}

export interface RawResponse {
  status: number
  headers: http.IncomingHttpHeaders
  text: string
  json: () => any
}

/**
 * One HTTP request with node:http (no client-side normalisation of the path, unlike fetch),
 * so tests can send `..`, bad percent-encoding and oversize bodies exactly as written.
 */
export function request(
  url: string,
  method: string,
  rawPath: string,
  options: {headers?: Record<string, string>; body?: string | Buffer} = {},
): Promise<RawResponse> {
  const {hostname, port} = new URL(url)
  return new Promise((resolve, reject) => {
    const req = http.request({hostname, port, method, path: rawPath, headers: options.headers}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        resolve({status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text)})
      })
      res.on('error', reject)
    })
    // The server may answer (and close) before an oversize body is all sent.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)))
    req.end(options.body)
  })
}

export const json = (body: unknown) => ({headers: {'content-type': 'application/json'}, body: JSON.stringify(body)})

/** The emulator started as a user starts it: `mtlsctl emulator start`, a child process. */
export interface RunningEmulator {
  url: string
  proc: ChildProcess
  /** Everything it wrote on stderr so far. */
  stderr: () => string
  stdout: () => string
  stop: () => Promise<number | null>
}

export function startEmulator(home: string, args: string[] = [], env: Record<string, string> = {}): Promise<RunningEmulator> {
  const proc = spawn(process.execPath, [BIN, 'emulator', 'start', '--port', '0', ...args], {cwd: ROOT, env: cliEnv(home, env), stdio: ['ignore', 'pipe', 'pipe']})
  let stderr = ''
  let stdout = ''
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      const m = /listening on (http:\/\/\S+\/)/.exec(stderr)
      if (m) {
        resolve({
          url: m[1],
          proc,
          stderr: () => stderr,
          stdout: () => stdout,
          stop: async () => {
            if (proc.exitCode === null) proc.kill('SIGTERM')
            return exited
          },
        })
      }
    })
    void exited.then((code) => reject(new Error(`emulator exited (${code}) before listening:\n${stderr}`)))
  })
}

export const hasGcloud = fs.existsSync('/usr/bin/gcloud') || (process.env.PATH ?? '').split(':').some((d) => fs.existsSync(path.join(d, 'gcloud')))

export interface GcloudResult {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * The real gcloud pointed at an emulator: its own temporary CLOUDSDK_CONFIG (so parallel runs
 * share nothing), the endpoint override, a token file, no usage reporting, no update check.
 */
export function gcloud(args: string[], options: {url: string; tokenFile: string; cwd?: string}): Promise<GcloudResult> {
  const config = tempDir('mtlsctl-gcloud-')
  // gcloud asks DNS for metadata.google.internal (is this a GCE VM?) and caches the answer in
  // its folder's `gce` file: written beforehand, nothing leaves this machine.
  fs.writeFileSync(path.join(config, 'gce'), 'False')
  return new Promise((resolve) => {
    execFile(
      'gcloud',
      args,
      {
        cwd: options.cwd ?? ROOT,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          CLOUDSDK_CONFIG: config,
          CLOUDSDK_API_ENDPOINT_OVERRIDES_APIGEE: options.url,
          CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: options.tokenFile,
          CLOUDSDK_CORE_DISABLE_USAGE_REPORTING: 'true',
          CLOUDSDK_CORE_CHECK_GCE_METADATA: 'false',
          CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK: 'true',
        },
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        rmTemp(config)
        resolve({code: error ? ((error as {code?: number}).code ?? 1) : 0, stdout, stderr})
      },
    )
  })
}
