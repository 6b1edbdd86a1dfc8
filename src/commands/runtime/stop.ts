import {BaseCommand} from '../../cli/base-command.js'
import {stateHome} from '../../core/store/index.js'
import {stopRuntime} from '../../runtime/instance.js'

export default class RuntimeStop extends BaseCommand<typeof RuntimeStop> {
  static summary = 'Stop the runtime running on the state folder (requests in flight finish first).'
  static examples = ['<%= config.bin %> runtime stop']

  protected async execute() {
    const root = stateHome()
    const stopped = await stopRuntime(root)
    this.out.status(stopped ? `Stopped the runtime at ${stopped.url} (pid ${stopped.pid}).` : `No runtime is running on the state folder ${root}.`)
    return undefined
  }
}
