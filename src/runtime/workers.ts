import cluster, {type Worker} from 'node:cluster'

import {MtlsError, type RpcStatus} from '../core/errors.js'
import {claimRuntimeFolder, recordRuntime, releaseRuntimeFolder} from './instance.js'

/**
 * `runtime start --workers N` (N > 1): the runtime as N worker processes sharing one listening
 * socket (node:cluster, round-robin: the primary accepts and hands each connection to a worker),
 * as Envoy runs one worker thread per core. One Node process forwards on one core; the workers
 * forward on all of them.
 *
 * The primary (the `runtime start` process) holds the state folder (`runtime.pid`,
 * `runtime.json` name it), starts the workers and says once what they all say: a "Serving ..."
 * line is printed when every worker serves that deployment, so whoever waits for it meets the
 * new configuration on any connection. A worker that dies is replaced. Each worker reads the
 * state folder itself, keeps its own connection pools and writes its own access-log lines.
 */
export interface RuntimeWorkersOptions {
  root: string
  workers: number
  /** dist/runtime-worker.js */
  script: string
  host: string
  port: number
  tls?: {cert: Buffer; key: Buffer}
  timeoutMs: number
  /** Whether workers write access-log lines (to the stderr they share with the primary). */
  accessLog: boolean
  onChange?: (message: string) => void
}

/** What the primary sends a worker. */
export type ToWorker =
  | {
      type: 'start'
      root: string
      host: string
      port: number
      tls?: {cert: string; key: string}
      timeoutMs: number
      accessLog: boolean
      primaryPid: number
    }
  | {type: 'stop'}

/** What a worker sends the primary. */
export type FromWorker =
  | {type: 'ready'}
  | {type: 'listening'; url: string; host: string; port: number}
  | {type: 'said'; key: string; message?: string}
  | {type: 'failed'; status: RpcStatus; message: string; hint?: string}

export interface HeldRuntimeWorkers {
  url: string
  host: string
  port: number
  /** Rejects when the workers cannot be kept running (they keep dying as they start). */
  failed: Promise<never>
  /** Stops every worker (requests in flight finish) and gives the state folder up. */
  stop(): Promise<void>
}

/** More restarts than this within RESTART_WINDOW_MS: the runtime stops instead. */
const MAX_RESTARTS = 5
const RESTART_WINDOW_MS = 60_000
/** Beyond the route timeout, how long a stopping worker may take before it is killed. */
const STOP_GRACE_MS = 5_000

