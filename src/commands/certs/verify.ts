import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import {trustedCa, trustedCaFlags} from '../../cli/ca-flags.js'
import {optionalPassword, passwordAsker} from '../../cli/secrets.js'
import {type VerificationReport, verificationError, verifyCertificateFile} from '../../core/ca/index.js'

export default class CertsVerify extends BaseCommand<typeof CertsVerify> {
  static summary = 'Verify a certificate: chain to the CA, validity window, key match, usage and host name.'
  static description = "Each failure is named in openssl's words (e.g. `certificate has expired`) and exits 1."
  static examples = [
    '<%= config.bin %> certs verify my_server.pem --ca RootCA --key my_server.key --hostname backend.example.com --usage server',
    '<%= config.bin %> certs verify my_gateway.pem --ca-cert RootCA.pem --usage client',
  ]
  static args = {file: Args.string({description: 'The certificate file (its chain may follow it).'})}
  static flags = {
    ...trustedCaFlags,
    key: Flags.string({description: 'Check that this private key belongs to the certificate.', helpValue: 'KEY'}),
    'key-password-file': Flags.string({description: 'File whose first line is the password of an encrypted --key.', helpValue: 'FILE'}),
    hostname: Flags.string({description: "Check this host name or IP address against the certificate's SANs.", helpValue: 'H'}),
    usage: Flags.string({description: 'Check the certificate may be used by a TLS client or server.', options: ['client', 'server']}),
  }

  protected async execute() {
    const file = await this.prompter.require(this.args.file, {arg: 'FILE', message: 'Certificate file:'})
    const report = await verifyCertificateFile(this.store, {
      file,
      ...(await trustedCa(this.flags, this.prompter)),
      keyFile: this.flags.key,
      keyFlag: 'key',
      keyPassword: optionalPassword(this.flags['key-password-file'], 'key-password-file'),
      askPassword: passwordAsker(this.prompter, 'key-password-file'),
      hostname: this.flags.hostname,
      usage: this.flags.usage as 'client' | 'server' | undefined,
    })
    if (!report.valid) throw verificationError(file, report)
    return report
  }

  protected renderDefault(report: VerificationReport): string {
    const lines = report.checks.map((c) => `${c.ok ? 'OK  ' : 'FAIL'}  ${c.check.padEnd(9)} ${c.detail}`)
    return `${report.subject}: verified\n${lines.join('\n')}\n`
  }
}
