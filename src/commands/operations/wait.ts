import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {organizationFlag} from '../../cli/flags.js'
import {OperationFailed} from '../../cli/operation-failed.js'
import {resolveOperation} from '../../cli/operation-ref.js'
import {OperationProgress} from '../../cli/progress.js'
import {UsageError} from '../../cli/usage-error.js'
import {waitForOperation} from '../../core/apigee/views.js'
import {describeOperation} from '../../core/operations.js'

function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (!match) throw new UsageError(`Invalid --timeout "${text}": use e.g. 90s, 10m or 1h.`)
  const unit = {ms: 1, s: 1000, m: 60_000, h: 3_600_000}[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h']
  return Number(match[1]) * unit
}

export default class OperationsWait extends BaseCommand<typeof OperationsWait> {
  static summary = "Wait for an operation to finish (gcloud's backoff: 1 s, x1.4, jitter)."
  static examples = ['<%= config.bin %> operations wait 6b7dbb09-fa01-4cb1-8c3f-9393027b3d92 --organization myorg --timeout 10m']
  static defaultFormat = 'yaml'
  static args = {operation: Args.string({description: 'Operation UUID or full name.'})}
  static flags = {
    ...apiFlags,
    organization: organizationFlag,
    timeout: Flags.string({description: 'Give up after this long (exit 1, operation left running).', default: '10m', helpValue: 'DURATION'}),
  }

  protected async execute() {
    const ref = await this.prompter.require(this.args.operation, {arg: 'OPERATION', message: 'Operation UUID:'})
    const timeoutMs = parseDuration(this.flags.timeout)
    const {org, uuid} = await resolveOperation(ref, (f) => this.organization(f), this.flags.organization)
    const progress = new OperationProgress(this.out, uuid)
    progress.start()
    let operation
    try {
      const api = await this.apigee()
      operation = await waitForOperation(api, org, uuid, {timeoutMs, onPoll: () => progress.tick()})
    } catch (error) {
      progress.stop(false)
      throw error
    }
    progress.stop(!operation.error)
    if (operation.error) throw new OperationFailed(operation.name, operation.error.message)
    return describeOperation(org, operation)
  }
}
