import * as Args from '@oclif/core/args'

import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {aliasInKeystore, environmentFlag, keystoreFlag, organizationFlag} from '../../cli/flags.js'
import {aliasUsers, usedBy} from '../../core/apigee/usage.js'

export default class AliasesDescribe extends BaseCommand<typeof AliasesDescribe> {
  static summary = "Describe an alias: Apigee's Alias shape (alias, type, certsInfo.certInfo[]) and usedBy, the deployed target servers that present it."
  static examples = ['<%= config.bin %> aliases describe mtls_alias --keystore mtls_keystore --format json']
  static defaultFormat = 'yaml'
  static args = {alias: Args.string({description: 'Alias name.'})}
  static flags = {
    ...apiFlags,
    organization: organizationFlag,
    environment: environmentFlag,
    keystore: keystoreFlag,
  }

  protected async execute() {
    const {org, env} = await this.location()
    const {alias, keystore} = await aliasInKeystore(this.prompter, this.args.alias, this.flags.keystore, {api: () => this.apigee(), org, env, existingAlias: true})
    const api = await this.apigee()
    const described = await api.getAlias(org, env, keystore, alias)
    return {...described, usedBy: (await aliasUsers(api, org, env, keystore, alias)).map(usedBy)}
  }
}
