import * as path from 'node:path'

import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import {optionalPassword, passwordAsker, requireNewPassword} from '../../cli/secrets.js'
import {exportPkcs12} from '../../core/ca/index.js'

export default class CertsExport extends BaseCommand<typeof CertsExport> {
  static summary = "Export NAME.key and NAME.pem, with the CA chain, as PKCS#12 for Apigee's pkcs12 alias format."
  static description =
    'The key is encrypted with AES-256-CBC (PBKDF2-SHA256) and the file has an HMAC-SHA256 MAC. A password is required: ' +
    'there is no default password. The chain is the certificates in NAME.pem, then their issuing CA if it is registered.'
  static examples = ['<%= config.bin %> certs export my_gateway --p12 my_gateway.p12 --password-file p12-password.txt']
  static defaultFormat = 'table(file,friendlyName,certificates)'
  static args = {name: Args.string({description: 'NAME: NAME.pem and NAME.key.'})}
  static flags = {
    p12: Flags.string({description: 'The PKCS#12 file to write.', helpValue: 'OUT.p12'}),
    'password-file': Flags.string({description: 'File whose first line is the PKCS#12 password (asked for on a terminal).', helpValue: 'F'}),
    'key-password-file': Flags.string({description: 'File whose first line is the password of an encrypted NAME.key.', helpValue: 'F'}),
    force: Flags.boolean({description: 'Overwrite an existing --p12 file.'}),
  }

  protected async execute() {
    const name = await this.prompter.require(this.args.name, {arg: 'NAME', message: 'Certificate name:'})
    const out = await this.prompter.require(this.flags.p12, {flag: 'p12', message: 'PKCS#12 file to write:'})
    // A new password: asked twice on a terminal, so a typo cannot lock the file.
    const password = await requireNewPassword(this.prompter, this.flags['password-file'], 'password-file', 'PKCS#12 password:')
    const exported = await exportPkcs12(this.store, {
      name,
      out,
      password,
      keyPassword: optionalPassword(this.flags['key-password-file'], 'key-password-file'),
      askPassword: passwordAsker(this.prompter, 'key-password-file'),
      force: this.flags.force,
    })
    this.out.status(`Wrote ${path.relative('.', exported.file) || exported.file} (0600): the key and ${exported.certificates.length} certificate(s).`)
    return exported
  }
}
