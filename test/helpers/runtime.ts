import {spawn, type ChildProcess} from 'node:child_process'
import * as http from 'node:http'

import {BIN, cliEnv, ROOT} from './cli.js'

/** `mtlsctl runtime start` as a user starts it: a child process; ready when it says where it listens. */
export interface RunningRuntime {
  url: string
  port: number
  proc: ChildProcess
  stderr: () => string
  stdout: () => string
  /** Resolves when stderr holds a line matching re (after `from` characters), e.g. a new deployment served. */
  waitFor: (re: RegExp, from?: number) => Promise<RegExpExecArray>
  stop: () => Promise<number | null>
}

export function startRuntime(home: string, args: string[] = [], options: {cwd?: string; node?: string} = {}): Promise<RunningRuntime> {
  const proc = spawn(options.node ?? process.execPath, [BIN, 'runtime', 'start', '--port', '0', ...args], {
    cwd: options.cwd ?? ROOT,
    env: cliEnv(home),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  let stdout = ''
  const waiters: Array<() => void> = []
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d
    for (const w of [...waiters]) w()
  })
  // 'close': the process has exited and everything it (and its workers) wrote has been read.
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)))
  const waitOn = (text: () => string, re: RegExp, from = 0) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const m = re.exec(text().slice(from))
        if (m) {
          resolve(m)
          return true
        }
        if (proc.exitCode !== null) {
          reject(new Error(`runtime exited (${proc.exitCode}) before ${re}:\n${stderr}`))
          return true
        }
        return false
      }
      if (check()) return
      const waiter = () => {
        if (check()) waiters.splice(waiters.indexOf(waiter), 1)
      }
      waiters.push(waiter)
    })
  const waitFor = (re: RegExp, from = 0) => waitOn(() => stderr, re, from)
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d
    for (const w of [...waiters]) w()
  })
  proc.on('exit', () => {
    for (const w of [...waiters]) w()
  })
  // Ready: it listens (stderr) and has printed its URL and curl line (stdout, unless --format says otherwise).
  const ready = Promise.all([waitFor(/listening on (https?:\/\/\S+:(\d+)\/)/), waitOn(() => stdout, /\n/)])
  return ready.then(([m]) => ({
    url: m[1],
    port: Number(m[2]),
    proc,
    stderr: () => stderr,
    stdout: () => stdout,
    waitFor,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM')
      return exited
    },
  }))
}

export interface Reply {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

/** One HTTP request to the runtime with the given Host header (a fresh connection each time). */
export function call(port: number, path: string, host = 'myorg-dev.apigee.net', method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port, path, method, headers: {host}, agent: false}, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => (body += d))
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body}))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}
