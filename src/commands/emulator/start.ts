import * as Flags from '@oclif/core/flags'
import * as path from 'node:path'

import {BaseCommand} from '../../cli/base-command.js'
import {stopSignal} from '../../cli/signals.js'
import {reportToParent, startDetached} from '../../cli/emulator-daemon.js'
import {
  claimStateFolder,
  emulatorLogFile,
  gcloudEnvironment,
  placeholderTokenFile,
  readTokenFile,
  startApiServer,
  type ApiServer,
  type EmulatorInstance,
} from '../../emulator/index.js'
import {isMtlsError} from '../../core/errors.js'
import {stateHome} from '../../core/store/index.js'
import {holdRuntime, type HeldRuntime} from '../../runtime/run.js'

interface Started {
  url: string
  pid: number
  stateFolder: string
  tokenFile: string
  runtimeUrl?: string
  environment: Record<string, string>
}

export default class EmulatorStart extends BaseCommand<typeof EmulatorStart> {
  static summary = "Serve Apigee's v1 REST API from the local state folder, for gcloud, apigeecli and curl."
  static description = [
    'Serves /v1/organizations/... (environments, keystores, aliases, references, archive deployments, operations) on the same state folder and with the same engine as the CLI, so scripts written against apigee.googleapis.com run unchanged and fail with the same errors.',
    'Prints the endpoint on stderr and, on stdout, the environment variables that point gcloud at it (eval them). Binds 127.0.0.1 unless --host says otherwise. Without --token-file any bearer token is accepted (a placeholder token file is written for gcloud); with it, a request without that token gets 401. Requests are logged on stderr at --verbosity=info.',
    'With --runtime-port, the local runtime (as `mtlsctl runtime start` serves it: the deployed proxies, their target servers called with southbound mTLS) listens on that port too, on the same --host, in the same process: `emulator status` shows its URL, `emulator stop` stops both. Its access log goes to stderr with the emulator\'s.',
    'Stop it with Ctrl-C, or with `mtlsctl emulator stop` when started with --detach.',
  ].join('\n\n')
  static examples = [
    '<%= config.bin %> emulator start --port 8080',
    'eval "$(<%= config.bin %> emulator start --detach --port 0)" && gcloud alpha apigee operations list --organization myorg',
    '<%= config.bin %> emulator start --token-file ./token --verbosity info',
    '<%= config.bin %> emulator start --detach --port 8080 --runtime-port 8998',
  ]
  static flags = {
    host: Flags.string({description: 'Address to listen on.', default: '127.0.0.1', helpValue: 'ADDRESS'}),
    port: Flags.integer({description: 'Port to listen on (0 picks a free one).', default: 8080, min: 0, max: 65535, helpValue: 'PORT'}),
    'runtime-port': Flags.integer({
      description: 'Also serve the deployed proxies (the local runtime, as `runtime start`) on this port (0 picks a free one), in the same process.',
      min: 0,
      max: 65535,
      helpValue: 'PORT',
    }),
    'token-file': Flags.string({description: 'File whose first line is the only bearer token accepted.', helpValue: 'FILE'}),
    detach: Flags.boolean({description: 'Run in the background (pid file and log in the state folder); stop with `mtlsctl emulator stop`.'}),
  }

  protected renderDefault(result: unknown): string {
    const {environment} = result as Started
    return Object.entries(environment).map(([k, v]) => `export ${k}=${v}\n`).join('')
  }

  protected async execute() {
    const root = stateHome()
    const tokenFile = this.flags['token-file'] === undefined ? undefined : path.resolve(this.flags['token-file'])
    // Read now: a bad token file fails here, not in the background.
    const token = tokenFile === undefined ? undefined : readTokenFile(tokenFile)
    if (this.flags.detach) return this.detach(root, tokenFile)
    try {
      await this.serve(root, tokenFile, token)
    } catch (error) {
      if (isMtlsError(error)) reportToParent({error: {status: error.status, message: error.message, hint: error.hint}})
      else reportToParent({error: {status: 'INTERNAL', message: (error as Error).message}})
      throw error
    }
    return undefined
  }

