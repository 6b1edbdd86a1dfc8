import * as path from 'node:path'

import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import {signingCa, signingCaFlags} from '../../cli/ca-flags.js'
import {daysFlag} from '../../cli/value-flags.js'
import {signRequest, USAGES} from '../../core/ca/index.js'

export default class CertsSign extends BaseCommand<typeof CertsSign> {
  static summary = 'Sign an existing CSR with a CA, keeping every SAN it asks for.'
  static description =
    'Replaces `openssl x509 -req -in NAME.csr -CA RootCA.pem -CAkey RootCA.key -set_serial 01 -days 365 -sha256`. ' +
    "The CSR's signature is checked first; its subject and all its SANs are kept (easy-rsa's classic bug drops them)."
  static examples = [
    '<%= config.bin %> certs sign my_server.csr --ca RootCA --out my_server.pem --usage server',
    '<%= config.bin %> certs sign gw.csr --ca-cert RootCA.pem --ca-key RootCA.key --out gw.pem --usage client --days 90',
  ]
  static defaultFormat = 'table(name,subject,issuer,usage,notAfter)'
  static args = {csr: Args.string({description: 'The CSR file (PEM).'})}
  static flags = {
    ...signingCaFlags,
    out: Flags.string({description: 'The certificate file to write.', helpValue: 'FILE'}),
    usage: Flags.string({description: 'Extended key usage.', options: [...USAGES], default: 'both'}),
    days: daysFlag({description: 'Validity in days.', default: 365}),
    force: Flags.boolean({description: 'Overwrite an existing --out file.'}),
  }

  protected async execute() {
    const csrFile = await this.prompter.require(this.args.csr, {arg: 'CSR_FILE', message: 'CSR file:'})
    const out = await this.prompter.require(this.flags.out, {flag: 'out', message: 'Certificate file to write:'})
    const issued = await signRequest(this.store, await signingCa(this.flags, this.prompter), {
      csrFile,
      out,
      usage: this.flags.usage,
      days: this.flags.days,
      force: this.flags.force,
    })
    for (const warning of issued.warnings) this.out.warn(warning)
    this.out.status(`Signed [${csrFile}] (${issued.subject}) with ${issued.issuer}: wrote ${path.relative('.', issued.files.cert) || issued.files.cert}.`)
    return issued
  }
}
