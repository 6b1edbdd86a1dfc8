import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {aliasInKeystore, environmentFlag, keystoreFlag, organizationFlag} from '../../cli/flags.js'
import {aliasCaFlags, aliasFileFlags, caSelection, fileAliasSource, requireOneSource} from '../../cli/alias-source-flags.js'
import type {AliasSource} from '../../core/alias-sources.js'
import {choiceIntegerFlag, daysFlag, sanFlag, subjectFlag} from '../../cli/value-flags.js'

export default class AliasesAdd extends BaseCommand<typeof AliasesAdd> {
  static summary = 'Add an alias to a keystore: key and certificate, certificate only (truststore), PKCS#12, self-signed, or issued by the local CA.'
  static description = `Exactly one source:
  --cert-file F [--key-file F] [--key-password-file F]   Apigee's keycertfile (no key: a certificate-only alias)
  --p12-file F --p12-password-file F                      Apigee's pkcs12
  --self-signed --subject S [--san ...] [--days N]        Apigee's selfsignedcert
  --ca CA --subject S [--san ...] [--usage ...]           a key and a certificate issued by the local CA
The certificate must parse, the key must open and match it, and it must be valid now
(unless --ignore-expiry-validation). Nothing is stored when a check fails.`
  static examples = [
    '<%= config.bin %> aliases add mtls_alias --keystore mtls_keystore --cert-file my_gateway.pem --key-file my_gateway.key',
    '<%= config.bin %> aliases add rootca --keystore mtls_truststore --cert-file RootCA.pem',
    '<%= config.bin %> aliases add gw --keystore mtls_keystore --ca my-ca --subject /CN=gateway --usage client',
  ]
  static defaultFormat = 'yaml'
  static args = {alias: Args.string({description: 'Alias name.'})}
  static flags = {
    ...apiFlags,
    organization: organizationFlag,
    environment: environmentFlag,
    keystore: keystoreFlag,
    ...aliasFileFlags,
    'self-signed': Flags.boolean({description: 'Generate a self-signed certificate and key.'}),
    ...aliasCaFlags,
    subject: subjectFlag({description: "Subject for --self-signed or --ca, e.g. '/CN=gateway'."}),
    san: sanFlag({description: 'Subject alternative names: DNS:a,IP:1.2.3.4 (repeatable).'}),
    usage: Flags.string({description: 'Extended key usage for --ca.', options: ['client', 'server', 'both'], default: 'client'}),
    days: daysFlag({description: 'Validity in days for --self-signed or --ca.', default: 365}),
    'key-size': choiceIntegerFlag({name: 'key-size', description: 'RSA key size for --self-signed.', allowed: [2048, 3072, 4096], default: 2048}),
    'ignore-expiry-validation': Flags.boolean({description: 'Store an expired or not-yet-valid certificate anyway.'}),
  }

  protected async execute() {
    const {org, env} = await this.location()
    const {alias, keystore} = await aliasInKeystore(this.prompter, this.args.alias, this.flags.keystore, {api: () => this.apigee(), org, env, existingAlias: false})
    const added = await (await this.apigee()).createAlias(org, env, keystore, alias, await this.source(), {
      ignoreExpiryValidation: this.flags['ignore-expiry-validation'],
    })
    this.out.status(`Created alias [${alias}] (${added.type}) in keystore [${keystore}].`)
    return added
  }

  private async source(): Promise<AliasSource> {
    const f = this.flags
    requireOneSource(
      {'--cert-file': f['cert-file'], '--p12-file': f['p12-file'], '--self-signed': f['self-signed'], '--ca': f.ca},
      'Missing the alias source: give one of --cert-file, --p12-file, --self-signed or --ca.',
    )
    const fromFiles = await fileAliasSource(f, this.prompter)
    if (fromFiles) return fromFiles
    const subject = await this.prompter.require(f.subject, {flag: 'subject', message: "Subject (e.g. /CN=host):"})
    if (f['self-signed']) return {format: 'selfsignedcert', subject, sans: f.san, days: f.days, keySize: f['key-size']}
    return {format: 'ca', ca: caSelection(f.ca, f['ca-password-file'], this.prompter), subject, sans: f.san, usage: f.usage, days: f.days}
  }
}
