import * as path from 'node:path'

import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import {signingCa, signingCaFlags} from '../../cli/ca-flags.js'
import {optionalPassword} from '../../cli/secrets.js'
import {daysFlag, sanFlag, serialFlag, subjectFlag} from '../../cli/value-flags.js'
import {createCertificate, KEY_TYPES, USAGES} from '../../core/ca/index.js'

export default class CertsCreate extends BaseCommand<typeof CertsCreate> {
  static summary = 'Create a key, a CSR and a certificate signed by a CA: NAME.key (0600), NAME.csr, NAME.pem.'
  static description =
    'Replaces `openssl genrsa`, `openssl req -new` and `openssl x509 -req -CA ... -sha256`. ' +
    '--usage client gives extKeyUsage clientAuth (an Apigee gateway certificate), server gives serverAuth (a backend), ' +
    'both gives both. A server certificate without --san gets its CN as a SAN, with a warning.'
  static examples = [
    "<%= config.bin %> certs create my_gateway --ca RootCA --subject '/CN=my-gateway' --usage client",
    "<%= config.bin %> certs create my_server --ca RootCA --subject '/CN=backend.example.com' --san DNS:backend.example.com,IP:10.0.0.5 --usage server",
    "<%= config.bin %> certs create consul-0 --ca-cert ca.pem --ca-key ca.key --ca-password-file pw.txt --subject '/CN=server.dc1.consul' --key-type ec-p256",
  ]
  static defaultFormat = 'table(name,subject,issuer,usage,notAfter)'
  static args = {name: Args.string({description: 'Base name of the files to write.'})}
  static flags = {
    ...signingCaFlags,
    subject: subjectFlag({description: "Subject, openssl style: '/CN=backend.example.com'."}),
    san: sanFlag({
      description: 'Subject alternative names: DNS:name, IP:address, EMAIL:address, URI:uri, comma-separated (repeatable).',
      // One value per --san, so a NAME after it is not taken for a SAN.
      multipleNonGreedy: true,
    }),
    usage: Flags.string({description: 'Extended key usage.', options: [...USAGES], default: 'both'}),
    days: daysFlag({description: 'Validity in days.', default: 365}),
    serial: serialFlag({description: 'Serial number in hex (default: 16 random bytes).'}),
    'key-type': Flags.string({description: 'Key type.', options: [...KEY_TYPES], default: 'rsa-2048'}),
    'out-dir': Flags.string({description: 'Folder for the files (default: the current folder).', helpValue: 'DIR'}),
    'key-password-file': Flags.string({description: 'Encrypt NAME.key with the first line of this file.', helpValue: 'FILE'}),
    force: Flags.boolean({description: 'Overwrite existing files.'}),
  }

  protected async execute() {
    const name = await this.prompter.require(this.args.name, {arg: 'NAME', message: 'Certificate name:'})
    const subject = await this.prompter.require(this.flags.subject, {flag: 'subject', message: "Subject (e.g. '/CN=host'):"})
    const keyPassword = optionalPassword(this.flags['key-password-file'], 'key-password-file')
    const issued = await createCertificate(this.store, await signingCa(this.flags, this.prompter), {
      name,
      subject,
      sans: this.flags.san,
      usage: this.flags.usage,
      days: this.flags.days,
      serial: this.flags.serial,
      keyType: this.flags['key-type'],
      outDir: this.flags['out-dir'],
      keyPassword,
      force: this.flags.force,
    })
    for (const warning of issued.warnings) this.out.warn(warning)
    const rel = (file: string | undefined) => (file ? path.relative('.', file) || file : '')
    this.out.status(`Issued [${issued.name}] (${issued.subject}) signed by ${issued.issuer}, valid until ${issued.notAfter}.`)
    this.out.status(`Wrote ${rel(issued.files.key)} (private key, 0600${keyPassword ? ', encrypted' : ''}), ${rel(issued.files.csr)} and ${rel(issued.files.cert)}.`)
    return issued
  }
}
