import * as Args from '@oclif/core/args'

import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {environmentFlag, organizationFlag} from '../../cli/flags.js'

export default class KeystoresDelete extends BaseCommand<typeof KeystoresDelete> {
  static summary = 'Delete a keystore and every alias in it.'
  static examples = ['<%= config.bin %> keystores delete mtls_keystore --organization myorg --environment dev --quiet']
  static args = {name: Args.string({description: 'Keystore name.'})}
  static flags = {...apiFlags, organization: organizationFlag, environment: environmentFlag}

  protected async execute() {
    const {org, env} = await this.location()
    const name = await this.prompter.choose(this.args.name, {arg: 'NAME', message: 'Keystore:'}, async () => (await this.apigee()).listKeystoreNames(org, env))
    const keystore = await (await this.apigee()).getKeystore(org, env, name)
    const holds = keystore.aliases.length === 0 ? '' : ` and its ${keystore.aliases.length} alias(es)`
    // A "no" throws AbortedByUser: `Aborted by user.`, exit 1, nothing deleted.
    await this.prompter.confirm(`Keystore [${name}]${holds} will be deleted. Do you want to continue?`)
    await (await this.apigee()).deleteKeystore(org, env, name)
    this.out.status(`Deleted keystore [${name}].`)
    return undefined
  }
}
