/**
 * A worker process of `runtime start --workers N` (src/runtime/workers.ts starts it through
 * node:cluster): receives its settings from the primary, serves on the listening socket the
 * workers share, and tells the primary what it serves. It stops when the primary says so
 * (requests in flight finish) or when the primary is gone.
 */
import {isMtlsError} from './core/errors.js'
import {FileStore} from './core/store/index.js'
import {writeLines} from './runtime/access-log.js'
import {listenFailure} from './runtime/run.js'
import {startRuntimeServer, type RuntimeServer} from './runtime/server.js'
import type {FromWorker, ToWorker} from './runtime/workers.js'

const tell = (message: FromWorker) => {
  if (process.connected) process.send?.(message)
}

let server: RuntimeServer | undefined
let stopping = false

async function stop(): Promise<void> {
  if (stopping) return
  stopping = true
  await server?.close().catch(() => {})
  process.exit(0)
}

// Ctrl-C reaches the whole process group: the primary decides when workers stop.
process.on('SIGINT', () => {})
process.on('SIGTERM', () => void stop())

process.on('message', async (message: ToWorker) => {
  if (message.type === 'stop') return void stop()
  if (message.type !== 'start' || server) return
  try {
    server = await startRuntimeServer({
      store: new FileStore(message.root),
      host: message.host,
      port: message.port,
      tls: message.tls && {cert: Buffer.from(message.tls.cert), key: Buffer.from(message.tls.key)},
      timeoutMs: message.timeoutMs,
      log: message.accessLog ? (lines) => writeLines(lines) : undefined,
      onChange: (said, key) => tell({type: 'said', key, message: said}),
      onClear: (key) => tell({type: 'said', key}),
      pid: message.primaryPid,
    })
    tell({type: 'listening', url: server.url, host: server.host, port: server.port})
  } catch (error) {
    const failure = listenFailure(error, message)
    const report: FromWorker = isMtlsError(failure)
      ? {type: 'failed', status: failure.status, message: failure.message, hint: failure.hint}
      : {type: 'failed', status: 'INTERNAL', message: (failure as Error).message}
    // Exit once the primary has it (or cannot get it): the primary stops the others.
    if (process.connected && process.send) process.send(report, () => process.exit(1))
    else process.exit(1)
  }
})
tell({type: 'ready'})
