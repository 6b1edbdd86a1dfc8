import * as Args from '@oclif/core/args'

import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {environmentFlag, organizationFlag} from '../../cli/flags.js'

export default class KeystoresCreate extends BaseCommand<typeof KeystoresCreate> {
  static summary = 'Create a keystore (or truststore) in an environment.'
  static examples = ['<%= config.bin %> keystores create mtls_keystore --organization myorg --environment dev']
  static defaultFormat = 'table(name)'
  static args = {name: Args.string({description: 'Keystore name.'})}
  static flags = {...apiFlags, organization: organizationFlag, environment: environmentFlag}

  protected async execute() {
    const {org, env} = await this.location()
    const name = await this.prompter.require(this.args.name, {arg: 'NAME', message: 'Keystore name:'})
    const keystore = await (await this.apigee()).createKeystore(org, env, name)
    this.out.status(`Created keystore [${name}].`)
    return keystore
  }
}
