import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {environmentFlag, organizationFlag} from '../../cli/flags.js'
import {inUseError, keystoreUsers} from '../../core/apigee/usage.js'

export default class KeystoresDelete extends BaseCommand<typeof KeystoresDelete> {
  static summary = 'Delete a keystore and every alias in it.'
  static examples = ['<%= config.bin %> keystores delete mtls_keystore --organization myorg --environment dev --quiet']
  static args = {name: Args.string({description: 'Keystore name.'})}
  static flags = {
    ...apiFlags,
    organization: organizationFlag,
    environment: environmentFlag,
    force: Flags.boolean({description: 'Delete it even when the latest deployment uses it (its target servers then fail).'}),
  }

  protected async execute() {
    const {org, env} = await this.location()
    const name = await this.prompter.choose(this.args.name, {arg: 'NAME', message: 'Keystore:'}, async () => (await this.apigee()).listKeystoreNames(org, env))
    const api = await this.apigee()
    const keystore = await api.getKeystore(org, env, name)
    if (!this.flags.force) {
      const users = await keystoreUsers(api, org, env, name)
      if (users.length > 0) throw inUseError('keystore', org, env, name, undefined, users)
    }
    const holds = keystore.aliases.length === 0 ? '' : ` and its ${keystore.aliases.length} alias(es)`
    // A "no" throws AbortedByUser: `Aborted by user.`, exit 1, nothing deleted.
    await this.prompter.confirm(`Keystore [${name}]${holds} will be deleted. Do you want to continue?`)
    await (await this.apigee()).deleteKeystore(org, env, name)
    this.out.status(`Deleted keystore [${name}].`)
    return undefined
  }
}
