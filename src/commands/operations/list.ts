import * as Flags from '@oclif/core/flags'

import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {organizationFlag} from '../../cli/flags.js'
import {UsageError} from '../../cli/usage-error.js'
import {describeOperation} from '../../core/operations.js'

export default class OperationsList extends BaseCommand<typeof OperationsList> {
  static summary = 'List the operations of an organization, newest first.'
  static examples = ['<%= config.bin %> operations list --organization myorg --filter state=FINISHED']
  static defaultFormat =
    "table(uuid:label=UUID,metadata.operationType:label=TYPE,metadata.state:label=STATE,done:label=DONE,metadata.targetResourceName:label=TARGET)"
  static flags = {
    ...apiFlags,
    organization: organizationFlag,
    filter: Flags.string({description: 'Only operations in this state: state=NOT_STARTED|IN_PROGRESS|FINISHED.', helpValue: 'state=STATE'}),
  }

  protected async execute() {
    const org = await this.organization(this.flags.organization)
    let state: string | undefined
    if (this.flags.filter !== undefined) {
      const match = /^\s*(?:metadata\.)?state\s*[=:]\s*(NOT_STARTED|IN_PROGRESS|FINISHED)\s*$/i.exec(this.flags.filter)
      if (!match) throw new UsageError(`Invalid --filter "${this.flags.filter}": use state=NOT_STARTED, state=IN_PROGRESS or state=FINISHED.`)
      state = match[1].toUpperCase()
    }
    return (await (await this.apigee()).listOperations(org, {state})).map((op) => describeOperation(org, op))
  }
}
