import * as Args from '@oclif/core/args'

import {BaseCommand} from '../../cli/base-command.js'
import {organizationFlag} from '../../cli/flags.js'
import {deleteEnvironment, getEnvironment} from '../../core/environments.js'
import {envName} from '../../core/names.js'

export default class EnvironmentsDelete extends BaseCommand<typeof EnvironmentsDelete> {
  static summary = 'Delete an environment and everything it holds (keystores, references, deployments).'
  static examples = ['<%= config.bin %> environments delete dev --organization acme --quiet']
  static args = {env: Args.string({description: 'Environment name.'})}
  static flags = {organization: organizationFlag}

  protected async execute() {
    this.requireLocalEngine('`environments delete`')
    const org = await this.organization(this.flags.organization)
    const env = await this.prompter.require(this.args.env, {arg: 'ENV', message: 'Environment name:'})
    await getEnvironment(this.store, org, env)
    // A "no" throws AbortedByUser: `Aborted by user.`, exit 1, nothing deleted.
    await this.prompter.confirm(`Environment [${envName(org, env)}] and everything in it will be deleted. Do you want to continue?`)
    await deleteEnvironment(this.store, org, env)
    this.out.status(`Deleted environment [${env}].`)
    return undefined
  }
}
