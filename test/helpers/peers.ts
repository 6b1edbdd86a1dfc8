import {type ChildProcess, spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {freePort, waitForPort} from './ports.js'

/**
 * Real TLS peers for the cert-manager tests: Debian's etcd 3.4 and nginx on 127.0.0.1, each
 * on ports the kernel handed out, ready when they say so (etcd) or accept (nginx).
 */

export interface RunningPeer {
  port: number
  log: () => string
  /** Resolves when `text` has appeared in the peer's output. */
  waitFor: (text: string | RegExp, timeoutMs?: number) => Promise<void>
  stop: () => Promise<void>
}

function supervise(child: ChildProcess, port: number): RunningPeer {
  let out = ''
  const waiters: {test: (s: string) => boolean; resolve: () => void}[] = []
  const onData = (d: Buffer) => {
    out += d.toString('utf8')
    for (const w of [...waiters]) if (w.test(out)) waiters.splice(waiters.indexOf(w), 1) && w.resolve()
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  return {
    port,
    log: () => out,
    waitFor: (text, timeoutMs = 90_000) =>
      new Promise<void>((resolve, reject) => {
        const test = (s: string) => (typeof text === 'string' ? s.includes(text) : text.test(s))
        if (test(out)) return resolve()
        const timer = setTimeout(() => reject(new Error(`no "${text}" within ${timeoutMs} ms: ${out}`)), timeoutMs)
        waiters.push({test, resolve: () => (clearTimeout(timer), resolve())})
        child.once('close', (code) => reject(new Error(`exited (${code}) before "${text}": ${out}`)))
      }),
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done()
        child.once('close', () => done())
        child.kill('SIGTERM')
      }),
  }
}

/** etcd 3.4 with TLS on its client port and --client-cert-auth; ready at "ready to serve client requests". */
export async function startEtcd(dir: string, tls: {cert: string; key: string; ca: string}): Promise<RunningPeer> {
  const [client, peer] = [await freePort(), await freePort()]
  const child = spawn(
    'etcd',
    [
      '--name', 'n',
      '--data-dir', path.join(dir, 'etcd-data'),
      '--listen-client-urls', `https://127.0.0.1:${client}`,
      '--advertise-client-urls', `https://127.0.0.1:${client}`,
      '--listen-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-cluster', `n=http://127.0.0.1:${peer}`,
      '--cert-file', tls.cert,
      '--key-file', tls.key,
      '--trusted-ca-file', tls.ca,
      '--client-cert-auth',
    ],
    {stdio: ['ignore', 'pipe', 'pipe']},
  )
  const running = supervise(child, client)
  await running.waitFor('ready to serve client requests')
  return running
}

/** nginx (master as this user, no daemon) serving `server` (an nginx server block body) on a free port. */
export async function startNginx(dir: string, server: (port: number) => string): Promise<RunningPeer> {
  const port = await freePort()
  const prefix = path.join(dir, 'nginx')
  fs.mkdirSync(path.join(prefix, 'tmp'), {recursive: true})
  const conf = path.join(prefix, 'nginx.conf')
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${prefix}/tmp/${t};`).join('\n  ')
  fs.writeFileSync(
    conf,
    `worker_processes 1;
error_log stderr info;
pid ${prefix}/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  ${temp}
  server {
    listen 127.0.0.1:${port} ssl;
${server(port)}
  }
}
`,
  )
  const child = spawn('nginx', ['-p', prefix, '-c', conf, '-e', 'stderr', '-g', 'daemon off;'], {stdio: ['ignore', 'pipe', 'pipe']})
  const running = supervise(child, port)
  await waitForPort(port, {alive: () => child.exitCode === null, detail: running.log, timeoutMs: 90_000})
  return running
}
