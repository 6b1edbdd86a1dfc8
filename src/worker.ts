/**
 * The detached worker behind `archives deploy --async`: takes the operation's lease, keeps it
 * while it works, runs the deployment and finishes the operation. If it dies, the lease runs
 * out and the next reader finishes the operation with INTERNAL.
 *
 *   node dist/worker.js STATE_FOLDER ORG DEPLOYMENT_NAME OPERATION_NAME
 */
import * as fs from 'node:fs'

import {runArchiveDeployment} from './core/archives/deployments.js'
import {holdOperation, leaseMs} from './core/operations.js'
import {FileStore} from './core/store/index.js'

const [home, org, deploymentName, operationName] = process.argv.slice(2)
const store = new FileStore(home)

if (await holdOperation(store, operationName)) {
  const renew = setInterval(() => void holdOperation(store, operationName).catch(() => {}), Math.max(50, leaseMs() / 3))
  // Test hook: hold the operation until a file appears, so a test can kill the worker mid-way.
  const pause = process.env.MTLSCTL_WORKER_PAUSE_FILE
  if (pause) {
    while (!fs.existsSync(pause)) await new Promise((resolve) => setTimeout(resolve, 20))
  }
  try {
    await runArchiveDeployment(store, org, deploymentName)
  } finally {
    clearInterval(renew)
  }
}
