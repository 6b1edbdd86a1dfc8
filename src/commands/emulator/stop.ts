import {BaseCommand} from '../../cli/base-command.js'
import {stopInstance} from '../../emulator/index.js'
import {stateHome} from '../../core/store/index.js'

export default class EmulatorStop extends BaseCommand<typeof EmulatorStop> {
  static summary = 'Stop the emulator running on the state folder, and its runtime when started with --runtime-port (it finishes running deployments first).'
  static examples = ['<%= config.bin %> emulator stop']

  protected async execute() {
    const root = stateHome()
    const stopped = await stopInstance(root, {
      onWait: (instance, running) =>
        this.out.status(`Waiting for the emulator (pid ${instance.pid}) to stop${running ? `: ${running} deployment(s) are finishing` : ''}...`),
    })
    this.out.status(stopped ? `Stopped the emulator at ${stopped.url}${stopped.runtimeUrl ? ` and its runtime at ${stopped.runtimeUrl}` : ''} (pid ${stopped.pid}).` : `No emulator is running on the state folder ${root}.`)
    return undefined
  }
}
