import {failedPrecondition} from '../core/errors.js'
import {claimRuntimeFolder, recordRuntime, releaseRuntimeFolder} from './instance.js'
import {startRuntimeServer, type RuntimeServer, type RuntimeServerOptions} from './server.js'

/**
 * A runtime that holds its state folder: claims it (`runtime.pid`), listens, records where
 * (`runtime.json`). `runtime start` runs one in its own process; `emulator start
 * --runtime-port` runs one in the emulator's process (`inEmulator`), so the two live and stop
 * together.
 */
export interface HeldRuntime {
  server: RuntimeServer
  /** Stops serving (requests in flight finish) and gives the state folder up. */
  stop(): Promise<void>
}

/** A listen error as the user's fix: the address in use or not allowed names the flag to change. */
export function listenFailure(error: unknown, where: {host: string; port: number; inEmulator?: boolean}): unknown {
  const code = (error as NodeJS.ErrnoException).code
  if (code !== 'EADDRINUSE' && code !== 'EACCES') return error
  return failedPrecondition(
    `Cannot listen on ${where.host}:${where.port}: ${code === 'EADDRINUSE' ? 'the address is in use' : 'permission denied'}.`,
    `Choose another ${where.inEmulator ? '--runtime-port' : '--port'} (0 picks a free one).`,
  )
}

export async function holdRuntime(root: string, options: RuntimeServerOptions & {inEmulator?: boolean}): Promise<HeldRuntime> {
  await claimRuntimeFolder(root)
  let server: RuntimeServer
  try {
    server = await startRuntimeServer(options)
  } catch (error) {
    releaseRuntimeFolder(root)
    throw listenFailure(error, options)
  }
  recordRuntime(root, server, {https: options.tls !== undefined, upstreamTimeoutMs: options.timeoutMs ?? 15_000, inEmulator: options.inEmulator})
  return {
    server,
    async stop() {
      try {
        await server.close()
      } finally {
        releaseRuntimeFolder(root)
      }
    },
  }
}
