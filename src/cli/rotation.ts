import * as Flags from '@oclif/core/flags'

import {describeFailure, describePlan, DeploymentFailed, RotationFailed, type PreparedRotation, type RotationEvents, type RotationResult} from '../core/rotation/index.js'
import {failedPrecondition} from '../core/errors.js'
import {OperationFailed} from './operation-failed.js'
import type {Output} from './output.js'
import {OperationProgress} from './progress.js'

/** Flags both rotate commands take. */
export const rotationFlags = {
  source: Flags.string({description: 'Folder holding src/main/apigee/ (or main/apigee/): rewritten, deployed, then written back.', helpValue: 'DIR'}),
  'dry-run': Flags.boolean({description: 'Print the plan (new names, each file change as a diff, the deployment); change nothing anywhere.'}),
  labels: Flags.string({description: 'Labels of the archive deployment, k=v,k2=v2.', helpValue: 'KEY=VALUE,...'}),
}

/**
 * What a rotate command shows while it runs: the plan and its diff on stderr, a line while it
 * waits for another rotation of the folder, gcloud's progress line for the deployment.
 */
export function rotationEvents(out: Output, source: string): RotationEvents {
  let progress: OperationProgress | undefined
  return {
    onPlan: (plan) => out.status(describePlan(plan)),
    onWaitForLock: (holder) => out.status(`Waiting for another rotation of ${source} (pid ${holder.pid}) to finish...`),
    onOperation: (operation) => {
      progress = new OperationProgress(out, operation.name.split('/').pop() as string)
      progress.start()
    },
    onPoll: () => progress?.tick(),
    onDeployed: (ok) => {
      progress?.tick()
      progress?.stop(ok)
    },
  }
}

/**
 * Runs a rotation; a stopped one says what it made (kept) and that the source folder is
 * unchanged, then fails with the error that stopped it (so its exit code: 1, or 3/4 in remote
 * mode), a failed deployment in gcloud's words.
 */
export async function runRotation(out: Output, source: string, run: () => Promise<RotationResult>): Promise<RotationResult> {
  try {
    return await run()
  } catch (error) {
    if (!(error instanceof RotationFailed)) throw error
    if (error.stage !== 'plan') out.error(describeFailure(error, source))
    const reason = error.reason
    if (reason instanceof DeploymentFailed) throw new OperationFailed(reason.operationName, reason.details)
    throw reason
  }
}

/** --dry-run: the plan is the result; a plan whose preflight finds problems is printed, then exit 1. */
export function dryRunRefusal(prepared: PreparedRotation): Error | undefined {
  const n = prepared.plan.problems.length
  if (n === 0) return undefined
  return failedPrecondition(
    `The rotation would stop before making anything: its preflight found ${n} problem(s).\n${prepared.plan.problems.map((p, i) => `Problem ${i + 1}${p.targetServer ? ` (target server "${p.targetServer}")` : ''}: ${p.message}`).join('\n')}`,
  )
}

/** The default rendering: a dry run's plan in words; a rotation's result falls back to YAML. */
export function renderRotation(result: unknown): string | undefined {
  if (result && typeof result === 'object' && 'targetServers' in result && 'problems' in result && 'files' in result) {
    return describePlan(result as PreparedRotation['plan'], {dryRun: true})
  }
  return undefined
}
