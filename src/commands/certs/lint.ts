import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import {type LintFinding, lintManifests, parseExpectHosts, readManifests} from '../../core/certmanager/index.js'
import {invalidArgument} from '../../core/errors.js'

export default class CertsLint extends BaseCommand<typeof CertsLint> {
  static summary = 'Check cert-manager manifests for the mistakes that take clusters down; exit 1 when anything is found.'
  static description =
    'Finds: a CA Certificate whose rotationPolicy is Always or unset (cert-manager 1.18 semantics: renewal replaces the CA key), ' +
    'an etcd server certificate without client auth, a client certificate with no identity, a server certificate that does not ' +
    'name the host its clients dial (--expect-host), renewBefore not shorter than duration, an issuer used before it is defined.'
  static examples = [
    '<%= config.bin %> certs lint -f mtls-everywhere.yaml',
    '<%= config.bin %> certs lint -f mtls-everywhere.yaml --expect-host etcd-server=127.0.0.1',
  ]
  static flags = {
    filename: Flags.string({char: 'f', description: 'A manifest file (multi-document YAML); repeatable.', helpValue: 'FILE', multiple: true, multipleNonGreedy: true}),
    namespace: Flags.string({char: 'n', description: 'Namespace of resources that name none (default: default).', helpValue: 'NS'}),
    'expect-host': Flags.string({
      description: 'CERTIFICATE=HOST: the host clients dial (e.g. etcd-server=127.0.0.1); repeatable.',
      helpValue: 'NAME=HOST',
      multiple: true,
      multipleNonGreedy: true,
    }),
  }

  protected async execute() {
    const files = this.flags.filename ?? []
    if (files.length === 0) await this.prompter.require(undefined, {flag: 'filename', message: 'Manifest file:'})
    const manifests = await readManifests(files, {namespace: this.flags.namespace})
    const findings = lintManifests(manifests, {expectHosts: parseExpectHosts(this.flags['expect-host'])})
    if (findings.length === 0) {
      this.out.status(`No problems found in ${manifests.certificates.length} Certificate(s).`)
      return undefined
    }
    await this.emit(findings)
    throw invalidArgument(`${findings.length} problem(s) found in the manifests.`)
  }

  protected renderDefault(findings: LintFinding[]): string {
    return findings.map((f) => `${f.source}: ${f.message}\n`).join('')
  }
}
