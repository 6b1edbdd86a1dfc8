import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {aliasInKeystore, environmentFlag, keystoreFlag, organizationFlag} from '../../cli/flags.js'
import {writeOutputs} from '../../core/ca/files.js'

export default class AliasesCsr extends BaseCommand<typeof AliasesCsr> {
  static summary = "A certificate signing request for a key+cert alias's key (subject and SANs of its certificate)."
  static examples = ['<%= config.bin %> aliases csr mtls_alias --keystore mtls_keystore --out mtls_alias.csr']
  static args = {alias: Args.string({description: 'Alias name.'})}
  static flags = {
    ...apiFlags,
    organization: organizationFlag,
    environment: environmentFlag,
    keystore: keystoreFlag,
    out: Flags.string({description: 'Write the CSR here instead of stdout.', helpValue: 'FILE'}),
    force: Flags.boolean({description: 'Overwrite --out if it exists.'}),
  }

  protected async execute() {
    const {org, env} = await this.location()
    const {alias, keystore} = await aliasInKeystore(this.prompter, this.args.alias, this.flags.keystore, {api: () => this.apigee(), org, env, existingAlias: true})
    const csr = await (await this.apigee()).aliasCsr(org, env, keystore, alias)
    if (this.flags.out === undefined) return {csr}
    writeOutputs([{path: this.flags.out, data: csr}], this.flags.force)
    this.out.status(`Wrote ${this.flags.out}.`)
    return undefined
  }

  protected renderDefault(result: {csr: string}) {
    return result.csr
  }
}
