import * as Args from '@oclif/core/args'

import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {environmentFlag, organizationFlag} from '../../cli/flags.js'

export default class ReferencesDelete extends BaseCommand<typeof ReferencesDelete> {
  static summary = 'Delete a reference.'
  static examples = ['<%= config.bin %> references delete mtls_ref --organization myorg --environment dev']
  static args = {name: Args.string({description: 'Reference name.'})}
  static flags = {...apiFlags, organization: organizationFlag, environment: environmentFlag}

  protected async execute() {
    const {org, env} = await this.location()
    const name = await this.prompter.choose(this.args.name, {arg: 'NAME', message: 'Reference:'}, async () => (await this.apigee()).listReferenceNames(org, env))
    await (await this.apigee()).deleteReference(org, env, name)
    this.out.status(`Deleted reference [${name}].`)
    return undefined
  }
}
