/**
 * The worker that runs an archive deployment outside the process that accepted it.
 *
 *   node dist/worker.js STATE_FOLDER ORG DEPLOYMENT_NAME OPERATION_NAME
 *     `archives deploy --async`: takes the operation's lease, keeps it while it works, runs
 *     the deployment and finishes the operation. If it dies, the lease runs out and the next
 *     reader finishes the operation with INTERNAL.
 *
 *   node dist/worker.js --emulator-deployment      (started by the emulator, with an IPC channel)
 *     receives a DeployRequest, creates the deployment (lease: this process), answers the
 *     operation (or the engine's refusal) on the channel, then runs it as above. The emulator
 *     stays free to answer requests, and a crash or a zip bomb's memory stays here.
 */
import * as fs from 'node:fs'

import type {DeployAnswer, DeployRequest} from './emulator/deploy-worker.js'
import {createArchiveDeployment, runArchiveDeployment} from './core/archives/deployments.js'
import {failedPrecondition, isMtlsError, MtlsError} from './core/errors.js'
import {readInput, unexpectedError} from './core/input.js'
import {holdOperation, leaseMs} from './core/operations.js'
import {FileStore} from './core/store/index.js'

async function run(store: FileStore, org: string, deploymentName: string, operationName: string): Promise<void> {
  const renew = setInterval(() => void holdOperation(store, operationName).catch(() => {}), Math.max(50, leaseMs() / 3))
  try {
    // Test hook: hold the operation until a file appears, so a test can act while it runs.
    const pause = process.env.MTLSCTL_WORKER_PAUSE_FILE
    if (pause) {
      while (!fs.existsSync(pause)) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await runArchiveDeployment(store, org, deploymentName)
  } finally {
    clearInterval(renew)
  }
}

function answer(message: DeployAnswer): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve()
    process.send(message, () => {
      if (process.connected) process.disconnect()
      resolve()
    })
  })
}

/** The upload, from the emulator's private folder, whose path is nobody's business but the emulator's. */
function readUpload(file: string): Buffer {
  try {
    return readInput(file, {what: 'uploaded archive', kind: 'archive'})
  } catch (error) {
    if (!fs.existsSync(file)) throw failedPrecondition('The uploaded archive is no longer on the emulator.', 'Upload it again (gcloud does so on its next deploy).')
    if (!isMtlsError(error)) throw unexpectedError(error)
    // Too large, unreadable ...: said without the path.
    throw new MtlsError(error.status, error.message.replaceAll(` file ${file}`, '').replaceAll(file, 'the upload'))
  }
}

async function emulatorDeployment(request: DeployRequest): Promise<void> {
  const store = new FileStore(request.root)
  let created
  try {
    const zip = readUpload(request.zipFile)
    created = await createArchiveDeployment(store, request.org, request.env, zip, {labels: request.labels, gcsUri: request.gcsUri, workerPid: process.pid})
  } catch (error) {
    if (isMtlsError(error)) {
      await answer({error: {status: error.status, message: error.message, ...(error.hint ? {hint: error.hint} : {})}})
      return
    }
    throw error
  }
  await answer({operation: created.operation})
  await run(store, request.org, created.deployment.name, created.operation.name)
}

if (process.argv[2] === '--emulator-deployment') {
  let received = false
  // An emulator gone before it sent the request: nothing to do.
  process.once('disconnect', () => {
    if (!received) process.exit(1)
  })
  process.once('message', (request: DeployRequest) => {
    received = true
    emulatorDeployment(request).catch((error: unknown) => {
      process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`)
      process.exitCode = 1
    })
  })
} else {
  const [home, org, deploymentName, operationName] = process.argv.slice(2)
  const store = new FileStore(home)
  if (await holdOperation(store, operationName)) await run(store, org, deploymentName, operationName)
}
