import {BaseCommand} from '../../cli/base-command.js'
import {notFound} from '../../core/errors.js'
import {stateHome} from '../../core/store/index.js'
import {runtimeStatus} from '../../runtime/instance.js'

export default class RuntimeStatus extends BaseCommand<typeof RuntimeStatus> {
  static summary = 'Show the runtime running on the state folder and the deployments it serves (exit 1 when none runs).'
  static examples = ['<%= config.bin %> runtime status', "<%= config.bin %> runtime status --format='value(url)'"]
  static defaultFormat = 'yaml'

  protected async execute() {
    const root = stateHome()
    const status = await runtimeStatus(root)
    if (!status) throw notFound(`No runtime is running on the state folder ${root}.`, 'Start one with: mtlsctl runtime start --detach')
    return status
  }
}
