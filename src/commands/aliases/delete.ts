import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {aliasInKeystore, environmentFlag, keystoreFlag, organizationFlag} from '../../cli/flags.js'
import {aliasUsers, inUseError} from '../../core/apigee/usage.js'

export default class AliasesDelete extends BaseCommand<typeof AliasesDelete> {
  static summary = 'Delete an alias (its certificate and key).'
  static examples = ['<%= config.bin %> aliases delete old_alias --keystore mtls_keystore --quiet']
  static args = {alias: Args.string({description: 'Alias name.'})}
  static flags = {
    ...apiFlags,
    organization: organizationFlag,
    environment: environmentFlag,
    keystore: keystoreFlag,
    force: Flags.boolean({description: 'Delete it even when the latest deployment uses it (its target servers then fail).'}),
  }

  protected async execute() {
    const {org, env} = await this.location()
    const {alias, keystore} = await aliasInKeystore(this.prompter, this.args.alias, this.flags.keystore, {api: () => this.apigee(), org, env, existingAlias: true})
    const api = await this.apigee()
    await api.getAlias(org, env, keystore, alias)
    if (!this.flags.force) {
      const users = await aliasUsers(api, org, env, keystore, alias)
      if (users.length > 0) throw inUseError('alias', org, env, keystore, alias, users)
    }
    // A "no" throws AbortedByUser: `Aborted by user.`, exit 1, nothing deleted.
    await this.prompter.confirm(`Alias [${alias}] in keystore [${keystore}] will be deleted. Do you want to continue?`)
    await (await this.apigee()).deleteAlias(org, env, keystore, alias)
    this.out.status(`Deleted alias [${alias}].`)
    return undefined
  }
}
