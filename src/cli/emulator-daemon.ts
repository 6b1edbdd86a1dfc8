import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {MtlsError, type RpcStatus} from '../core/errors.js'

/**
 * `emulator start --detach`: runs `mtlsctl emulator start` (without --detach) as a detached
 * process whose stdout and stderr go to the log file, and waits on an IPC channel until it
 * listens (or fails), so the endpoint printed is the one actually bound (`--port 0`).
 */
export const DETACHED_ENV = 'MTLSCTL_EMULATOR_DETACHED'

export interface DetachedMessage {
  url?: string
  pid?: number
  /** The runtime beside the API (--runtime-port). */
  runtimeUrl?: string
  error?: {status: RpcStatus; message: string; hint?: string}
}

/** In the detached emulator: tells the parent it listens (or why it could not), then lets it go. */
export function reportToParent(message: DetachedMessage): void {
  if (process.env[DETACHED_ENV] !== '1' || !process.send || !process.connected) return
  process.send(message, () => {
    if (process.connected) process.disconnect()
  })
}

export function startDetached(cliRoot: string, args: string[], stateFolder: string, logFile: string): Promise<{pid: number; url: string; runtimeUrl?: string}> {
  const log = fs.openSync(logFile, 'a', 0o600)
  const child = spawn(process.execPath, [path.join(cliRoot, 'bin', 'run.js'), 'emulator', 'start', ...args], {
    detached: true,
    stdio: ['ignore', log, log, 'ipc'],
    env: {...process.env, MTLSCTL_HOME: stateFolder, [DETACHED_ENV]: '1', NO_COLOR: '1'},
  })
  fs.closeSync(log)
  return new Promise((resolve, reject) => {
    const exited = (code: number | null) =>
      reject(new MtlsError('INTERNAL', `The emulator exited (code ${code}) before it listened.`, {hint: `See its log: ${logFile}`}))
    child.once('error', reject)
    child.once('exit', exited)
    child.once('message', (message: DetachedMessage) => {
      child.off('exit', exited)
      if (child.connected) child.disconnect()
      child.unref()
      if (message.error) reject(new MtlsError(message.error.status, message.error.message, {hint: message.error.hint}))
      else resolve({pid: message.pid ?? (child.pid as number), url: message.url as string, runtimeUrl: message.runtimeUrl})
    })
  })
}
