import {UsageError} from './usage-error.js'
import {foldLikePyYaml} from './yaml-fold.js'

/**
 * gcloud's --format, the subset operators use in scripts:
 *   json | yaml | value(f1,f2) | table(f1,f2) | csv(f1,f2)
 * Fields are dotted paths into the result (`metadata.state`). value() prints rows of
 * tab-separated values without a header; lists are joined with ';' and booleans print as
 * True/False, as gcloud (Python) prints them, so `--format='value(done)'` gives `True`.
 */
export type FormatKind = 'json' | 'yaml' | 'value' | 'table' | 'csv'

export interface FormatSpec {
  kind: FormatKind
  fields: string[]
  /** Column headers given as `field:label='TEXT'` (table only). */
  labels?: Record<string, string>
}

/**
 * ruamel's implicit resolvers for YAML 1.2 (gcloud's printer): a string one of them would read
 * back as a number, timestamp, merge key or `=` is quoted. The `yaml` package's core schema
 * quotes a subset of these (not `2024-01-01`, `1_000` or `=`); these tags only add to what is
 * quoted, nothing is ever written or read as them.
 */
const RUAMEL_RESOLVERS = [
  ['float', /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/],
  // ruamel tries this one only on scalars starting with a sign or a digit
  ['int', /^(?=[-+0-9])(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$/],
  ['merge', /^<<$/],
  ['timestamp', /^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9]{2})?))?)$/],
  ['value', /^=$/],
] as const

/**
 * YAML as gcloud prints it (ruamel's safe dumper, YAML 1.2, `yaml_printer.py`): keys sorted,
 * quoted strings in single quotes, sequences not indented under their key, `Yes`/`on` plain,
 * and long scalars folded at 80 columns (foldLikePyYaml, on the one-line output of `yaml`).
 */
export const YAML_OPTIONS = {
  lineWidth: 0,
  singleQuote: true,
  sortMapEntries: true,
  indentSeq: false,
  customTags: RUAMEL_RESOLVERS.map(([name, test]) => ({tag: `tag:yaml.org,2002:${name}`, default: true, test, resolve: (s: string) => s})),
} as const

const SPEC = /^(json|yaml|value|table|csv)(?:\[[^\]]*\])?(?:\(([^()]*)\))?$/

export function parseFormat(text: string): FormatSpec {
  const match = SPEC.exec(text.trim())
  if (!match) {
    throw new UsageError(
      `Invalid --format "${text}": use json, yaml, value(f1,f2), table(f1,f2) or csv(f1,f2).`,
    )
  }
  const kind = match[1] as FormatKind
  const labels: Record<string, string> = {}
  const fields = (match[2] ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '')
    .map((f) => {
      const labelled = /^([^:]+):label=(?:'([^']*)'|"([^"]*)"|(.*))$/.exec(f)
      if (!labelled) return f
      labels[labelled[1].trim()] = labelled[2] ?? labelled[3] ?? labelled[4]
      return labelled[1].trim()
    })
  if (kind === 'value' && fields.length === 0) {
    throw new UsageError(`--format=value needs fields, e.g. value(name).`)
  }
  return Object.keys(labels).length > 0 ? {kind, fields, labels} : {kind, fields}
}

/**
 * A dotted field of a result. Only own data fields are projectable: own enumerable properties
 * of plain objects and arrays, never a function; `__proto__`, `constructor` or `toString` give
 * an empty cell, as a field the result does not have.
 */
export function pick(record: unknown, field: string): unknown {
  let current: unknown = record
  for (const key of field.split('.')) {
    if (!isPlainContainer(current) || !Object.prototype.propertyIsEnumerable.call(current, key)) return undefined
    current = (current as Record<string, unknown>)[key]
  }
  return typeof current === 'function' ? undefined : current
}

function isPlainContainer(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false
  if (Array.isArray(value)) return true
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function scalar(value: unknown): string {
  if (value === undefined || value === null) return ''
  if (typeof value === 'boolean') return value ? 'True' : 'False'
  if (Array.isArray(value)) return value.map(scalar).join(';')
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}=${scalar(v)}`)
      .join(';')
  }
  return String(value)
}

function csvCell(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

function header(field: string): string {
  const last = field.split('.').pop() ?? field
  return last.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()
}

function defaultFields(rows: unknown[]): string[] {
  const fields: string[] = []
  for (const row of rows) {
    if (row && typeof row === 'object' && !Array.isArray(row)) {
      for (const key of Object.keys(row)) if (!fields.includes(key)) fields.push(key)
    }
  }
  return fields
}

export interface RenderOptions {
  /** Bold table headers (only when stdout is a colour terminal). */
  bold?: (text: string) => string
}

/** Renders a command result. A list result (array) prints one row or document per item. */
export async function render(result: unknown, spec: FormatSpec, options: RenderOptions = {}): Promise<string> {
  const rows = Array.isArray(result) ? result : [result]
  switch (spec.kind) {
    case 'json': {
      return JSON.stringify(result, null, 2) + '\n'
    }
    case 'yaml': {
      const {stringify} = await import('yaml')
      const docs = rows.map((r) => foldLikePyYaml(stringify(r, YAML_OPTIONS)))
      return Array.isArray(result) ? docs.map((d) => `---\n${d}`).join('') : docs.join('')
    }
    case 'value': {
      return rows.map((r) => spec.fields.map((f) => scalar(pick(r, f))).join('\t') + '\n').join('')
    }
    case 'csv': {
      const fields = spec.fields.length > 0 ? spec.fields : defaultFields(rows)
      const lines = [fields.join(','), ...rows.map((r) => fields.map((f) => csvCell(scalar(pick(r, f)))).join(','))]
      return lines.join('\n') + '\n'
    }
    case 'table': {
      if (rows.length === 0) return ''
      const fields = spec.fields.length > 0 ? spec.fields : defaultFields(rows)
      const table = [fields.map((f) => spec.labels?.[f] ?? header(f)), ...rows.map((r) => fields.map((f) => scalar(pick(r, f))))]
      const widths = fields.map((_, i) => Math.max(...table.map((line) => line[i].length)))
      return (
        table
          .map((line, n) => {
            const text = line
              .map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i])))
              .join('  ')
              .trimEnd()
            return n === 0 && options.bold ? options.bold(text) : text
          })
          .join('\n') + '\n'
      )
    }
  }
}
