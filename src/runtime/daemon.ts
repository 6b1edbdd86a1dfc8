import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {MtlsError, type RpcStatus} from '../core/errors.js'

/**
 * `runtime start --detach`, as the emulator's: runs `mtlsctl runtime start` (without
 * --detach) as a detached process logging to the state folder, and waits on an IPC channel
 * until it listens (or fails), so the URL printed is the one bound (`--port 0`).
 */
export const RUNTIME_DETACHED_ENV = 'MTLSCTL_RUNTIME_DETACHED'

export interface RuntimeDetachedMessage {
  url?: string
  pid?: number
  error?: {status: RpcStatus; message: string; hint?: string}
}

export function reportToParent(message: RuntimeDetachedMessage): void {
  if (process.env[RUNTIME_DETACHED_ENV] !== '1' || !process.send || !process.connected) return
  process.send(message, () => {
    if (process.connected) process.disconnect()
  })
}

export function startDetachedRuntime(cliRoot: string, args: string[], stateFolder: string, logFile: string): Promise<{pid: number; url: string}> {
  const log = fs.openSync(logFile, 'a', 0o600)
  const child = spawn(process.execPath, [path.join(cliRoot, 'bin', 'run.js'), 'runtime', 'start', ...args], {
    detached: true,
    stdio: ['ignore', log, log, 'ipc'],
    env: {...process.env, MTLSCTL_HOME: stateFolder, [RUNTIME_DETACHED_ENV]: '1', NO_COLOR: '1'},
  })
  fs.closeSync(log)
  return new Promise((resolve, reject) => {
    const exited = (code: number | null) =>
      reject(new MtlsError('INTERNAL', `The runtime exited (code ${code}) before it listened.`, {hint: `See its log: ${logFile}`}))
    child.once('error', reject)
    child.once('exit', exited)
    child.once('message', (message: RuntimeDetachedMessage) => {
      child.off('exit', exited)
      if (child.connected) child.disconnect()
      child.unref()
      if (message.error) reject(new MtlsError(message.error.status, message.error.message, {hint: message.error.hint}))
      else resolve({pid: message.pid ?? (child.pid as number), url: message.url as string})
    })
  })
}
