import * as Args from '@oclif/core/args'

import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {environmentFlag, organizationFlag} from '../../cli/flags.js'
import {describeArchiveDeployment} from '../../core/apigee/views.js'

export default class ArchivesDescribe extends BaseCommand<typeof ArchivesDescribe> {
  static summary = 'Describe an archive deployment.'
  static examples = ['<%= config.bin %> archives describe afjq46noszlmmgt3uh --organization myorg --environment dev']
  static args = {id: Args.string({description: 'Archive deployment id.'})}
  static flags = {...apiFlags, organization: organizationFlag, environment: environmentFlag}

  protected async execute() {
    const {org, env} = await this.location()
    const id = await this.prompter.require(this.args.id, {arg: 'ARCHIVE_ID', message: 'Archive deployment id:'})
    return describeArchiveDeployment(await this.apigee(), org, env, id)
  }
}
