import {spawn, spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {runProcess} from './cli.js'

/** Real openssl as the independent judge of what mtlsctl writes. */
export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs openssl synchronously (never while an in-process TLS peer must answer: use opensslAsync). */
export function openssl(args: string[], cwd: string, input?: string): Run {
  const r = spawnSync('openssl', args, {cwd, input, encoding: 'utf8'})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

/** Runs openssl without blocking the event loop (for s_client against an in-process server). */
export function opensslAsync(args: string[], cwd: string, input = ''): Promise<Run> {
  return runProcess('openssl', args, {cwd, input})
}

export interface OpensslServer {
  port: number
  output: () => string
  stop: () => Promise<void>
}

/**
 * `openssl s_server` on 127.0.0.1 with a port the kernel picks; ready when it prints
 * `ACCEPT 127.0.0.1:PORT` (no sleeping, no port guessing).
 */
export function startOpensslServer(args: string[], cwd: string): Promise<OpensslServer> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', ['s_server', '-accept', '127.0.0.1:0', ...args], {cwd, stdio: ['pipe', 'pipe', 'pipe']})
    let out = ''
    const stop = () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done()
        child.once('close', () => done())
        child.kill('SIGTERM')
      })
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d
      const match = /ACCEPT 127\.0\.0\.1:(\d+)/.exec(out)
      if (match) resolve({port: Number(match[1]), output: () => out, stop})
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d))
    child.on('error', reject)
    child.on('close', (code) => reject(new Error(`openssl s_server exited (${code}) before ACCEPT: ${out}`)))
  })
}

/** Every file under dir with its bytes (base64) and mode: equal snapshots mean nothing changed. */
export function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {}
  if (!fs.existsSync(dir)) return files
  for (const entry of fs.readdirSync(dir, {recursive: true, withFileTypes: true})) {
    if (!entry.isFile()) continue
    const full = path.join(entry.parentPath, entry.name)
    files[path.relative(dir, full)] = `${(fs.statSync(full).mode & 0o777).toString(8)}:${fs.readFileSync(full).toString('base64')}`
  }
  return files
}

/** Every file and folder below `dir`, relative to it (the state folder's leftovers, say). */
export function entriesBelow(dir: string): string[] {
  return fs.readdirSync(dir, {recursive: true}) as string[]
}

export const mode = (file: string) => fs.statSync(file).mode & 0o777
