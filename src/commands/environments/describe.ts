import * as Args from '@oclif/core/args'

import {BaseCommand} from '../../cli/base-command.js'
import {organizationFlag} from '../../cli/flags.js'
import {getEnvironment} from '../../core/environments.js'

export default class EnvironmentsDescribe extends BaseCommand<typeof EnvironmentsDescribe> {
  static summary = 'Describe an environment.'
  static examples = ['<%= config.bin %> environments describe dev --organization acme']
  static args = {env: Args.string({description: 'Environment name.'})}
  static flags = {organization: organizationFlag}

  protected async execute() {
    const org = await this.organization(this.flags.organization)
    const env = await this.prompter.require(this.args.env, {arg: 'ENV', message: 'Environment name:'})
    return getEnvironment(this.store, org, env)
  }
}
