import {spawn} from 'node:child_process'
import * as path from 'node:path'

/**
 * Starts the detached worker that runs an operation after the command has returned
 * (`archives deploy --async`). It outlives this process; its stdio goes nowhere.
 */
export function startWorker(root: string, args: string[]): number | undefined {
  const child = spawn(process.execPath, [path.join(root, 'dist', 'worker.js'), ...args], {
    detached: true,
    stdio: 'ignore',
    env: process.env,
  })
  child.unref()
  return child.pid
}
