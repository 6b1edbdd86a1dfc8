import {Command} from '@oclif/core/command'
import * as Flags from '@oclif/core/flags'
import type * as Interfaces from '@oclif/core/interfaces'

import type {ApigeeApi} from '../core/apigee/api.js'
import {LocalApigee} from '../core/apigee/local.js'
import {Config, type Property} from '../core/config.js'
import {MtlsError} from '../core/errors.js'
import {openStore, stateHome, type Store} from '../core/store/index.js'
import {chooseBackend, configResolver} from './backend.js'
import {ExitCode, reportError} from './exit-codes.js'
import {parseFormat, render} from './format.js'
import {isVerbosity, Output, wantsColor, type Verbosity} from './output.js'
import {Prompter} from './prompts.js'
import {UsageError} from './usage-error.js'

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/**
 * The base of every mtlsctl command. A command implements `execute()`, which calls the engine
 * and returns its result; this class owns the global flags, renders the result in the chosen
 * --format on stdout, and turns any error into `ERROR: (mtlsctl.topic.verb) ...` on stderr and
 * a documented exit code.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static baseFlags = {
    format: Flags.string({
      description: 'Output format: json, yaml, value(f1,f2), table(f1,f2) or csv(f1,f2).',
      helpGroup: 'GLOBAL',
      helpValue: 'FORMAT',
    }),
    quiet: Flags.boolean({
      char: 'q',
      description: 'Disable all interactive prompts: use defaults, or fail when a value is missing.',
      helpGroup: 'GLOBAL',
    }),
    verbosity: Flags.string({
      description: 'Messages on stderr: debug, info, warning (default), error or none.',
      helpGroup: 'GLOBAL',
      helpValue: 'LEVEL',
    }),
    color: Flags.boolean({
      allowNo: true,
      description: 'Colour output (default: only on a terminal; NO_COLOR also disables it).',
      helpGroup: 'GLOBAL',
    }),
  }

  /** The readable default format of the command's result, e.g. `table(name,state)`. */
  static defaultFormat = 'yaml'

  protected flags!: CommandFlags<T>
  protected args!: CommandArgs<T>
  protected out: Output = new Output('warning', false)
  protected prompter!: Prompter
  protected settings!: Config
  private storeInstance?: Store
  private apiInstance?: ApigeeApi

  /** Does the work; the returned value is rendered on stdout (nothing when undefined). */
  protected abstract execute(): Promise<unknown>

  /** A readable rendering for the default format; undefined falls back to `defaultFormat`. */
  protected renderDefault(_result: unknown): string | undefined {
    return undefined
  }

  public async init(): Promise<void> {
    await super.init()
    this.settings = new Config(stateHome())
    const ctor = this.ctor as typeof BaseCommand
    const {args, flags} = await this.parse({
      flags: ctor.flags,
      baseFlags: ctor.baseFlags,
      args: ctor.args,
      strict: ctor.strict,
    }).catch((error: unknown) => {
      // A refused flag value (value-flags.ts) is a parse that happened: no "did not parse" warning.
      this.parsed = true
      throw error
    })
    this.flags = flags as CommandFlags<T>
    this.args = args as CommandArgs<T>
    const verbosity = this.property('verbosity', this.flags.verbosity)?.value ?? 'warning'
    if (!isVerbosity(verbosity)) {
      throw new UsageError(`Invalid --verbosity "${verbosity}": use debug, info, warning, error or none.`)
    }
    this.out = new Output(verbosity as Verbosity, wantsColor(this.flags.color, process.stdout))
    this.prompter = new Prompter(!this.flags.quiet && process.stdin.isTTY === true)
  }

  public async run(): Promise<unknown> {
    const result = await this.execute()
    if (result !== undefined) await this.emit(result)
    // Nothing is handed back to oclif: it would print it itself.
    return undefined
  }

  /**
   * Renders a result on stdout in the chosen --format, else the command's readable default
   * (`renderDefault`, then `defaultFormat`, or `fallback` when given).
   */
  protected async emit(result: unknown, fallback?: string): Promise<void> {
    const chosen = this.property('format', this.flags.format)?.value
    if (chosen === undefined && fallback === undefined) {
      const readable = this.renderDefault(result)
      if (readable !== undefined) {
        this.out.result(readable)
        return
      }
    }
    const spec = parseFormat(chosen ?? fallback ?? (this.ctor as typeof BaseCommand).defaultFormat)
    const bold = this.out.color ? (await import('chalk')).default.bold : undefined
    this.out.result(await render(result, spec, {bold}))
  }

  protected async catch(error: Interfaces.CommandError): Promise<void> {
    const report = reportError(error)
    if (report.exitCode === ExitCode.OK) throw error // oclif's --help/--version paths.
    const path = `mtlsctl.${(this.id ?? 'unknown').replaceAll(':', '.').replaceAll(' ', '.')}`
    const useColor = wantsColor(this.flags?.color, process.stderr)
    const prefix = useColor ? (await import('chalk')).default.red('ERROR:') : 'ERROR:'
    // Errors are shown even at --verbosity=none: an exit code alone explains nothing.
    process.stderr.write(`${prefix} (${path}) ${report.message}\n`)
    if (report.hint) process.stderr.write(`${report.hint}\n`)
    if (this.out.verbosity === 'debug' && error instanceof Error && error.stack) {
      process.stderr.write(`${error.stack}\n`)
    }
    process.exitCode = report.exitCode
  }

  // -- shared helpers for commands ---------------------------------------------------------

  protected get store(): Store {
    this.storeInstance ??= openStore()
    return this.storeInstance
  }

  /**
   * The Apigee API this command talks to: the local engine, or the v1 REST API chosen by
   * --api-endpoint / --location (cli/backend.ts), with the credentials found on first use.
   */
  protected async apigee(): Promise<ApigeeApi> {
    if (this.apiInstance) return this.apiInstance
    const flags = this.flags as {'api-endpoint'?: string; location?: string; 'access-token-file'?: string; 'billing-project'?: string}
    const backend = chooseBackend(configResolver(this.settings), flags)
    if (backend.kind === 'local') {
      const home = stateHome()
      this.out.info(`Using the local engine (state folder ${home}).`)
      const root = this.config.root
      const {startWorker} = await import('./worker.js')
      this.apiInstance = new LocalApigee(this.store, {
        where: `the local engine (${home})`,
        startWorker: (d) => void startWorker(root, [home, d.org, d.deployment, d.operation]),
      })
      return this.apiInstance
    }
    this.out.info(`Using the Apigee API at ${backend.endpoint} (from ${backend.from}).`)
    const {openRemote} = await import('../remote/index.js')
    const timeout = Number(process.env.MTLSCTL_API_TIMEOUT)
    this.apiInstance = openRemote({
      endpoint: backend.endpoint,
      store: this.store,
      accessTokenFile: flags['access-token-file'],
      userProject: this.property('billing_project', flags['billing-project'])?.value,
      userAgent: `mtlsctl/${this.config.version}`,
      onCredentials: (source) => this.out.info(`Using credentials from ${source}.`),
      onRetry: (r) => this.out.info(`Retrying ${r.method} ${r.path} in ${Math.round(r.delayMs)} ms (${r.reason}).`),
      ...(Number.isFinite(timeout) && timeout > 0 ? {responseTimeoutMs: timeout * 1000} : {}),
    })
    return this.apiInstance
  }

  /**
   * For commands that change the local engine only (environments create/delete): refused when
   * the shell points at a remote API, so nobody believes they changed a real organization.
   */
  protected requireLocalEngine(what: string): void {
    const backend = chooseBackend(configResolver(this.settings), {})
    if (backend.kind === 'remote') {
      throw new MtlsError(
        'FAILED_PRECONDITION',
        `${what} works on the local engine only, and this shell uses the Apigee API at ${backend.endpoint} (from ${backend.from}).`,
        {hint: 'Create environments in a real organization with `gcloud apigee environments create`; to change the local engine, run with MTLSCTL_API_ENDPOINT=local.'},
      )
    }
  }

  protected async finally(error: Error | undefined): Promise<unknown> {
    const api = this.apiInstance
    this.apiInstance = undefined
    await api?.close().catch(() => {})
    return super.finally(error)
  }

  /** A property's value: flag, then MTLSCTL_<NAME>, then the config file. */
  protected property(name: Property, flagValue: string | undefined) {
    if (flagValue !== undefined && flagValue !== '') return {value: flagValue, source: 'flag' as const}
    return this.settings.resolve(name)
  }

  /** The organization, asked for on a terminal when it is not given anywhere. */
  protected async organization(flagValue: string | undefined): Promise<string> {
    const resolved = this.property('organization', flagValue)
    if (resolved && resolved.source !== 'flag') this.out.status(`Using Apigee organization '${resolved.value}'`)
    return this.prompter.require(resolved?.value, {
      flag: 'organization',
      message: 'Apigee organization:',
      hint: 'Give --organization ORG, set MTLSCTL_ORGANIZATION, or run `mtlsctl config set organization ORG`.',
    })
  }

  /**
   * The organization and environment of a resource command (its --organization/--environment).
   * On a terminal a missing environment is picked from the organization's (`choices: false`:
   * typed, for commands that read the local store whatever the backend).
   */
  protected async location(options: {choices?: boolean} = {}): Promise<{org: string; env: string}> {
    const flags = this.flags as {organization?: string; environment?: string}
    const org = await this.organization(flags.organization)
    const existing = options.choices === false ? async () => [] : async () => (await this.apigee()).listEnvironmentNames(org)
    return {org, env: await this.environment(flags.environment, existing)}
  }

  protected async environment(flagValue: string | undefined, existing: () => Promise<string[]> = async () => []): Promise<string> {
    const resolved = this.property('environment', flagValue)
    return this.prompter.choose(
      resolved?.value,
      {
        flag: 'environment',
        message: 'Apigee environment:',
        hint: 'Give --environment ENV, set MTLSCTL_ENVIRONMENT, or run `mtlsctl config set environment ENV`.',
      },
      existing,
    )
  }
}
