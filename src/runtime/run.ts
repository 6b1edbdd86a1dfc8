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

export async function holdRuntime(root: string, options: RuntimeServerOptions & {inEmulator?: boolean}): Promise<HeldRuntime> {
  await claimRuntimeFolder(root)
  let server: RuntimeServer
  try {
    server = await startRuntimeServer(options)
  } catch (error) {
    releaseRuntimeFolder(root)
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw failedPrecondition(
        `Cannot listen on ${options.host}:${options.port}: ${code === 'EADDRINUSE' ? 'the address is in use' : 'permission denied'}.`,
        `Choose another ${options.inEmulator ? '--runtime-port' : '--port'} (0 picks a free one).`,
      )
    }
    throw error
  }
  recordRuntime({
    pid: process.pid,
    url: server.url,
    host: server.host,
    port: server.port,
    stateFolder: root,
    startedAt: new Date().toISOString(),
    https: options.tls !== undefined,
    ...(options.inEmulator ? {inEmulator: true} : {}),
  })
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
