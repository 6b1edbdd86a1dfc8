import * as fs from 'node:fs'
import * as net from 'node:net'

/**
 * Ports and peers on 127.0.0.1, shared by the tests that start real servers (nginx, etcd,
 * openssl s_server): a port the kernel picks, and the wait for a server to accept on it.
 */

/** Debian's nginx, where it is installed. */
export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p))

/**
 * A port free right now on 127.0.0.1 (the kernel picks it for a listener, which is closed):
 * for servers that cannot listen on port 0 and say which, and as a port nothing listens on.
 */
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

export interface WaitForPortOptions {
  /** False once the server has exited: stop waiting at once. */
  alive?: () => boolean
  /** What to add to the error (the server's log). */
  detail?: () => string
  timeoutMs?: number
}

/**
 * Resolves once a TCP connection to 127.0.0.1:port succeeds. Servers such as nginx say nothing
 * when they are ready, so the port is polled (each refusal comes back at once, then 20 ms),
 * bounded by timeoutMs, and given up as soon as the server has exited.
 */
export async function waitForPort(port: number, options: WaitForPortOptions = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000)
  const detail = () => (options.detail ? `: ${options.detail()}` : '')
  for (;;) {
    if (options.alive && !options.alive()) throw new Error(`the server exited before accepting on ${port}${detail()}`)
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`nothing accepted on 127.0.0.1:${port} within ${options.timeoutMs ?? 10_000} ms${detail()}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
