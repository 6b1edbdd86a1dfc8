import {type ChildProcess, spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as path from 'node:path'

/**
 * Real TLS peers for the cert-manager tests: Debian's etcd 3.4 and nginx on 127.0.0.1, each
 * on ports the kernel handed out, ready when they say so (etcd) or accept (nginx).
 */

/** A port free right now on 127.0.0.1 (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** Resolves once a TCP connection to the port succeeds; each refused attempt is retried after the refusal. */
export async function waitForPort(port: number, child: ChildProcess, log: () => string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}) before accepting on ${port}: ${log()}`)
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      // A refusal comes back at once; wait for the server's own progress (a line on its stderr) or a short timer.
      socket.once('error', () => setTimeout(() => resolve(false), 20))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`nothing accepted on 127.0.0.1:${port} within ${timeoutMs} ms: ${log()}`)
  }
}

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
  await waitForPort(port, child, running.log)
  return running
}
