import * as Args from '@oclif/core/args'

import {BaseCommand} from '../../cli/base-command.js'
import {environmentFlag, organizationFlag} from '../../cli/flags.js'
import {getReference} from '../../core/references.js'

export default class ReferencesDescribe extends BaseCommand<typeof ReferencesDescribe> {
  static summary = 'Describe a reference.'
  static examples = ['<%= config.bin %> references describe mtls_ref --organization myorg --environment dev']
  static args = {name: Args.string({description: 'Reference name.'})}
  static flags = {organization: organizationFlag, environment: environmentFlag}

  protected async execute() {
    const {org, env} = await this.location()
    const name = await this.prompter.require(this.args.name, {arg: 'NAME', message: 'Reference name:'})
    return getReference(this.store, org, env, name)
  }
}
