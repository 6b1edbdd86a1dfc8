import {type ChildProcess, spawn, spawnSync} from 'node:child_process'

/**
 * A network namespace of the test's own, with only its loopback up: listeners on the real port
 * numbers (Cassandra's 9042, 9142 ...) never meet the host's, and no packet leaves it.
 * Needs root and iproute2; `netnsUnavailable()` says why not, for the skip message.
 */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: `ip netns add` needs CAP_SYS_ADMIN (CI runs the tests as root)'
  if (spawnSync('ip', ['-V']).status !== 0) return 'iproute2 (`ip`) is not installed'
  return undefined
}

export interface Netns {
  name: string
  /** Starts a command inside the namespace; resolves when `ready` matches its stdout or stderr. */
  start(argv: string[], ready: RegExp): Promise<ChildProcess>
  /** The argv prefix that runs a command inside the namespace. */
  exec: string[]
  remove(): Promise<void>
}

export function createNetns(prefix: string): Netns {
  const name = `${prefix}-${process.pid}`
  const ip = (...args: string[]) => {
    const r = spawnSync('ip', args, {encoding: 'utf8'})
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`)
  }
  ip('netns', 'add', name)
  ip('-n', name, 'link', 'set', 'lo', 'up')
  const children: ChildProcess[] = []
  const exec = ['ip', 'netns', 'exec', name]
  return {
    name,
    exec,
    start: (argv, ready) =>
      new Promise((resolve, reject) => {
        const child = spawn(exec[0], [...exec.slice(1), ...argv], {stdio: ['pipe', 'pipe', 'pipe']})
        children.push(child)
        let out = ''
        const check = (d: string) => {
          out += d
          if (ready.test(out)) resolve(child)
        }
        child.stdout!.setEncoding('utf8').on('data', check)
        child.stderr!.setEncoding('utf8').on('data', check)
        child.on('error', reject)
        child.on('close', (code) => reject(new Error(`${argv.join(' ')} exited (${code}) before it was ready: ${out}`)))
      }),
    remove: async () => {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((done) => {
              if (c.exitCode !== null || c.signalCode !== null) return done()
              c.once('close', () => done())
              c.kill('SIGTERM')
            }),
        ),
      )
      ip('netns', 'del', name)
    },
  }
}
