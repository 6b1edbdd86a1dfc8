import * as Args from '@oclif/core/args'

import {BaseCommand} from '../../cli/base-command.js'
import {type CertificateDescription, describeCertificate, readCertificateChain} from '../../core/ca/index.js'

export default class CertsDescribe extends BaseCommand<typeof CertsDescribe> {
  static summary = "Describe a certificate file: subject, issuer, validity, SANs, key, usages, fingerprint, Apigee's certInfo."
  static description =
    "--format json gives Apigee's certInfo field names (version, subject, issuer, expiryDate, validFrom, isValid, " +
    'subjectAlternativeNames, sigAlgName, publicKey, basicConstraints, serialNumber) and more. ' +
    'A file with several certificates (a chain) gives a list.'
  static examples = ['<%= config.bin %> certs describe my_server.pem', "<%= config.bin %> certs describe RootCA.pem --format 'value(isValid,expiryDate)'"]
  static args = {file: Args.string({description: 'A certificate file (PEM, or DER).'})}

  protected async execute() {
    const file = await this.prompter.require(this.args.file, {arg: 'FILE', message: 'Certificate file:'})
    const chain = await readCertificateChain(file)
    const described = await Promise.all(chain.map((cert) => describeCertificate(cert)))
    return described.length === 1 ? described[0] : described
  }

  protected renderDefault(result: CertificateDescription | CertificateDescription[]): string {
    const one = (d: CertificateDescription) =>
      [
        ['Subject', d.subject],
        ['Issuer', d.issuer],
        ['Serial number', d.serialNumber],
        ['Not before', d.notBefore],
        ['Not after', d.notAfter],
        ['Valid now', d.isValid],
        ['SANs', d.sans.join(', ') || '(none)'],
        ['Public key', d.publicKey],
        ['Signature', d.sigAlgName],
        ['Basic constraints', d.basicConstraints + (d.pathLen === undefined ? '' : `, pathlen:${d.pathLen}`)],
        ['Key usage', d.keyUsage.join(', ') || '(none)'],
        ['Extended key usage', d.extendedKeyUsage.join(', ') || '(none)'],
        ['SHA-256 fingerprint', d.sha256Fingerprint],
      ]
        .map(([k, v]) => `${`${k}:`.padEnd(21)}${v}`)
        .join('\n') + '\n'
    return Array.isArray(result) ? result.map(one).join('\n') : one(result)
  }
}
