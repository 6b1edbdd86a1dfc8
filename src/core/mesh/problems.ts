import {invalidArgument} from '../errors.js'

/**
 * Everything wrong with a mesh plan, gathered before anything is refused: an operator fixing
 * a topology file wants the whole list at once, each entry naming the node it is about.
 */
export class Problems {
  private readonly items: string[] = []
  private readonly hints: string[] = []

  add(message: string, hint?: string): void {
    this.items.push(message)
    if (hint && !this.hints.includes(hint)) this.hints.push(hint)
  }

  get count(): number {
    return this.items.length
  }

  get messages(): readonly string[] {
    return this.items
  }

  /** Throws INVALID_ARGUMENT listing every problem, when there is one. */
  throwIfAny(subject: string): void {
    if (this.items.length === 0) return
    const n = this.items.length
    const list = this.items.map((m) => `  - ${m}`).join('\n')
    throw invalidArgument(`${subject} has ${n} problem${n === 1 ? '' : 's'}:\n${list}`, this.hints.join('\n') || undefined)
  }
}
