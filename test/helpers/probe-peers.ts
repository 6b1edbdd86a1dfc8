import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as path from 'node:path'

import {issueCertificate, parseCertificate} from '../../src/core/ca/certificates.js'
import {generateKey, parsePrivateKey} from '../../src/core/ca/keys.js'
import {parseSans, parseSubject} from '../../src/core/ca/subject.js'
import {openssl} from './pki.js'
import {freePort, NGINX, waitForPort} from './ports.js'

/**
 * Peers for `certs probe` and `hybrid check`: a PKI made with openssl (RootCA, a server for
 * localhost, one for another host name, the gateway's client certificate, and a client of
 * another CA), an expired server certificate, a plain TCP listener, and nginx with
 * `ssl_verify_client on`.
 */
export function makeProbePki(dir: string): void {
  const leaf = (name: string, cn: string, ca: string, san?: string) => {
    openssl(['genrsa', '-out', `${name}.key`, '2048'], dir)
    openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`], dir)
    const ext = san ? ['-extfile', writeExt(dir, name, san)] : []
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-set_serial', '01', '-out', `${name}.pem`, '-days', '365', '-sha256', ...ext], dir)
  }
  for (const [ca, cn] of [['RootCA', 'my-ca'], ['OtherCA', 'other-ca']]) {
    openssl(['req', '-new', '-x509', '-nodes', '-days', '365', '-subj', `/CN=${cn}`, '-keyout', `${ca}.key`, '-out', `${ca}.pem`], dir)
  }
  leaf('my_server', 'localhost', 'RootCA', 'DNS:localhost')
  leaf('other_host', 'other.example.com', 'RootCA', 'DNS:other.example.com')
  leaf('my_gateway', 'gateway', 'RootCA')
  leaf('rogue', 'rogue', 'OtherCA')
}

function writeExt(dir: string, name: string, san: string): string {
  const file = path.join(dir, `${name}.ext`)
  fs.writeFileSync(file, `subjectAltName=${san}\n`)
  return file
}

/** A server certificate for localhost of RootCA (in dir) that expired yesterday: NAME.pem, NAME.key. */
export async function expiredServer(dir: string, name: string): Promise<void> {
  const day = 86_400_000
  const issuer = {
    certificate: await parseCertificate(fs.readFileSync(path.join(dir, 'RootCA.pem'))),
    privateKey: parsePrivateKey(fs.readFileSync(path.join(dir, 'RootCA.key'))),
  }
  const key = generateKey('rsa-2048')
  const pem = await issueCertificate(
    {subject: parseSubject('/CN=localhost'), sans: parseSans('DNS:localhost'), publicKey: key, profile: {kind: 'leaf', usage: 'server'}, notBefore: new Date(Date.now() - 30 * day), notAfter: new Date(Date.now() - day)},
    issuer,
  )
  fs.writeFileSync(path.join(dir, `${name}.pem`), pem)
  fs.writeFileSync(path.join(dir, `${name}.key`), key.export({type: 'pkcs8', format: 'pem'}) as string, {mode: 0o600})
}

/** A TCP listener that is not TLS: it greets each connection with a line and waits. */
export async function plainListener(): Promise<{port: number; close: () => Promise<void>}> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => undefined)
    socket.on('close', () => sockets.delete(socket))
    socket.write('220 plain text service ready\r\n')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** A port nothing listens on: the kernel picks it, the listener is closed. */
export const closedPort = freePort

export const nginxPath = (): string | undefined => NGINX

/**
 * Debian's nginx, one process, no daemon, as the seed article's backend: `ssl_verify_client on`
 * with RootCA. The port is one the kernel picked for a listener just closed; when nginx cannot
 * bind it (taken in between) it exits, and another port is tried.
 */
export async function startNginx(dir: string, cert: string, key: string, clientCa: string): Promise<{port: number; stop: () => Promise<void>}> {
  const bin = nginxPath()
  if (!bin) throw new Error('nginx is not installed')
  for (let tries = 0; tries < 5; tries++) {
    const port = await closedPort()
    const prefix = fs.mkdtempSync(path.join(dir, 'nginx-'))
    fs.writeFileSync(
      path.join(prefix, 'nginx.conf'),
      `daemon off;
master_process off;
pid ${prefix}/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    ssl_client_certificate ${clientCa};
    ssl_verify_client on;
    location / { return 200 "hello from the backend\\n"; }
  }
}
`,
    )
    const child = spawn(bin, ['-p', prefix, '-c', path.join(prefix, 'nginx.conf')], {stdio: ['ignore', 'ignore', 'pipe']})
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    let alive = true
    void exited.then(() => (alive = false))
    try {
      await waitForPort(port, {alive: () => alive, timeoutMs: 5_000})
    } catch {
      if (/Address already in use/.test(stderr)) continue
      throw new Error(`nginx did not start: ${stderr}`)
    }
    return {
      port,
      stop: async () => {
        if (alive) child.kill('SIGTERM')
        await exited
      },
    }
  }
  throw new Error('nginx: no free port after 5 tries')
}