export async function holdRuntimeWorkers(options: RuntimeWorkersOptions): Promise<HeldRuntimeWorkers> {
  const {root} = options
  await claimRuntimeFolder(root)
  cluster.schedulingPolicy = cluster.SCHED_RR
  cluster.setupPrimary({exec: options.script, args: [], silent: false})
  const start: ToWorker & {type: 'start'} = {
    type: 'start',
    root,
    host: options.host,
    port: options.port,
    tls: options.tls && {cert: options.tls.cert.toString('utf8'), key: options.tls.key.toString('utf8')},
    timeoutMs: options.timeoutMs,
    accessLog: options.accessLog,
    primaryPid: process.pid,
  }

  let address!: {url: string; host: string; port: number}
  /**
   * The workers alive, by id. `ready`: its module runs (it said so), so it hears messages.
   * `says`: what it says now, by key (SnapshotEvents: an environment, a target server).
   * `counted`: one of the start, or a replacement once it listens. A message is printed when
   * every counted worker says it and it is not what was printed last for its key: once, when the
   * last worker switches, whatever order they switch in and whichever of them die or are
   * replaced meanwhile.
   */
  const workers = new Map<number, {worker: Worker; ready: boolean; counted: boolean; says: Map<string, string>}>()
  const printed = new Map<string, string>()
  const restarts: number[] = []
  let startingUp = true
  let stopping = false
  let fail!: (error: Error) => void
  const failed = new Promise<never>((_, reject) => (fail = reject))
  failed.catch(() => {})

  const counted = () => [...workers.values()].filter((w) => w.counted)
  const settle = (key: string) => {
    const voters = counted()
    if (voters.length === 0) return
    const said = new Set(voters.map((w) => w.says.get(key)))
    if (said.size !== 1) return
    const [message] = said
    if (message === undefined) printed.delete(key)
    else if (printed.get(key) !== message) {
      printed.set(key, message)
      options.onChange?.(message)
    }
  }
  const settleAll = () => {
    const keys = new Set<string>()
    for (const w of counted()) for (const key of w.says.keys()) keys.add(key)
    for (const key of keys) settle(key)
  }

  let listening!: (address: {url: string; host: string; port: number}) => void
  let notListening!: (error: Error) => void
  const allListening = new Promise<{url: string; host: string; port: number}>((resolve, reject) => {
    listening = resolve
    notListening = reject
  })
  let waitingFor = options.workers
  const send = (worker: Worker, message: ToWorker) =>
    worker.send(message, (error: Error | null) => {
      // Gone meanwhile (its channel closed): its exit is handled where workers exit.
      if (error) worker.process.kill('SIGTERM')
    })

  const fork = (initial: boolean): Worker => {
    const worker = cluster.fork()
    const state = {worker, ready: false, counted: initial, says: new Map<string, string>()}
    workers.set(worker.id, state)
    let up = false
    // A send to a worker whose channel has just closed reports EPIPE here, not as an exception.
    worker.on('error', () => {})
    worker.on('message', (message: FromWorker) => {
      switch (message.type) {
        case 'ready':
          // Its settings are sent once it listens for them: a message sent before the worker's
          // module has run would find no listener and be lost.
          state.ready = true
          if (!stopping) send(worker, start)
          break
        case 'said':
          if (message.message === undefined) state.says.delete(message.key)
          else state.says.set(message.key, message.message)
          if (state.counted) settle(message.key)
          break
        case 'listening':
          up = true
          if (initial && --waitingFor === 0) listening(message)
          if (!initial) {
            // All workers gone at once, the shared socket closed with them, and `--port 0` picked
            // another: not the address runtime.json and the user have.
            if (message.port !== address.port) {
              fail(new MtlsError('INTERNAL', `Every runtime worker exited at once; the replacement listens on port ${message.port}, not ${address.port}.`, {hint: 'Start the runtime again.'}))
              return
            }
            state.counted = true
            settleAll()
          }
          break
        case 'failed':
          if (startingUp) notListening(new MtlsError(message.status, message.message, {hint: message.hint}))
          break
      }
    })
    worker.on('exit', (code, signal) => {
      workers.delete(worker.id)
      if (stopping) return
      const how = signal ?? `code ${code}`
      if (startingUp) {
        notListening(new MtlsError('INTERNAL', `A runtime worker exited (${how}) before it listened.`))
        return
      }
      settleAll()
      const now = Date.now()
      restarts.push(now)
      while (restarts.length > 0 && restarts[0] < now - RESTART_WINDOW_MS) restarts.shift()
      if (restarts.length > MAX_RESTARTS) {
        fail(new MtlsError('INTERNAL', `Runtime workers exited ${restarts.length} times within a minute (the last: pid ${worker.process.pid}, ${how}${up ? '' : ', before it listened'}).`))
        return
      }
      options.onChange?.(`Runtime worker pid ${worker.process.pid} exited (${how}${up ? '' : ' before it listened'}); starting another.`)
      fork(false)
    })
    return worker
  }

  // In-flight requests may take the route timeout to finish.
  const stopTimeoutMs = options.timeoutMs + STOP_GRACE_MS
  const stopAll = async () => {
    stopping = true
    const exits = [...workers.values()].map(
      ({worker, ready}) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve()
          const kill = setTimeout(() => worker.process.kill('SIGKILL'), stopTimeoutMs)
          worker.once('exit', () => {
            clearTimeout(kill)
            resolve()
          })
          if (ready && worker.isConnected()) send(worker, {type: 'stop'})
          else worker.process.kill('SIGTERM')
        }),
    )
    await Promise.all(exits)
  }

  try {
    for (let i = 0; i < options.workers; i++) fork(true)
    address = await allListening
    startingUp = false
  } catch (error) {
    await stopAll()
    releaseRuntimeFolder(root)
    throw error
  }
  recordRuntime(root, address, {https: options.tls !== undefined, workers: options.workers, upstreamTimeoutMs: options.timeoutMs})
  return {
    ...address,
    failed,
    async stop() {
      try {
        await stopAll()
      } finally {
        releaseRuntimeFolder(root)
      }
    },
  }
}
