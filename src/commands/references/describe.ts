import * as Args from '@oclif/core/args'

import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {environmentFlag, organizationFlag} from '../../cli/flags.js'

export default class ReferencesDescribe extends BaseCommand<typeof ReferencesDescribe> {
  static summary = 'Describe a reference.'
  static examples = ['<%= config.bin %> references describe mtls_ref --organization myorg --environment dev']
  static args = {name: Args.string({description: 'Reference name.'})}
  static flags = {...apiFlags, organization: organizationFlag, environment: environmentFlag}

  protected async execute() {
    const {org, env} = await this.location()
    const name = await this.prompter.choose(this.args.name, {arg: 'NAME', message: 'Reference:'}, async () => (await this.apigee()).listReferenceNames(org, env))
    return (await this.apigee()).getReference(org, env, name)
  }
}
