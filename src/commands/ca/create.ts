import * as path from 'node:path'

import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import {optionalPassword} from '../../cli/secrets.js'
import {countFlag, daysFlag, subjectFlag} from '../../cli/value-flags.js'
import {createCa, KEY_TYPES} from '../../core/ca/index.js'

export default class CaCreate extends BaseCommand<typeof CaCreate> {
  static summary = 'Create a local root CA: NAME.key (0600) and NAME.pem, registered for --ca NAME.'
  static description =
    'Replaces `openssl req -new -x509 -nodes -days 365 -subj /CN=my-ca -keyout RootCA.key -out RootCA.pem`. ' +
    'The certificate is signed with SHA-256 and has basicConstraints CA:TRUE (critical), keyUsage keyCertSign and cRLSign, ' +
    'and key identifiers. The store records the certificate and the key file path, never the key.'
  static examples = [
    "<%= config.bin %> ca create RootCA --subject '/CN=my-ca'",
    "<%= config.bin %> ca create mesh-ca --subject '/O=Acme/CN=mesh-ca' --key-type ec-p256 --days 1825 --key-password-file pw.txt --out-dir pki",
  ]
  static defaultFormat = 'table(name,subject,notAfter,certFile)'
  static args = {name: Args.string({description: 'CA name (also the base name of its files).'})}
  static flags = {
    subject: subjectFlag({description: "Subject, openssl style: '/C=US/O=Acme/CN=my-ca'."}),
    days: daysFlag({description: 'Validity in days.', default: 365}),
    'key-type': Flags.string({description: 'Key type.', options: [...KEY_TYPES], default: 'rsa-2048'}),
    'path-len': countFlag({name: 'path-len', description: 'basicConstraints pathLenConstraint (none by default).', min: 0}),
    'out-dir': Flags.string({description: 'Folder for NAME.key and NAME.pem (default: the current folder).', helpValue: 'DIR'}),
    'key-password-file': Flags.string({
      description: 'Encrypt NAME.key (PKCS#8, AES-256-CBC, PBKDF2-SHA256) with the first line of this file.',
      helpValue: 'FILE',
    }),
    force: Flags.boolean({description: 'Overwrite existing files and replace an existing registration.'}),
  }

  protected async execute() {
    const name = await this.prompter.require(this.args.name, {arg: 'NAME', message: 'CA name:'})
    const subject = await this.prompter.require(this.flags.subject, {flag: 'subject', message: "Subject (e.g. '/CN=my-ca'):"})
    const ca = await createCa(this.store, {
      name,
      subject,
      days: this.flags.days,
      keyType: this.flags['key-type'],
      pathLen: this.flags['path-len'],
      outDir: this.flags['out-dir'],
      keyPassword: optionalPassword(this.flags['key-password-file'], 'key-password-file'),
      force: this.flags.force,
    })
    const rel = (file: string) => path.relative('.', file) || file
    this.out.status(`Created CA [${ca.name}] (${ca.subject}, valid until ${ca.notAfter}).`)
    this.out.status(`Wrote ${rel(ca.keyFile)} (private key, 0600${ca.keyEncrypted ? ', encrypted' : ''}) and ${rel(ca.certFile)}.`)
    return ca
  }
}
