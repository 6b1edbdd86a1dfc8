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
  reloadMs?: number
  /** Whether workers write access-log lines (to the stderr they share with the primary). */
  accessLog: boolean
  /** Node flags of the worker processes. */
  execArgv?: string[]
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
      reloadMs?: number
      accessLog: boolean
      primaryPid: number
    }
  | {type: 'stop'}

/** What a worker sends the primary. */
export type FromWorker =
  | {type: 'ready'}
  | {type: 'listening'; url: string; host: string; port: number}
  | {type: 'said'; message: string}
  | {type: 'failed'; status: RpcStatus; message: string; hint?: string}

export interface HeldRuntimeWorkers {
  url: string
  host: string
  port: number
  workers: number
  /** Rejects when the workers cannot be kept running (they keep dying as they start). */
  failed: Promise<never>
  /** Stops every worker (requests in flight finish) and gives the state folder up. */
  stop(): Promise<void>
}

/** More restarts than this within RESTART_WINDOW_MS: the runtime stops instead. */
const MAX_RESTARTS = 5
const RESTART_WINDOW_MS = 60_000
const STOP_TIMEOUT_MS = 15_000

export async function holdRuntimeWorkers(options: RuntimeWorkersOptions): Promise<HeldRuntimeWorkers> {
  const {root} = options
  await claimRuntimeFolder(root)
  cluster.schedulingPolicy = cluster.SCHED_RR
  cluster.setupPrimary({exec: options.script, args: [], execArgv: options.execArgv ?? [], silent: false})
  const start: ToWorker = {
    type: 'start',
    root,
    host: options.host,
    port: options.port,
    tls: options.tls && {cert: options.tls.cert.toString('utf8'), key: options.tls.key.toString('utf8')},
    timeoutMs: options.timeoutMs,
    reloadMs: options.reloadMs,
    accessLog: options.accessLog,
    primaryPid: process.pid,
  }

  const live = new Map<number, Worker>()
  /** Workers whose module runs (they said 'ready'): only they hear messages. */
  const ready = new Set<number>()
  /** Who has said each message since it was last printed, by worker id. */
  const heard = new Map<string, Set<number>>()
  const restarts: number[] = []
  let stopping = false
  let fail!: (error: Error) => void
  const failed = new Promise<never>((_, reject) => (fail = reject))
  failed.catch(() => {})

  const sayWhatAllSaid = () => {
    for (const [message, ids] of heard) {
      if ([...live.keys()].every((id) => ids.has(id))) {
        heard.delete(message)
        options.onChange?.(message)
      }
    }
  }

  let listening!: (address: {url: string; host: string; port: number}) => void
  let notListening!: (error: Error) => void
  const allListening = new Promise<{url: string; host: string; port: number}>((resolve, reject) => {
    listening = resolve
    notListening = reject
  })
  let waitingFor = options.workers

  const fork = (initial: boolean): Worker => {
    const worker = cluster.fork()
    live.set(worker.id, worker)
    let up = false
    worker.on('message', (message: FromWorker) => {
      switch (message.type) {
        case 'ready':
          // Its settings are sent once it listens for them: a message sent before the worker's
          // module has run would find no listener and be lost.
          ready.add(worker.id)
          if (!stopping) worker.send(start)
          break
        case 'said': {
          const ids = heard.get(message.message) ?? new Set<number>()
          ids.add(worker.id)
          heard.set(message.message, ids)
          sayWhatAllSaid()
          break
        }
        case 'listening':
          up = true
          if (initial && --waitingFor === 0) listening(message)
          break
        case 'failed':
          notListening(new MtlsError(message.status, message.message, {hint: message.hint}))
          break
      }
    })
    worker.on('exit', (code, signal) => {
      live.delete(worker.id)
      ready.delete(worker.id)
      for (const ids of heard.values()) ids.delete(worker.id)
      if (stopping) return
      sayWhatAllSaid()
      if (!up) {
        notListening(new MtlsError('INTERNAL', `A runtime worker exited (${signal ?? `code ${code}`}) before it listened.`))
        return
      }
      const now = Date.now()
      restarts.push(now)
      while (restarts.length > 0 && restarts[0] < now - RESTART_WINDOW_MS) restarts.shift()
      if (restarts.length > MAX_RESTARTS) {
        fail(new MtlsError('INTERNAL', `Runtime workers exited ${restarts.length} times within a minute (the last: pid ${worker.process.pid}, ${signal ?? `code ${code}`}).`))
        return
      }
      options.onChange?.(`Runtime worker pid ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another.`)
      fork(false)
    })
    return worker
  }

  const stopAll = async () => {
    stopping = true
    const exits = [...live.values()].map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve()
          const kill = setTimeout(() => worker.process.kill('SIGKILL'), STOP_TIMEOUT_MS)
          worker.once('exit', () => {
            clearTimeout(kill)
            resolve()
          })
          if (ready.has(worker.id) && worker.isConnected()) worker.send({type: 'stop'} satisfies ToWorker)
          else worker.process.kill('SIGTERM')
        }),
    )
    await Promise.all(exits)
  }

  let address: {url: string; host: string; port: number}
  try {
    for (let i = 0; i < options.workers; i++) fork(true)
    address = await allListening
  } catch (error) {
    await stopAll()
    releaseRuntimeFolder(root)
    throw error
  }
  recordRuntime(root, address, {https: options.tls !== undefined, workers: options.workers})
  return {
    ...address,
    workers: options.workers,
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
