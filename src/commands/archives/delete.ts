import * as Args from '@oclif/core/args'

import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {environmentFlag, organizationFlag} from '../../cli/flags.js'

export default class ArchivesDelete extends BaseCommand<typeof ArchivesDelete> {
  static summary = 'Delete an archive deployment.'
  static examples = ['<%= config.bin %> archives delete afjq46noszlmmgt3uh --organization myorg --environment dev --quiet']
  static args = {id: Args.string({description: 'Archive deployment id.'})}
  static flags = {...apiFlags, organization: organizationFlag, environment: environmentFlag}

  protected async execute() {
    const {org, env} = await this.location()
    const id = await this.prompter.require(this.args.id, {arg: 'ARCHIVE_ID', message: 'Archive deployment id:'})
    await (await this.apigee()).getArchiveDeployment(org, env, id)
    this.out.status(`Archive deployment [${id}] will be deleted.`)
    await this.prompter.confirm('Do you want to continue?')
    await (await this.apigee()).deleteArchiveDeployment(org, env, id)
    this.out.status(`Archive deployment [${id}] deleted.`)
    return undefined
  }
}
