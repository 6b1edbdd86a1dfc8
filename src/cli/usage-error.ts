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
