import type {Problem} from '../core/archives/validate.js'

/** Validation problems as `archives validate` prints them: each with its Resolution. */
export function renderProblems(problems: Problem[]): string {
  return problems
    .map((p, i) => {
      const where = [p.proxy && `proxy "${p.proxy}"`, p.targetServer && `target server "${p.targetServer}"`].filter(Boolean).join(', ')
      return `Problem ${i + 1}${where ? ` (${where})` : ''}: ${p.message}\n  Resolution: ${p.resolution}\n`
    })
    .join('')
}
