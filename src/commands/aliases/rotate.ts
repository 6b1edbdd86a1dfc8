import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {aliasCaFlags, aliasFileFlags, caSelection, fileAliasSource, requireOneSource} from '../../cli/alias-source-flags.js'
import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {aliasInKeystore, environmentFlag, keystoreFlag, organizationFlag} from '../../cli/flags.js'
import {dryRunRefusal, renderRotation, rotationEvents, rotationFlags, runRotation} from '../../cli/rotation.js'
import {UsageError} from '../../cli/usage-error.js'
import {daysFlag} from '../../cli/value-flags.js'
import {parseLabels} from '../../core/archives/deployments.js'
import {KEY_TYPES} from '../../core/ca/keys.js'
import {planAliasRotation, rotateAlias, type AliasRotationRequest} from '../../core/rotation/index.js'

export default class AliasesRotate extends BaseCommand<typeof AliasesRotate> {
  static summary = "Rotate an alias: a new alias, every target server naming the old one moved to it, deployed (the seed's certificate update)."
  static description = `The seed's "Update a certificate for your proxy", as one command:
  1. makes the new alias (default name ALIAS-YYYYMMDD, UTC; refused if taken): with --ca, the
     old certificate renewed (its subject, SANs, key type and size and extended key usage, a new
     key and a new validity window as long as the old one); or from --cert-file/--p12-file;
  2. rewrites sSLInfo.keyAlias of every target server of environments/ENV/targetservers.json
     that names KEYSTORE/ALIAS (directly or through a ref:// reference), and nothing else of
     the file: the change is shown as a diff on stderr;
  3. preflights and deploys the rewritten archive (blocking) from a copy; the source folder is
     written only once the deployment has succeeded;
  4. with --delete-old, deletes the old alias once the latest deployment no longer names it.
Whatever fails, the source folder is unchanged and what was made is reported (kept). Rotations
of one source folder run one at a time (a lock file in it), so each deploys the other's change.`
  static examples = [
    '<%= config.bin %> aliases rotate mtls_alias --keystore mtls_keystore --source src --ca RootCA',
    '<%= config.bin %> aliases rotate mtls_alias --keystore mtls_keystore --source src --new-alias new_mtls_alias --cert-file my_gateway2.pem --key-file my_gateway2.key --delete-old',
    '<%= config.bin %> aliases rotate mtls_alias --keystore mtls_keystore --source src --ca RootCA --dry-run',
  ]
  static defaultFormat = 'yaml'
  static args = {alias: Args.string({description: 'The alias to replace.'})}
  static flags = {
    ...apiFlags,
    organization: organizationFlag,
    environment: environmentFlag,
    keystore: keystoreFlag,
    ...rotationFlags,
    'new-alias': Flags.string({description: 'Name of the new alias (default: ALIAS-YYYYMMDD, the UTC date).', helpValue: 'NAME'}),
    ...aliasFileFlags,
    ...aliasCaFlags,
    ca: Flags.string({description: "Renew the old certificate with this registered local CA: its subject, SANs, key type and size and extended key usage, a new key.", helpValue: 'CA'}),
    'key-type': Flags.string({description: "With --ca: the new key's type (default: the old certificate's).", options: [...KEY_TYPES]}),
    days: daysFlag({description: "With --ca: validity in days (default: the old certificate's)."}),
    'delete-old': Flags.boolean({description: 'Delete the old alias once the latest deployment no longer names it.'}),
  }

  protected async execute() {
    const f = this.flags
    // Usage errors first: nothing is asked for a command line that cannot run.
    requireOneSource({'--ca': f.ca, '--cert-file': f['cert-file'], '--p12-file': f['p12-file']}, 'Missing the new certificate: give one of --ca, --cert-file or --p12-file.')
    if (!f.ca && (f['key-type'] !== undefined || f.days !== undefined)) throw new UsageError('--key-type and --days go with --ca (a certificate given as a file keeps its own).')
    const {org, env} = await this.location()
    const {alias, keystore} = await aliasInKeystore(this.prompter, this.args.alias, f.keystore, {api: () => this.apigee(), org, env, existingAlias: true})
    const source = await this.prompter.require(f.source, {flag: 'source', message: 'Archive source folder:', hint: 'Point --source at the folder that holds src/main/apigee/.'})
    const from: AliasRotationRequest['from'] = f.ca
      ? {kind: 'renew', ca: caSelection(f.ca, f['ca-password-file'], this.prompter), keyType: f['key-type'], days: f.days}
      : {kind: 'source', source: (await fileAliasSource(f, this.prompter))!}
    const request: AliasRotationRequest = {
      org,
      env,
      source,
      keystore,
      alias,
      newAlias: f['new-alias'],
      from,
      deleteOld: f['delete-old'],
      labels: parseLabels(f.labels),
    }
    const api = await this.apigee()
    if (f['dry-run']) {
      const prepared = await planAliasRotation(api, request)
      const refusal = dryRunRefusal(prepared)
      if (refusal) {
        await this.emit(prepared.plan)
        throw refusal
      }
      return prepared.plan
    }
    const result = await runRotation(this.out, source, () => rotateAlias(api, request, rotationEvents(this.out, source)))
    this.out.status(
      `Rotated alias [${alias}] of keystore [${keystore}] to [${result.newAlias}]: archive deployment ${result.archiveDeployment} deployed, ${result.files.join(', ')} written.`,
    )
    if (result.oldDeleted) this.out.status(`Deleted alias [${alias}].`)
    else if (f['delete-old']) this.out.warn(`The old alias [${alias}] was kept: ${result.oldKeptBecause}.`)
    return result
  }

  protected renderDefault(result: unknown) {
    return renderRotation(result)
  }
}
