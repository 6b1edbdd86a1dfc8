import {invalidArgument} from '../errors.js'

/** Line and column (1-based) of a character offset. */
function position(text: string, offset: number): {line: number; column: number} {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)))
  const lines = before.split('\n')
  return {line: lines.length, column: lines[lines.length - 1].length + 1}
}

/**
 * JSON.parse with an error that says file, line, column and what is wrong. The seed's own
 * targetservers.json has trailing commas and a misplaced brace; users copy it.
 */
export function parseJsonFile<T>(text: string, file: string): T {
  try {
    return JSON.parse(text) as T
  } catch (error) {
    const message = (error as Error).message
    const at = /at position (\d+)/.exec(message)
    const offset = at ? Number(at[1]) : text.length
    const {line, column} = position(text, offset)
    let what = message.replace(/ in JSON at position \d+.*$/, '').replace(/^Unexpected end of JSON input$/, 'Unexpected end of input')
    const previous = text.slice(0, offset).trimEnd()
    if (previous.endsWith(',') && /^[\]}]/.test(text.slice(offset).trimStart())) what += ' (a trailing comma before it?)'
    throw invalidArgument(`Invalid JSON in ${file} at line ${line}, column ${column}: ${what}.`)
  }
}

let jsYaml: typeof import('js-yaml') | undefined

/**
 * YAML (YAML 1.2 core schema: no timestamps, `yes` is a string) with an error that says file,
 * line, column and what is wrong. js-yaml, not the `yaml` package mtlsctl prints with: it
 * parses an archive's config.yaml files about ten times faster, and an archive may hold a
 * thousand of them.
 */
export async function parseYamlFile<T>(text: string, file: string): Promise<T> {
  jsYaml ??= await import('js-yaml')
  try {
    return (jsYaml.load(text, {schema: jsYaml.CORE_SCHEMA}) ?? null) as T
  } catch (error) {
    if (!(error instanceof jsYaml.YAMLException)) throw error
    const where = error.mark ? ` at line ${error.mark.line + 1}, column ${error.mark.column + 1}` : ''
    throw invalidArgument(`Invalid YAML in ${file}${where}: ${error.reason}.`)
  }
}

/**
 * Checks that every JSON and YAML file of an archive parses, before anything is uploaded:
 * a syntax error is the user's to fix locally, with file, line and column.
 */
export async function checkArchiveSyntax(files: Map<string, Buffer>): Promise<void> {
  for (const [rel, data] of files) {
    const file = `src/main/apigee/${rel}`
    if (rel.endsWith('.json')) parseJsonFile(data.toString('utf8'), file)
    else if (rel.endsWith('.yaml') || rel.endsWith('.yml')) await parseYamlFile(data.toString('utf8'), file)
  }
}
