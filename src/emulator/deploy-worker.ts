import {spawn, type ChildProcess} from 'node:child_process'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

import {MtlsError, type RpcStatus} from '../core/errors.js'
import {finishOperation, type Operation} from '../core/operations.js'
import type {Store} from '../core/store/index.js'

/**
 * Archive deployments created through the API run in a child process, never on the
 * emulator's event loop: `dist/worker.js` in its emulator mode creates the deployment (so the
 * upload is read there, not in the server), answers the operation on its IPC channel, then
 * holds the operation's lease and runs the deployment as `archives deploy --async`'s worker
 * does. A crash, or a zip bomb's memory, stays in the child; the server answers meanwhile.
 */

/** What the emulator sends the worker (one message). */
export interface DeployRequest {
  root: string
  org: string
  env: string
  /** The uploaded zip (a file in the emulator's private upload folder). */
  zipFile: string
  labels?: Record<string, string>
  gcsUri: string
}

/** What the worker answers (one message): the created operation, or why it was not created. */
export type DeployAnswer = {operation: Operation} | {error: {status: RpcStatus; message: string; hint?: string}}

/** The first argument that selects the worker's emulator mode. */
export const EMULATOR_WORKER_ARG = '--emulator-deployment'

/** How to start the worker: dist/worker.js next to the bundle, or src/worker.ts through tsx (tests, bin/dev.js). */
function workerCommand(): {args: string[]; cwd?: string} {
  const here = fileURLToPath(import.meta.url)
  if (here.endsWith('.ts')) {
    const src = path.resolve(path.dirname(here), '..')
    return {args: ['--import', 'tsx', '--no-warnings', path.join(src, 'worker.ts'), EMULATOR_WORKER_ARG], cwd: path.dirname(src)}
  }
  return {args: [path.join(path.dirname(here), 'worker.js'), EMULATOR_WORKER_ARG]}
}

const STDERR_KEEP = 64 * 1024

export interface StartedDeployment {
  operation: Operation
  /** Settles when the worker has exited (and a crashed worker's operation is finished). */
  finished: Promise<void>
  pid: number
}

/**
 * Starts a deployment in a worker process. Resolves once the worker has created it (with its
 * operation), rejects with the engine's error when it refused to (an environment of the wrong
 * type ...). `onError` receives what a failing worker wrote on stderr; `store` finishes the
 * operation of a worker that died before finishing it.
 */
export function startDeployment(request: DeployRequest, store: () => Store, onError: (line: string) => void): Promise<StartedDeployment> {
  const {args, cwd} = workerCommand()
  let child: ChildProcess
  try {
    // Its own process group: a Ctrl-C meant for a foreground emulator does not kill the
    // deployments it waits for.
    child = spawn(process.execPath, args, {cwd, detached: true, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: process.env})
  } catch (error) {
    onError(`Cannot start the deployment worker: ${(error as Error).message}`)
    return Promise.reject(new MtlsError('INTERNAL', 'Cannot start the deployment worker.'))
  }
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < STDERR_KEEP) stderr += d
  })
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) =>
    child.once('exit', (code, signal) => resolve({code, signal})),
  )
  const how = ({code, signal}: {code: number | null; signal: NodeJS.Signals | null}) => (signal ? `signal ${signal}` : `exit code ${code}`)

  return new Promise<StartedDeployment>((resolve, reject) => {
    let answered = false
    child.once('error', (error) => {
      if (answered) return
      answered = true
      onError(`The deployment worker could not run: ${error.message}`)
      reject(new MtlsError('INTERNAL', 'The deployment worker could not run.'))
    })
    child.once('message', (message: DeployAnswer) => {
      answered = true
      if ('error' in message) {
        reject(new MtlsError(message.error.status, message.error.message, {hint: message.error.hint}))
        return
      }
      const {operation} = message
      const finished = exited.then(async (exit) => {
        if (exit.code === 0) return
        onError(`The deployment worker of ${operation.name} (pid ${child.pid}) stopped with ${how(exit)}${stderr ? `:\n${stderr.trimEnd()}` : '.'}`)
        await finishOperation(store(), operation.name, {
          error: new MtlsError('INTERNAL', `The process working on this operation (pid ${child.pid}) stopped before finishing it.`),
        }).catch((error: unknown) => onError(`Cannot finish ${operation.name}: ${(error as Error)?.message ?? String(error)}`))
      })
      resolve({operation, finished, pid: child.pid as number})
    })
    void exited.then((exit) => {
      if (answered) return
      answered = true
      onError(`The deployment worker stopped with ${how(exit)} before answering${stderr ? `:\n${stderr.trimEnd()}` : '.'}`)
      reject(new MtlsError('INTERNAL', 'The deployment worker stopped before creating the deployment.'))
    })
    child.send(request satisfies DeployRequest)
  })
}