  private async detach(root: string, tokenFile: string | undefined): Promise<Started> {
    const args = ['--host', this.flags.host, '--port', String(this.flags.port), '--verbosity', this.out.verbosity]
    if (tokenFile !== undefined) args.push('--token-file', tokenFile)
    if (this.flags['runtime-port'] !== undefined) args.push('--runtime-port', String(this.flags['runtime-port']))
    const log = emulatorLogFile(root)
    const {pid, url, runtimeUrl} = await startDetached(this.config.root, args, root, log)
    const clientToken = tokenFile ?? placeholderTokenFile(root)
    this.out.status(`Apigee API emulator listening on ${url} (pid ${pid}, state folder ${root}, log ${log}).`)
    if (runtimeUrl) this.out.status(`Runtime listening on ${runtimeUrl} (in the emulator's process).`)
    return {url, pid, stateFolder: root, tokenFile: clientToken, ...(runtimeUrl ? {runtimeUrl} : {}), environment: gcloudEnvironment({url, tokenFile: clientToken})}
  }

  private async serve(root: string, tokenFile: string | undefined, token: string | undefined): Promise<void> {
    let server: ApiServer | undefined
    let runtime: HeldRuntime | undefined
    let stopping = false
    // The state folder's lock: refused while another emulator lives, whether it is busy or not.
    const claim = await claimStateFolder(root, () => ({runningDeployments: server?.runningDeployments ?? 0, stopping}))
    try {
      server = await startApiServer({
        root,
        host: this.flags.host,
        port: this.flags.port,
        token,
        log: this.out.verbosity === 'debug' || this.out.verbosity === 'info' ? (line) => this.out.info(line) : undefined,
        onError: (line) => this.out.error(`ERROR: ${line}`),
      })
      if (this.flags['runtime-port'] !== undefined) {
        const quiet = this.out.verbosity === 'error' || this.out.verbosity === 'none'
        runtime = await holdRuntime(root, {
          store: this.store,
          host: this.flags.host,
          port: this.flags['runtime-port'],
          inEmulator: true,
          log: quiet ? undefined : (lines) => process.stderr.write(lines),
          onChange: (message) => this.out.status(message),
        })
      }
    } catch (error) {
      await server?.close()
      await claim.release()
      throw error
    }
    const clientToken = tokenFile ?? placeholderTokenFile(root)
    const instance: EmulatorInstance = {
      pid: process.pid,
      url: server.url,
      host: server.host,
      port: server.port,
      stateFolder: root,
      startedAt: new Date().toISOString(),
      tokenFile: clientToken,
      tokenRequired: token !== undefined,
      ...(runtime ? {runtimeUrl: runtime.server.url} : {}),
    }
    claim.record(instance)
    this.out.status(`Apigee API emulator listening on ${server.url} (state folder ${root}${token ? ', bearer token required' : ''}).`)
    if (runtime) this.out.status(`Runtime listening on ${runtime.server.url} (in the emulator's process).`)
    await this.emit({
      url: server.url,
      pid: process.pid,
      stateFolder: root,
      tokenFile: clientToken,
      ...(runtime ? {runtimeUrl: runtime.server.url} : {}),
      environment: gcloudEnvironment(instance),
    } satisfies Started)
    reportToParent({url: server.url, pid: process.pid, ...(runtime ? {runtimeUrl: runtime.server.url} : {})})

    // A second signal while deployments finish stops at once (they finish on their own).
    const signal = stopSignal()
    await signal.received
    stopping = true
    const running = server.runningDeployments
    this.out.status(running > 0 ? `Stopping the emulator: waiting for ${running} running deployment(s) to finish...` : 'Stopping the emulator...')
    try {
      // The runtime first: its requests in flight finish, then the API's deployments.
      await runtime?.stop()
      await server.close()
    } finally {
      await claim.release()
      signal.release()
    }
    this.out.status('Emulator stopped.')
  }
}
