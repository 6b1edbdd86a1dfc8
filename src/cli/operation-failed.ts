/** An awaited operation finished with an error: exit 1, printed in gcloud's three lines. */
export class OperationFailed extends Error {
  constructor(
    readonly operationName: string,
    readonly details: string,
  ) {
    super(`Failed to await operation:\nOperation(name='${operationName}')\nDetails: ${details}`)
    this.name = 'OperationFailed'
  }
}
