import * as Args from '@oclif/core/args'

import {BaseCommand} from '../../cli/base-command.js'
import {type CertificateDescription, describeCertificate, parseCertificateChain} from '../../core/ca/index.js'
import {inspectSecretManifest, looksLikeSecretManifest, type SecretInspection} from '../../core/certmanager/index.js'
import {readInput} from '../../core/input.js'

export default class CertsDescribe extends BaseCommand<typeof CertsDescribe> {
  static summary = "Describe a certificate file: subject, issuer, validity, SANs, key, usages, fingerprint, Apigee's certInfo."
  static description =
    "--format json gives Apigee's certInfo field names (version, subject, issuer, expiryDate, validFrom, isValid, " +
    'subjectAlternativeNames, sigAlgName, publicKey, basicConstraints, serialNumber) and more. ' +
    'A file with several certificates (a chain) gives a list.'
  static examples = ['<%= config.bin %> certs describe my_server.pem', "<%= config.bin %> certs describe RootCA.pem --format 'value(isValid,expiryDate)'"]
  static args = {file: Args.string({description: 'A certificate file (PEM, or DER), or a Secret manifest (YAML with tls.crt).'})}

  protected async execute() {
    const file = await this.prompter.require(this.args.file, {arg: 'FILE', message: 'Certificate file:'})
    // Read once (a pipe can be read only once): a certificate, or a Secret manifest (kubectl get
    // secret -o yaml, secrets.yaml), described with cmctl inspect secret's sections.
    const bytes = readInput(file, {what: 'certificate', kind: 'document'})
    if (looksLikeSecretManifest(bytes.toString('utf8'))) {
      const inspected = await inspectSecretManifest(file, bytes.toString('utf8'))
      return inspected.length === 1 ? inspected[0] : inspected
    }
    const chain = await parseCertificateChain(bytes, file)
    const described = await Promise.all(chain.map((cert) => describeCertificate(cert)))
    return described.length === 1 ? described[0] : described
  }

  protected renderDefault(result: CertificateDescription | CertificateDescription[] | SecretInspection | SecretInspection[]): string {
    const secrets = [result].flat().filter((r): r is SecretInspection => 'inspect' in r)
    if (secrets.length > 0) return secrets.map((s) => `${secrets.length > 1 ? `Secret ${s.secret}:\n` : ''}${s.inspect}\n`).join('\n')
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
    return Array.isArray(result) ? (result as CertificateDescription[]).map(one).join('\n') : one(result as CertificateDescription)
  }
}
