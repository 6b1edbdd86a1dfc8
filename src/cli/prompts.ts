import {UsageError} from './usage-error.js'

/**
 * Asking for what was not given. On a terminal (stdin a TTY, no --quiet) a missing value is
 * asked for with @inquirer/prompts, drawn on stderr so stdout stays clean, secrets masked.
 * Otherwise a missing value is a usage error (exit 2) that names the flag.
 */
export interface Missing {
  /** `--organization` style flag name, or an argument name like `ENV`. */
  flag?: string
  arg?: string
  /** The question on a terminal. */
  message: string
  secret?: boolean
  /** How else it can be given (env var, config property). */
  hint?: string
}

/** The user answered no to a confirmation: `Aborted by user.`, exit 1 (as gcloud). */
export class AbortedByUser extends Error {
  constructor() {
    super('Aborted by user.')
    this.name = 'AbortedByUser'
  }
}

export class Prompter {
  constructor(readonly interactive: boolean) {}

  async require(value: string | undefined, missing: Missing): Promise<string> {
    if (value !== undefined && value !== '') return value
    const what = missing.flag ? `flag --${missing.flag}` : `argument ${missing.arg}`
    if (!this.interactive) throw new UsageError(`Missing required ${what}.`, missing.hint)
    const answer = await this.ask(missing.message, missing.secret ?? false)
    if (answer === '') throw new UsageError(`Missing required ${what}.`, missing.hint)
    return answer
  }

  /**
   * An existing resource: on a terminal, the ones that exist (fetched through the API, so on
   * either backend) offered as a list to pick from with the arrow keys; free text when there
   * are none to offer. Without a terminal, as `require`.
   */
  async choose(value: string | undefined, missing: Missing, existing: () => Promise<string[]>): Promise<string> {
    if (value !== undefined && value !== '') return value
    if (!this.interactive) return this.require(value, missing)
    const names = await existing()
    if (names.length === 0) return this.require(value, missing)
    const {select} = await import('@inquirer/prompts')
    return select({message: missing.message, choices: names.map((name) => ({name, value: name})), pageSize: 15}, {output: process.stderr})
  }

  async ask(message: string, secret: boolean): Promise<string> {
    const {input, password} = await import('@inquirer/prompts')
    const context = {output: process.stderr}
    return secret
      ? password({message, mask: '*'}, context)
      : input({message}, context)
  }

  /**
   * Asks to go on. Without a terminal, or with --quiet, the default answer (yes) is taken, as
   * gcloud does; when the user says no, AbortedByUser is thrown (`Aborted by user.`, exit 1),
   * so a script can tell that nothing was done. Resolves to true otherwise.
   */
  async confirm(message: string, defaultAnswer = true): Promise<true> {
    if (!this.interactive) {
      if (defaultAnswer) return true
      throw new AbortedByUser()
    }
    const {confirm} = await import('@inquirer/prompts')
    if (!(await confirm({message, default: defaultAnswer}, {output: process.stderr}))) throw new AbortedByUser()
    return true
  }
}
