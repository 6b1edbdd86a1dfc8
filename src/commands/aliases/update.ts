import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {aliasInKeystore, environmentFlag, keystoreFlag, organizationFlag} from '../../cli/flags.js'
import {readInputFile} from '../../core/ca/keys.js'

export default class AliasesUpdate extends BaseCommand<typeof AliasesUpdate> {
  static summary = "Replace an alias's certificate (programmable environments; refused on configurable ones, as in Apigee)."
  static examples = ['<%= config.bin %> aliases update mtls_alias --keystore mtls_keystore --cert-file renewed.pem']
  static defaultFormat = 'yaml'
  static args = {alias: Args.string({description: 'Alias name.'})}
  static flags = {
    ...apiFlags,
    organization: organizationFlag,
    environment: environmentFlag,
    keystore: keystoreFlag,
    'cert-file': Flags.string({description: 'The new PEM certificate (its key must be the stored one).', helpValue: 'FILE'}),
    'ignore-expiry-validation': Flags.boolean({description: 'Store an expired or not-yet-valid certificate anyway.'}),
  }

  protected async execute() {
    const {org, env} = await this.location()
    const {alias, keystore} = await aliasInKeystore(this.prompter, this.args.alias, this.flags.keystore, {api: () => this.apigee(), org, env, existingAlias: true})
    const certFile = await this.prompter.require(this.flags['cert-file'], {flag: 'cert-file', message: 'New certificate file:'})
    const updated = await (await this.apigee()).updateAliasCertificate(org, env, keystore, alias, {data: readInputFile(certFile, 'certificate', 'cert-file'), file: certFile}, {
      ignoreExpiryValidation: this.flags['ignore-expiry-validation'],
    })
    this.out.status(`Updated alias [${alias}].`)
    return updated
  }
}
