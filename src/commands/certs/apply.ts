import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import {type ApplyResult, applyManifests, parseExpectHosts} from '../../core/certmanager/index.js'

export default class CertsApply extends BaseCommand<typeof CertsApply> {
  static summary = "Issue cert-manager Certificates from their manifests, without a cluster: the Secrets' files and secrets.yaml."
  static description =
    'Reads cert-manager.io/v1 ClusterIssuers and Issuers (selfSigned, ca) and Certificates from multi-document YAML, ' +
    "checks each against cert-manager's schema, and issues what cert-manager would, in issuer order, into " +
    'DIR/NAMESPACE/SECRET/{tls.crt,tls.key,ca.crt} (keys 0600) and DIR/secrets.yaml (kubectl apply -f). Other kinds are skipped. ' +
    'Applying again keeps what is valid and outside renewBefore, reissues a Certificate whose spec changed, renews what is due, ' +
    'and keeps or replaces each key per rotationPolicy (Always unless set, as in cert-manager 1.18). Lint findings are printed as warnings.'
  static examples = [
    '<%= config.bin %> certs apply -f mtls-everywhere.yaml --out-dir pki',
    '<%= config.bin %> certs apply -f issuers.yaml -f certificates.yaml --out-dir pki --renew etcd-server',
    '<%= config.bin %> certs apply -f mtls-everywhere.yaml --out-dir pki --format json',
  ]
  static defaultFormat = 'yaml'
  static flags = {
    filename: Flags.string({char: 'f', description: 'A manifest file (multi-document YAML); repeatable.', helpValue: 'FILE', multiple: true, multipleNonGreedy: true}),
    'out-dir': Flags.string({description: 'Folder for the Secrets (made 0700).', helpValue: 'DIR'}),
    namespace: Flags.string({char: 'n', description: 'Namespace of resources that name none (default: default).', helpValue: 'NS'}),
    renew: Flags.string({description: 'Renew this Certificate now (name or namespace/name); repeatable.', helpValue: 'NAME', multiple: true, multipleNonGreedy: true}),
    'expect-host': Flags.string({
      description: 'CERTIFICATE=HOST: the host clients dial, for the lint (e.g. etcd-server=127.0.0.1); repeatable.',
      helpValue: 'NAME=HOST',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'show-secrets': Flags.boolean({description: 'Print the Secret manifests, private keys included, on stdout instead of the summary.'}),
  }

  protected async execute() {
    const files = this.flags.filename ?? []
    const outDir = await this.prompter.require(this.flags['out-dir'], {flag: 'out-dir', message: 'Output folder:'})
    if (files.length === 0) await this.prompter.require(undefined, {flag: 'filename', message: 'Manifest file:'})
    const result = await applyManifests({
      files,
      outDir,
      namespace: this.flags.namespace,
      renew: this.flags.renew,
      expectHosts: parseExpectHosts(this.flags['expect-host']),
    })
    for (const line of result.skipped) this.out.status(line)
    for (const finding of result.warnings) this.out.warn(finding.message)
    for (const note of result.notes) this.out.warn(note)
    this.out.status(`Wrote ${result.certificates.length} Secret(s) to ${result.outDir} (private keys 0600) and ${result.secretsFile}.`)
    if (this.flags['show-secrets']) {
      // Exactly secrets.yaml: kubectl apply -f - reads it.
      this.out.result(result.secretsYaml)
      return undefined
    }
    const {secrets: _secrets, secretsYaml: _text, ...summary} = result
    return summary
  }

  protected renderDefault(result: Omit<ApplyResult, 'secrets' | 'secretsYaml'>): string {
    return result.certificates
      .map((c) => `certificate.cert-manager.io/${c.certificate} ${c.action === 'reissued' ? `reissued (${c.reason})` : c.action}\n`)
      .join('')
  }
}
