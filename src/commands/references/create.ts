import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import {environmentFlag, organizationFlag} from '../../cli/flags.js'
import {createReference, type Reference, type ReferenceInput} from '../../core/references.js'

export default class ReferencesCreate extends BaseCommand<typeof ReferencesCreate> {
  static summary = 'Create a reference to a keystore or truststore.'
  static examples = [
    '<%= config.bin %> references create mtls_ref --refers mtls_keystore --resource-type KeyStore --organization myorg --environment dev',
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
    const {org, env} = await this.location()
    const name = await this.prompter.require(this.args.name, {arg: 'NAME', message: 'Reference name:'})
    const refers = await this.prompter.require(this.flags.refers, {flag: 'refers', message: 'Keystore it refers to:'})
    const reference = await this.save(org, env, name, {refers, resourceType: this.flags['resource-type'], description: this.flags.description})
    this.out.status(`${this.verb} reference [${name}].`)
    return reference
  }

  protected verb = 'Created'

  protected save(org: string, env: string, name: string, input: ReferenceInput): Promise<Reference> {
    return createReference(this.store, org, env, name, input)
  }
}
