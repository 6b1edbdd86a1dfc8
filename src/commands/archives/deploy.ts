import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import {environmentFlag, organizationFlag} from '../../cli/flags.js'
import {OperationFailed} from '../../cli/operation-failed.js'
import {OperationProgress} from '../../cli/progress.js'
import {UsageError} from '../../cli/usage-error.js'
import {startWorker} from '../../cli/worker.js'
import {createArchiveDeployment, parseLabels, runArchiveDeployment} from '../../core/archives/deployments.js'
import {checkArchiveSyntax} from '../../core/archives/parse.js'
import {readBundleFile, readSource, unzipArchive, zipArchive} from '../../core/archives/source.js'
import {describeOperation, getOperation} from '../../core/operations.js'
import {stateHome} from '../../core/store/index.js'

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
    organization: organizationFlag,
    environment: environmentFlag,
    source: Flags.string({description: 'Folder holding src/main/apigee/ (or main/apigee/).', exclusive: ['bundle-file'], helpValue: 'DIR'}),
    'bundle-file': Flags.string({description: 'A zip made earlier (entries under src/main/apigee/).', helpValue: 'ZIP'}),
    labels: Flags.string({description: 'Labels, k=v,k2=v2.', helpValue: 'KEY=VALUE,...'}),
    async: Flags.boolean({description: 'Return at once; the operation completes in the background.'}),
  }

  protected async execute() {
    const {org, env} = await this.location()
    const labels = parseLabels(this.flags.labels)
    const zip = await this.archive()
    const {deployment, operation} = await createArchiveDeployment(this.store, org, env, zip, {labels, workerPid: process.pid})
    const uuid = operation.name.split('/').pop() as string

    if (this.flags.async) {
      startWorker(this.config.root, [stateHome(), org, deployment.name, operation.name])
      if (process.stderr.isTTY) this.out.status(`Check operation [${uuid}] for status.`)
      return describeOperation(org, operation)
    }

    const progress = new OperationProgress(this.out, uuid)
    progress.start()
    await runArchiveDeployment(this.store, org, deployment.name)
    const finished = await getOperation(this.store, org, uuid)
    progress.tick()
    progress.stop(!finished.error)
    if (finished.error) throw new OperationFailed(finished.name, finished.error.message)
    return undefined
  }

  private async archive(): Promise<Buffer> {
    const {source} = this.flags
    const bundle = this.flags['bundle-file']
    if (bundle !== undefined) {
      const data = readBundleFile(bundle)
      await checkArchiveSyntax(await unzipArchive(data, bundle))
      return data
    }
    if (source === undefined) {
      throw new UsageError('Missing required flag --source (or --bundle-file).', 'Point --source at the folder that holds src/main/apigee/.')
    }
    const files = readSource(source)
    await checkArchiveSyntax(files)
    return zipArchive(files)
  }
}
