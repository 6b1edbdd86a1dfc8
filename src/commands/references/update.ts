import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {environmentFlag, organizationFlag} from '../../cli/flags.js'
import {updateReference} from '../../core/references.js'

export default class ReferencesUpdate extends BaseCommand<typeof ReferencesUpdate> {
  static summary = 'Point a reference at another keystore (refused on configurable-proxy environments).'
  static examples = [
    '<%= config.bin %> references update mtls_ref --refers mtls_keystore --resource-type KeyStore --organization myorg --environment dev',
  ]
  static defaultFormat = 'table(name,resourceType,refers)'
  static args = {name: Args.string({description: 'Reference name.'})}
  static flags = {
    organization: organizationFlag,
    environment: environmentFlag,
    refers: Flags.string({description: 'The keystore (or truststore) it refers to.', helpValue: 'KEYSTORE'}),
    'resource-type': Flags.string({description: 'What it refers to.', options: ['KeyStore', 'TrustStore'], default: 'KeyStore'}),
    description: Flags.string({description: 'Description.'}),
  }

  protected async execute() {
    const org = await this.organization(this.flags.organization)
    const env = await this.environment(this.flags.environment)
    const name = await this.prompter.require(this.args.name, {arg: 'NAME', message: 'Reference name:'})
    const refers = await this.prompter.require(this.flags.refers, {flag: 'refers', message: 'Keystore it refers to:'})
    const reference = await updateReference(this.store, org, env, name, {
      refers,
      resourceType: this.flags['resource-type'],
      description: this.flags.description,
    })
    this.out.status(`Updated reference [${name}].`)
    return reference
  }
}
