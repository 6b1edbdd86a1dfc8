import * as Flags from '@oclif/core/flags'
import {availableParallelism} from 'node:os'
import * as path from 'node:path'

import {BaseCommand} from '../../cli/base-command.js'
import {stopSignal} from '../../cli/signals.js'
import {isMtlsError} from '../../core/errors.js'
import {curlCommand, serverCertificate, type ServerCertificate} from '../../core/runtime/index.js'
import {stateHome} from '../../core/store/index.js'
import {reportToParent, startDetachedRuntime} from '../../runtime/daemon.js'
import {runtimeLogFile} from '../../runtime/instance.js'
import {holdRuntime} from '../../runtime/run.js'
import {holdRuntimeWorkers} from '../../runtime/workers.js'

interface Started {
  url: string
  pid: number
  stateFolder: string
  curl: string
}

export default class RuntimeStart extends BaseCommand<typeof RuntimeStart> {
  static summary = 'Serve the deployed configurable proxies locally and call their target servers with southbound mTLS.'
  static description = [
    "For each environment, serves the proxies of its latest successful archive deployment: the request's host ORG-ENV.<anything> picks the environment (any host, when only one environment has a deployment), the basepath the proxy, and the operations of its config.yaml the target. Target servers are called as their sSLInfo says: the key alias as the client certificate, the truststore's certificates as the trusted CAs, the protocols, ciphers and commonName; through keep-alive pools with TLS session reuse.",
    "Failures are answered as Apigee's runtime answers them, e.g. 503 `upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED`; whatever the target answers passes through untouched. One access-log line per request on stderr.",
    'A new deployment is served from the next request after it is read (the state folder is read every 250 ms); requests in flight finish on the configuration they started with. Prints the URL and a curl line on stdout. Stop it with Ctrl-C, or with `mtlsctl runtime stop` when started with --detach.',
    'It forwards on every core: --workers processes (default: one per CPU, as Envoy runs a worker per core) share the listening socket; a "Serving ..." line is printed once every worker serves that deployment. --workers 1 runs it in one process.',
  ].join('\n\n')
  static examples = [
    '<%= config.bin %> runtime start',
    '<%= config.bin %> runtime start --port 8443 --tls-cert myorg-dev --detach',
    '<%= config.bin %> runtime start --workers 1',
  ]
  static defaultFormat = 'yaml'
  static flags = {
    host: Flags.string({description: 'Address to listen on.', default: '127.0.0.1', helpValue: 'ADDRESS'}),
    port: Flags.integer({description: 'Port to listen on (0 picks a free one).', default: 8998, min: 0, max: 65535, helpValue: 'PORT'}),
    'tls-cert': Flags.string({
      description: 'Serve HTTPS with NAME.pem and NAME.key (as `mtlsctl certs create NAME` writes them), e.g. a certificate for myorg-dev.apigee.net.',
      helpValue: 'NAME',
    }),
    'upstream-timeout': Flags.integer({description: 'Seconds to wait for a target server to answer before 504 `upstream request timeout`.', default: 15, min: 1, helpValue: 'SECONDS'}),
    workers: Flags.integer({description: 'Worker processes that forward requests (default: one per CPU; 1: the runtime is one process).', min: 1, max: 256, helpValue: 'N'}),
    detach: Flags.boolean({description: 'Run in the background (pid file and log in the state folder); stop with `mtlsctl runtime stop`.'}),
  }

  protected renderDefault(result: unknown): string {
    const {url, curl} = result as Started
    return `${url}\n${curl}\n`
  }

  protected async execute() {
    const root = stateHome()
    // Read now: a bad certificate fails here, not in the background.
    const certificate = this.flags['tls-cert'] === undefined ? undefined : serverCertificate(this.flags['tls-cert'])
    if (this.flags.detach) return this.detach(root, certificate)
    try {
      await this.serve(root, certificate)
    } catch (error) {
      if (isMtlsError(error)) reportToParent({error: {status: error.status, message: error.message, hint: error.hint}})
      else reportToParent({error: {status: 'INTERNAL', message: (error as Error).message}})
      throw error
    }
    return undefined
  }

  private async detach(root: string, certificate: ServerCertificate | undefined): Promise<Started> {
    const args = ['--host', this.flags.host, '--port', String(this.flags.port), '--upstream-timeout', String(this.flags['upstream-timeout']), '--workers', String(this.workers()), '--verbosity', this.out.verbosity]
    if (certificate) args.push('--tls-cert', certificate.certFile)
    const log = runtimeLogFile(root)
    const {pid, url} = await startDetachedRuntime(this.config.root, args, root, log)
    this.out.status(`Runtime listening on ${url} (pid ${pid}, state folder ${root}, log ${log}).`)
    const {SnapshotLoader} = await import('../../core/runtime/index.js')
    const snapshot = await new SnapshotLoader(this.store).load()
    return {url, pid, stateFolder: root, curl: await curlCommand(this.store, {url, snapshot, hostnames: certificate?.hostnames, certPem: certificate?.cert})}
  }

  private workers(): number {
    return this.flags.workers ?? availableParallelism()
  }

  private async serve(root: string, certificate: ServerCertificate | undefined): Promise<void> {
    const quiet = this.out.verbosity === 'error' || this.out.verbosity === 'none'
    const workers = this.workers()
    const settings = {
      host: this.flags.host,
      port: this.flags.port,
      tls: certificate ? {cert: certificate.cert, key: certificate.key} : undefined,
      timeoutMs: this.flags['upstream-timeout'] * 1000,
      onChange: (message: string) => this.out.status(message),
    }
    // Listened for from the start: a Ctrl-C right after the URL is printed stops it gracefully too.
    const signal = stopSignal()
    let held: {url: string; failed?: Promise<never>; stop(): Promise<void>} | undefined
    try {
      let snapshot
      if (workers === 1) {
        const one = await holdRuntime(root, {...settings, store: this.store, log: quiet ? undefined : (lines) => process.stderr.write(lines)})
        held = {url: one.server.url, stop: () => one.stop()}
        snapshot = one.server.snapshot()
      } else {
        held = await holdRuntimeWorkers({...settings, root, workers, script: path.join(this.config.root, 'dist', 'runtime-worker.js'), accessLog: !quiet})
        const {SnapshotLoader} = await import('../../core/runtime/index.js')
        snapshot = await new SnapshotLoader(this.store).load()
      }
      const {url} = held
      this.out.status(`Runtime listening on ${url} (state folder ${root}${workers === 1 ? '' : `, ${workers} workers`}).`)
      const curl = await curlCommand(this.store, {url, snapshot, hostnames: certificate?.hostnames, certPem: certificate?.cert})
      await this.emit({url, pid: process.pid, stateFolder: root, curl} satisfies Started)
      reportToParent({url, pid: process.pid})
      await (held.failed ? Promise.race([signal.received, held.failed]) : signal.received)
    } catch (error) {
      signal.release()
      await held?.stop()
      throw error
    }
    this.out.status('Stopping the runtime...')
    try {
      await held.stop()
    } finally {
      signal.release()
    }
    this.out.status('Runtime stopped.')
  }
}
