import {BaseCommand} from '../../cli/base-command.js'
import {runningInstance} from '../../emulator/index.js'
import {notFound} from '../../core/errors.js'
import {stateHome} from '../../core/store/index.js'

export default class EmulatorStatus extends BaseCommand<typeof EmulatorStatus> {
  static summary = 'Show the emulator running on the state folder, with its runtime\'s URL when started with --runtime-port (exit 1 when none runs).'
  static examples = ['<%= config.bin %> emulator status', "<%= config.bin %> emulator status --format='value(url)'"]
  static defaultFormat = 'yaml'

  protected async execute() {
    const root = stateHome()
    const instance = await runningInstance(root)
    if (!instance) {
      throw notFound(`No emulator is running on the state folder ${root}.`, 'Start one with: mtlsctl emulator start --detach')
    }
    return instance
  }
}
