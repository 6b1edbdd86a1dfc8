import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {environmentFlag, organizationFlag} from '../../cli/flags.js'
import type {Reference, ReferenceInput} from '../../core/references.js'

export default class ReferencesCreate extends BaseCommand<typeof ReferencesCreate> {
  static summary = 'Create a reference to a keystore or truststore.'
  static examples = [
    '<%= config.bin %> references create mtls_ref --refers mtls_keystore --resource-type KeyStore --organization myorg --environment dev',
  ]
  static defaultFormat = 'table(name,resourceType,refers)'
  static args = {name: Args.string({description: 'Reference name.'})}
  static flags = {
    ...apiFlags,
    organization: organizationFlag,
    environment: environmentFlag,
    refers: Flags.string({description: 'The keystore (or truststore) it refers to.', helpValue: 'KEYSTORE'}),
    'resource-type': Flags.string({description: 'What it refers to.', options: ['KeyStore', 'TrustStore'], default: 'KeyStore'}),
    description: Flags.string({description: 'Description.'}),
  }

  protected async execute() {
    const {org, env} = await this.location()
    const name = this.newName ? await this.prompter.require(this.args.name, {arg: 'NAME', message: 'Reference name:'}) : await this.prompter.choose(this.args.name, {arg: 'NAME', message: 'Reference:'}, async () => (await this.apigee()).listReferenceNames(org, env))
    const refers = await this.prompter.choose(this.flags.refers, {flag: 'refers', message: 'Keystore it refers to:'}, async () => (await this.apigee()).listKeystoreNames(org, env))
    const reference = await this.save(org, env, name, {refers, resourceType: this.flags['resource-type'], description: this.flags.description})
    this.out.status(`${this.verb} reference [${name}].`)
    return reference
  }

  protected verb = 'Created'
  /** create names a new reference; update picks an existing one. */
  protected newName = true

  protected async save(org: string, env: string, name: string, input: ReferenceInput): Promise<Reference> {
    return (await this.apigee()).createReference(org, env, name, input)
  }
}
