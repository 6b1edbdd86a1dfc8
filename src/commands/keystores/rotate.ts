import * as path from 'node:path'

import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {environmentFlag, organizationFlag} from '../../cli/flags.js'
import {dryRunRefusal, renderRotation, rotationEvents, rotationFlags, runRotation} from '../../cli/rotation.js'
import {UsageError} from '../../cli/usage-error.js'
import type {AliasSource} from '../../core/alias-sources.js'
import {parseLabels} from '../../core/archives/deployments.js'
import {readInputFile} from '../../core/ca/keys.js'
import {getCa} from '../../core/ca/registry.js'
import {planKeystoreRotation, rotateKeystore, type KeystoreRotationRequest} from '../../core/rotation/index.js'

/** An alias name from a file name: `certs/RootCA2.pem` -> `RootCA2`. */
const aliasFromFile = (file: string) => path.basename(file).replace(/\.(pem|crt|cer|der)$/i, '').replace(/[^\w.-]/g, '_').replace(/^\./, '_') || 'cert'

export default class KeystoresRotate extends BaseCommand<typeof KeystoresRotate> {
  static summary = "Rotate a truststore: a new keystore with the new certificate(s), every trustStore naming the old one moved to it, deployed (the seed's truststore update)."
  static description = `The seed's "To update a truststore certificate", as one command:
  1. makes the new keystore, with one certificate-only alias per --cert-file (named after the
     file, or --alias) and per --ca (the registered CA's certificate, named after the CA), and
     with --copy-old the old truststore's certificates too (both trusted while backends move);
  2. rewrites sSLInfo.trustStore of every target server of environments/ENV/targetservers.json
     that names TRUSTSTORE; one that reaches it through ref://REF gets a new reference (REF-YYYYMMDD,
     or --new-reference REF=NAME) naming the new keystore, since reference updates are refused
     on configurable environments; nothing else of the file changes (a diff on stderr);
  3. preflights and deploys the rewritten archive (blocking); the source folder is written only
     once the deployment has succeeded;
  4. with --delete-old, deletes the old truststore (and the references replaced) once the latest
     deployment no longer uses it.
Whatever fails, the source folder is unchanged and what was made is reported (kept).`
  static examples = [
    '<%= config.bin %> keystores rotate mtls_truststore --new-keystore new_mtls_truststore --source src --cert-file RootCA2.pem',
    '<%= config.bin %> keystores rotate mtls_truststore --new-keystore new_mtls_truststore --source src --ca RootCA2 --copy-old --dry-run',
  ]
  static defaultFormat = 'yaml'
  static args = {truststore: Args.string({description: 'The truststore (keystore) to replace.'})}
  static flags = {
    ...apiFlags,
    organization: organizationFlag,
    environment: environmentFlag,
    ...rotationFlags,
    'new-keystore': Flags.string({description: 'Name of the new keystore.', helpValue: 'NAME'}),
    'cert-file': Flags.string({description: 'A PEM certificate (a CA, or a chain) the new keystore trusts (repeatable).', helpValue: 'FILE', multiple: true}),
    ca: Flags.string({description: 'A registered local CA whose certificate the new keystore trusts (repeatable).', helpValue: 'CA', multiple: true}),
    alias: Flags.string({description: 'The alias name, when one certificate is given (default: the file or CA name).', helpValue: 'NAME'}),
    'copy-old': Flags.boolean({description: "Also put the old truststore's certificates in the new one."}),
    'new-reference': Flags.string({description: 'Name of the new reference replacing REF (default REF-YYYYMMDD; repeatable).', helpValue: 'REF=NAME', multiple: true}),
    'delete-old': Flags.boolean({description: 'Delete the old truststore (and the references replaced) once the latest deployment no longer uses it.'}),
  }

  protected async execute() {
    const f = this.flags
    // Usage errors first: nothing is asked for a command line that cannot run.
    if ((f['cert-file'] ?? []).length === 0 && (f.ca ?? []).length === 0 && !f['copy-old']) {
      throw new UsageError('Missing the new certificate(s): give --cert-file FILE or --ca CA (repeatable), or --copy-old.')
    }
    if (f.alias !== undefined && (f['cert-file'] ?? []).length + (f.ca ?? []).length !== 1) {
      throw new UsageError('--alias names the alias of one certificate: give exactly one --cert-file or --ca with it.')
    }
    const newReferences = this.newReferences()
    const {org, env} = await this.location()
    const truststore = await this.prompter.choose(this.args.truststore, {arg: 'TRUSTSTORE', message: 'Truststore:'}, async () => (await this.apigee()).listKeystoreNames(org, env))
    const newKeystore = await this.prompter.require(f['new-keystore'], {flag: 'new-keystore', message: 'New keystore name:'})
    const source = await this.prompter.require(f.source, {flag: 'source', message: 'Archive source folder:', hint: 'Point --source at the folder that holds src/main/apigee/.'})
    const request: KeystoreRotationRequest = {
      org,
      env,
      source,
      truststore,
      newKeystore,
      aliases: await this.certificates(),
      copyOld: f['copy-old'],
      newReferences,
      deleteOld: f['delete-old'],
      labels: parseLabels(f.labels),
    }
    const api = await this.apigee()
    if (f['dry-run']) {
      const prepared = await planKeystoreRotation(api, request)
      const refusal = dryRunRefusal(prepared)
      if (refusal) {
        await this.emit(prepared.plan)
        throw refusal
      }
      return prepared.plan
    }
    const result = await runRotation(this.out, source, () => rotateKeystore(api, request, rotationEvents(this.out, source)))
    this.out.status(`Rotated truststore [${truststore}] to [${newKeystore}]: archive deployment ${result.archiveDeployment} deployed, ${result.files.join(', ')} written.`)
    if (result.oldDeleted) this.out.status(`Deleted keystore [${truststore}]${result.deletedReferences?.length ? ` and reference(s) ${result.deletedReferences.join(', ')}` : ''}.`)
    else if (f['delete-old']) this.out.warn(`The old truststore [${truststore}] was kept: ${result.oldKeptBecause}.`)
    return result
  }

  /** The new keystore's certificates: each file, then each CA's certificate, as a certificate-only alias. */
  private async certificates(): Promise<KeystoreRotationRequest['aliases']> {
    const f = this.flags
    const files = f['cert-file'] ?? []
    const cas = f.ca ?? []
    const found: KeystoreRotationRequest['aliases'] = []
    for (const file of files) {
      const source: AliasSource = {format: 'keycertfile', cert: readInputFile(file, 'certificate', 'cert-file'), certFile: file}
      found.push({alias: f.alias ?? aliasFromFile(file), source, from: file})
    }
    for (const name of cas) {
      const ca = await getCa(this.store, name)
      found.push({alias: f.alias ?? name, source: {format: 'keycertfile', cert: Buffer.from(ca.certificate), certFile: `the certificate of CA "${name}"`}, from: `the certificate of CA ${name}`})
    }
    return found
  }

  private newReferences(): Record<string, string> {
    const map: Record<string, string> = {}
    for (const value of this.flags['new-reference'] ?? []) {
      const m = /^([^=]+)=([^=]+)$/.exec(value)
      if (!m) throw new UsageError(`Invalid --new-reference "${value}": write REF=NAME (the reference replaced, then the new one's name).`)
      map[m[1]] = m[2]
    }
    return map
  }

  protected renderDefault(result: unknown) {
    return renderRotation(result)
  }
}
