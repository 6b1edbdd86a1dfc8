import * as Args from '@oclif/core/args'

import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {organizationFlag} from '../../cli/flags.js'

export default class EnvironmentsDescribe extends BaseCommand<typeof EnvironmentsDescribe> {
  static summary = 'Describe an environment.'
  static examples = ['<%= config.bin %> environments describe dev --organization acme']
  static args = {env: Args.string({description: 'Environment name.'})}
  static flags = {...apiFlags, organization: organizationFlag}

  protected async execute() {
    const org = await this.organization(this.flags.organization)
    const env = await this.prompter.choose(this.args.env, {arg: 'ENV', message: 'Environment:'}, async () => (await this.apigee()).listEnvironmentNames(org))
    return (await this.apigee()).getEnvironment(org, env)
  }
}
