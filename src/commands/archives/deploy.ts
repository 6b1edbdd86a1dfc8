import * as Flags from '@oclif/core/flags'

import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {environmentFlag, organizationFlag} from '../../cli/flags.js'
import {OperationFailed} from '../../cli/operation-failed.js'
import {OperationProgress} from '../../cli/progress.js'
import {renderProblems} from '../../cli/problems.js'
import {UsageError} from '../../cli/usage-error.js'
import type {ApigeeApi} from '../../core/apigee/api.js'
import {validateArchiveFor, waitForOperation} from '../../core/apigee/views.js'
import {checkArchiveEnvironment, parseLabels} from '../../core/archives/deployments.js'
import {checkArchiveSyntax} from '../../core/archives/parse.js'
import {readBundleFile, readSource, unzipArchive, zipArchive, type ArchiveFiles} from '../../core/archives/source.js'
import {MtlsError} from '../../core/errors.js'
import {describeOperation, type Operation} from '../../core/operations.js'

const uuidOf = (operation: Operation) => operation.name.split('/').pop() as string

export default class ArchivesDeploy extends BaseCommand<typeof ArchivesDeploy> {
  static summary = 'Deploy a configurable-proxy archive, validated as Apigee validates it.'
  static description = `Packages the archive root (src/main/apigee/ under --source) as gcloud does, stores it, and runs
validation and deployment in a long-running operation. Blocking by default, printing gcloud's
progress line on stderr; with --async it prints the operation and returns at once.`
  static examples = [
    '<%= config.bin %> archives deploy --organization myorg --environment dev --source src',
    '<%= config.bin %> archives deploy --organization myorg --environment dev --source . --async',
  ]
  static defaultFormat = 'yaml'
  static flags = {
    ...apiFlags,
    organization: organizationFlag,
    environment: environmentFlag,
    source: Flags.string({description: 'Folder holding src/main/apigee/ (or main/apigee/).', exclusive: ['bundle-file'], helpValue: 'DIR'}),
    'bundle-file': Flags.string({description: 'A zip made earlier (entries under src/main/apigee/).', helpValue: 'ZIP'}),
    labels: Flags.string({description: 'Labels, k=v,k2=v2.', helpValue: 'KEY=VALUE,...'}),
    async: Flags.boolean({description: 'Return at once; the operation completes in the background.'}),
    'skip-preflight': Flags.boolean({description: 'Remote mode: upload without checking the archive against the organization first.'}),
  }

  protected async execute() {
    const {org, env} = await this.location()
    const labels = parseLabels(this.flags.labels)
    const {zip, files} = await this.archive()
    const api = await this.apigee()
    if (api.backend === 'remote') await this.preflight(api, org, env, files)

    let progress: OperationProgress | undefined
    const operation = await api.deployArchive(org, env, zip, {
      labels,
      background: this.flags.async,
      onCreated: (created) => {
        if (this.flags.async) return
        progress = new OperationProgress(this.out, uuidOf(created))
        progress.start()
      },
    })
    const uuid = uuidOf(operation)
    if (this.flags.async) {
      if (process.stderr.isTTY) this.out.status(`Check operation [${uuid}] for status.`)
      return describeOperation(org, operation)
    }
    // gcloud sleeps a second before its first poll; a deployment often takes less.
    let finished: Operation
    try {
      finished = operation.metadata.state === 'FINISHED' ? operation : await waitForOperation(api, org, uuid, {initialDelayMs: 100, onPoll: () => progress?.tick()})
    } catch (error) {
      // A poll that failed (the API gone mid-wait): the progress line ends before the error.
      progress?.stop(false)
      throw error
    }
    progress?.tick()
    progress?.stop(!finished.error)
    if (finished.error) throw new OperationFailed(finished.name, finished.error.message)
    return undefined
  }

  /**
   * Remote mode: the archive is checked against the organization's live keystores, aliases and
   * references first, and nothing is uploaded when a problem is found.
   */
  private async preflight(api: ApigeeApi, org: string, env: string, files: ArchiveFiles): Promise<void> {
    if (this.flags['skip-preflight']) {
      this.out.info('Preflight skipped (--skip-preflight): the server validates the archive.')
      return
    }
    // What the server refuses before validating anything: an environment of another type.
    checkArchiveEnvironment(org, env, await api.getEnvironment(org, env))
    const result = await validateArchiveFor(api, org, env, files)
    if (result.problems.length === 0) {
      this.out.info(`Preflight passed: ${result.proxies.length} proxy(ies) for environment [${env}] at ${api.where}.`)
      return
    }
    throw new MtlsError(
      'FAILED_PRECONDITION',
      `Preflight found ${result.problems.length} problem(s) against ${api.where}; nothing was uploaded.\n${renderProblems(result.problems).trimEnd()}`,
      {hint: 'Fix them and deploy again, or pass --skip-preflight to leave the verdict to the server.'},
    )
  }

  private async archive(): Promise<{zip: Buffer; files: ArchiveFiles}> {
    const {source} = this.flags
    const bundle = this.flags['bundle-file']
    if (bundle !== undefined) {
      const zip = readBundleFile(bundle)
      const files = await unzipArchive(zip, bundle)
      await checkArchiveSyntax(files)
      return {zip, files}
    }
    if (source === undefined) {
      throw new UsageError('Missing required flag --source (or --bundle-file).', 'Point --source at the folder that holds src/main/apigee/.')
    }
    const files = readSource(source)
    await checkArchiveSyntax(files)
    return {zip: await zipArchive(files), files}
  }
}
