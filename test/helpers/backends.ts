import {randomBytes} from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterEach, describe} from 'vitest'

import {startEmulator, type RunningEmulator} from './api.js'
import {rmTemp, runCli, tempDir, type CliOptions, type CliResult} from './cli.js'

/**
 * The two backends of the resource commands, for e2e tests that run twice with the same
 * assertions: the local engine over the state folder, and remote mode (the v1 REST API over
 * HTTP) against `mtlsctl emulator start` serving that state folder from another process.
 */
export type BackendKind = 'local' | 'remote'
export const BACKENDS: readonly BackendKind[] = ['local', 'remote']

/** Variables that would choose a backend or credentials behind a test's back. */
const AMBIENT = ['CLOUDSDK_API_ENDPOINT_OVERRIDES_APIGEE', 'CLOUDSDK_AUTH_ACCESS_TOKEN_FILE', 'GOOGLE_APPLICATION_CREDENTIALS', 'GCE_METADATA_HOST', 'GCE_METADATA_IP']

/** What every run of the CLI gets: nothing from the developer's shell chooses the API. */
export const NEUTRAL: Record<string, string | undefined> = Object.fromEntries(AMBIENT.map((k) => [k, undefined]))

/** Remote mode against `url` with `token` (MTLSCTL_HOME is the caller's: a client state folder). */
export function remoteEnv(url: string, token: string): Record<string, string | undefined> {
  return {
    ...NEUTRAL,
    MTLSCTL_API_ENDPOINT: url,
    MTLSCTL_ACCESS_TOKEN: token,
    // Never a request beyond loopback: no metadata server probe.
    METADATA_SERVER_DETECTION: 'none',
  }
}

export type BackendCliOptions = Omit<CliOptions, 'home'>

export interface Backend {
  readonly kind: BackendKind
  /** The state folder the resources really live in (the emulator's, remotely): for snapshot(). */
  readonly engineHome: string
  /** MTLSCTL_HOME of `cli()`: engineHome locally; remotely a client folder of its own (the local CAs of `--ca`). */
  readonly home: string
  /** Remote: the running emulator (its request log is `emulator.stderr()`, at --verbosity info). */
  readonly emulator: RunningEmulator | undefined
  /** Remote: the token the emulator accepts (and `cli()` sends as MTLSCTL_ACCESS_TOKEN). */
  readonly token: string | undefined
  /** Remote: the file holding it (the emulator's --token-file; gcloud's CLOUDSDK_AUTH_ACCESS_TOKEN_FILE). */
  readonly tokenFile: string | undefined
  /** The variables `cli()` adds to choose the backend (none locally). */
  readonly env: Record<string, string | undefined>
  /** A fresh, empty state folder (and, remotely, an emulator serving it). Returns engineHome. */
  setup(): Promise<string>
  /** Stops the emulator (it must exit 0 and have logged no server-side ERROR), removes the folders. */
  teardown(): Promise<void>
  /** The built CLI on this backend; `options.env` comes last (a test may override the token). */
  cli(args: string[], options?: BackendCliOptions): Promise<CliResult>
  /** The built CLI on the local engine over engineHome: local-only setup (environments create). */
  local(args: string[], options?: BackendCliOptions): Promise<CliResult>
}

class TestBackend implements Backend {
  private root?: string
  private running?: RunningEmulator
  private secret?: string
  private calls = 0

  constructor(readonly kind: BackendKind) {}

  private get base(): string {
    if (!this.root) throw new Error('backend.setup() was not called')
    return this.root
  }

  get engineHome(): string {
    return path.join(this.base, 'state')
  }

  get home(): string {
    return this.kind === 'local' ? this.engineHome : path.join(this.base, 'client-state')
  }

  get emulator(): RunningEmulator | undefined {
    return this.running
  }

  get token(): string | undefined {
    return this.secret
  }

  get tokenFile(): string | undefined {
    return this.secret === undefined ? undefined : path.join(this.base, 'emulator.token')
  }

  get env(): Record<string, string | undefined> {
    if (this.kind === 'local') return {...NEUTRAL}
    if (!this.running) throw new Error('backend.setup() was not called')
    return remoteEnv(this.running.url, this.secret!)
  }

  async setup(): Promise<string> {
    if (this.root) await this.teardown()
    this.root = tempDir(`mtlsctl-${this.kind}-`)
    fs.mkdirSync(this.engineHome)
    if (this.kind === 'remote') {
      fs.mkdirSync(this.home)
      this.secret = `test-token-${randomBytes(12).toString('hex')}`
      fs.writeFileSync(this.tokenFile!, `${this.secret}\n`, {mode: 0o600})
      this.running = await startEmulator(this.engineHome, ['--token-file', this.tokenFile!, '--verbosity', 'info'])
    }
    return this.engineHome
  }

  async teardown(): Promise<void> {
    const emulator = this.running
    this.running = undefined
    try {
      if (emulator) {
        const code = await emulator.stop()
        if (code !== 0) throw new Error(`the emulator exited ${code}:\n${emulator.stderr()}`)
        const lines = emulator.stderr().split('\n')
        const errors = lines.filter((l) => l.startsWith('ERROR:'))
        if (errors.length > 0) throw new Error(`the emulator logged errors:\n${errors.join('\n')}`)
        // A remote run that never reached the emulator would pass the local assertions unnoticed.
        if (this.calls > 0 && !lines.some((l) => / \/v1\/\S+ \d{3} [\d.]+ ms$/.test(l))) throw new Error('the remote backend ran the CLI, and the emulator saw no request')
      }
    } finally {
      if (this.root) rmTemp(this.root)
      this.root = undefined
      this.secret = undefined
      this.calls = 0
    }
  }

  cli(args: string[], options: BackendCliOptions = {}): Promise<CliResult> {
    this.calls++
    return runCli(args, {...options, home: this.home, env: {...this.env, ...options.env}})
  }

  local(args: string[], options: BackendCliOptions = {}): Promise<CliResult> {
    return runCli(args, {...options, home: this.engineHome, env: {...NEUTRAL, ...options.env}})
  }
}

/** A backend object to drive by hand (setup/teardown are the caller's). */
export function backend(kind: BackendKind): Backend {
  return new TestBackend(kind)
}

/**
 * `describe(name [local])` and `describe(name [remote])`, each with its own backend: the body
 * calls `b.setup()` in its beforeEach (after which the state is empty; an emulator serves it
 * remotely); the teardown after each test is registered here.
 */
export function backendSuite(name: string, body: (b: Backend) => void): void {
  describe.each(BACKENDS)(`${name} [%s]`, (kind) => {
    const b = backend(kind)
    afterEach(() => b.teardown())
    body(b)
  })
}
