/** Wrong or missing command-line input: exit code 2, like oclif's own parse errors. */
export class UsageError extends Error {
  readonly exitCode = 2
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message)
    this.name = 'UsageError'
  }
}

/**
 * oclif wraps the error of a flag's parse function (value-flags.ts) as
 * `Parsing --F \n\t<message>\nSee more help with --help`: the message alone is shown.
 */
export function unwrapFlagParseMessage(message: string): string {
  return message.replace(/^Parsing --[\w-]+ \n\t/, '').replace(/\nSee more help with --help$/, '')
}
