import * as Args from '@oclif/core/args'

import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {organizationFlag} from '../../cli/flags.js'
import {resolveOperation} from '../../cli/operation-ref.js'
import {describeOperation} from '../../core/operations.js'

export default class OperationsDescribe extends BaseCommand<typeof OperationsDescribe> {
  static summary = 'Describe a long-running operation (the YAML gcloud prints).'
  static examples = [
    '<%= config.bin %> operations describe 6b7dbb09-fa01-4cb1-8c3f-9393027b3d92 --organization myorg',
    "<%= config.bin %> operations describe organizations/myorg/operations/6b7dbb09-fa01-4cb1-8c3f-9393027b3d92 --format='value(done)'",
  ]
  static defaultFormat = 'yaml'
  static args = {operation: Args.string({description: 'Operation UUID or full name.'})}
  static flags = {...apiFlags, organization: organizationFlag}

  protected async execute() {
    const ref = await this.prompter.require(this.args.operation, {arg: 'OPERATION', message: 'Operation UUID:'})
    const {org, uuid} = await resolveOperation(ref, (f) => this.organization(f), this.flags.organization)
    return describeOperation(org, await (await this.apigee()).getOperation(org, uuid))
  }
}
