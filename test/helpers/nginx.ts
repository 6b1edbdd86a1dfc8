import {spawn, type ChildProcess} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {freePort, NGINX, waitForPort} from './ports.js'

export {freePort, NGINX}

/**
 * Debian's nginx as a test peer, started by the test on a 127.0.0.1 port of its own, in the
 * foreground (`daemon off`), with everything (pid, logs, temp folders) under its folder.
 */
export interface Nginx {
  port: number
  dir: string
  /** The access log: `$ssl_client_serial $request_uri $status` per line. */
  accessLog: () => string[]
  /** Resolves when the access log holds this line (nginx writes it after the response is sent). */
  waitForLine: (line: string) => Promise<void>
  stop: () => Promise<void>
}

export interface NginxOptions {
  /** The server block's directives (inside `server { listen ...; }`). */
  server: string
  /** Extra http-level directives (upstream blocks). */
  http?: string
  workers?: number
  port?: number
}

export async function startNginx(dir: string, options: NginxOptions): Promise<Nginx> {
  if (!NGINX) throw new Error('nginx is not installed')
  fs.mkdirSync(path.join(dir, 'tmp'), {recursive: true})
  const port = options.port ?? (await freePort())
  const user = process.getuid?.() === 0 ? 'user root;' : ''
  const conf = `${user}
daemon off;
worker_processes ${options.workers ?? 1};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  log_format serial '$ssl_client_serial $request_uri $status';
  access_log ${dir}/access.log serial;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  ${options.http ?? ''}
  server {
    listen 127.0.0.1:${port} ssl;
    ${options.server}
  }
}
`
  fs.writeFileSync(path.join(dir, 'nginx.conf'), conf)
  const child = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')], {stdio: ['ignore', 'ignore', 'pipe']})
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  try {
    await waitForPort(port, {alive: () => child.exitCode === null})
  } catch (error) {
    child.kill('SIGKILL')
    throw new Error(`${(error as Error).message}: ${stderr}${fs.existsSync(path.join(dir, 'error.log')) ? fs.readFileSync(path.join(dir, 'error.log'), 'utf8') : ''}`)
  }
  return {
    port,
    dir,
    accessLog: () => {
      const file = path.join(dir, 'access.log')
      return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : []
    },
    waitForLine: async (line: string) => {
      const file = path.join(dir, 'access.log')
      for (let i = 0; ; i++) {
        if (fs.existsSync(file) && fs.readFileSync(file, 'utf8').split('\n').includes(line)) return
        if (i > 500) throw new Error(`nginx never logged "${line}": ${fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '(no log)'}`)
        await new Promise((r) => setTimeout(r, 10))
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve()
        child.once('exit', () => resolve())
        // SIGQUIT: graceful; SIGTERM would do too, but SIGQUIT lets workers finish.
        child.kill('SIGTERM')
      }),
  }
}

/** The seed article's backend: mTLS required (clients of `ca`), `{"message": "Hello world!"}`. */
export function mtlsBackend(files: {cert: string; key: string; clientCa: string}, extra = ''): string {
  return `ssl_certificate ${files.cert};
    ssl_certificate_key ${files.key};
    ssl_client_certificate ${files.clientCa};
    ssl_verify_client on;
    ${extra}
    location / {
      default_type application/json;
      return 200 '{"message": "Hello world!"}';
    }`
}
