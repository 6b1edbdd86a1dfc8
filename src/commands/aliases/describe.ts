import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {environmentFlag, keystoreFlag, organizationFlag} from '../../cli/flags.js'
import {getAlias} from '../../core/aliases.js'

export default class AliasesDescribe extends BaseCommand<typeof AliasesDescribe> {
  static summary = "Describe an alias: Apigee's Alias shape (alias, type, certsInfo.certInfo[])."
  static examples = ['<%= config.bin %> aliases describe mtls_alias --keystore mtls_keystore --format json']
  static defaultFormat = 'yaml'
  static args = {alias: Args.string({description: 'Alias name.'})}
  static flags = {
    organization: organizationFlag,
    environment: environmentFlag,
    keystore: keystoreFlag,
  }

  protected async execute() {
    const {org, env} = await this.location()
    const alias = await this.prompter.require(this.args.alias, {arg: 'ALIAS', message: 'Alias name:'})
    const keystore = await this.prompter.require(this.flags.keystore, {flag: 'keystore', message: 'Keystore:'})
    return getAlias(this.store, org, env, keystore, alias)
  }
}
