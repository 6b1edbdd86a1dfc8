import {invalidArgument} from '../errors.js'

/**
 * JSON and YAML as the tool reads them from users: archive documents, mesh topologies (and
 * any later manifest). Errors name the file, line and column, never echo more than a short,
 * clipped piece of the user's text, and a hostile document (a "billion laughs" of YAML
 * aliases, a syntax error deep in 16 MiB) is refused quickly with a short message.
 */

/** The longest piece of user text a message quotes. */
export const USER_TEXT_MAX = 200

/**
 * User text made fit for a one-line message: control characters (newlines too, which could
 * forge lines), a byte order mark and line separators escaped, cut at `max` characters with "…".
 */
export function clipUserText(text: string, max = USER_TEXT_MAX): string {
  const cut = text.length > max ? text.slice(0, max) : text
  // eslint-disable-next-line no-control-regex
  const safe = cut.replace(/[\u0000-\u001f\u007f-\u009f\ufeff\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  return text.length > max ? `${safe}…` : safe
}

/** `"value"`, clipped: how a message quotes a user's value. */
export const quoteUserText = (text: string, max = USER_TEXT_MAX) => `"${clipUserText(text, max)}"`

/** A UTF-8 byte order mark at the start of a text file: accepted, and not part of the document. */
export const stripBom = (text: string) => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)

/** Line and column (1-based) of a character offset. */
export function textPosition(text: string, offset: number): {line: number; column: number} {
  const end = Math.max(0, Math.min(offset, text.length))
  let line = 1
  let lineStart = 0
  for (let at = text.indexOf('\n'); at !== -1 && at < end; at = text.indexOf('\n', at + 1)) {
    line++
    lineStart = at + 1
  }
  return {line, column: end - lineStart + 1}
}

/** How a JSON error names one character: `token 'x'`, `character U+0001`, `byte order mark (U+FEFF)`. */
function describeChar(text: string, at: number): string {
  const code = text.codePointAt(at) as number
  if (code === 0xfeff) return 'byte order mark (U+FEFF)'
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029) return `character ${hex}`
  return `token '${String.fromCodePoint(code)}'`
}

export interface JsonSyntaxError {
  /** Offset of the first character that cannot be JSON (the text's length at an early end). */
  offset: number
  /** What is wrong, in V8's words where V8 has some. */
  what: string
}

/**
 * The first JSON syntax error of a text, with its real offset: Node 20's JSON.parse says
 * "at position N" for only some errors (`Unexpected token 'x', "x..." is not valid JSON` has
 * no position, and quotes the text). Iterative, so any nesting depth is fine; run only once
 * JSON.parse has failed.
 */
export function findJsonError(text: string): JsonSyntaxError | undefined {
  const n = text.length
  let i = 0
  const stack: number[] = [] // 1: object, 2: array
  const end = (): JsonSyntaxError => ({offset: n, what: 'Unexpected end of input'})
  const unexpected = (at: number): JsonSyntaxError => (at >= n ? end() : {offset: at, what: `Unexpected ${describeChar(text, at)}`})
  const skipSpace = () => {
    while (i < n) {
      const c = text.charCodeAt(i)
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++
      else break
    }
  }
  const isDigit = (at: number) => {
    const c = text.charCodeAt(at)
    return c >= 0x30 && c <= 0x39
  }
  const string = (): JsonSyntaxError | undefined => {
    i++ // the opening quote
    for (;;) {
      if (i >= n) return {offset: n, what: 'Unterminated string'}
      const c = text.charCodeAt(i)
      if (c === 0x22) {
        i++
        return undefined
      }
      if (c < 0x20) return {offset: i, what: 'Bad control character in string literal'}
      if (c === 0x5c) {
        const e = text[i + 1]
        if (e === undefined) return {offset: n, what: 'Unterminated string'}
        if ('"\\/bfnrt'.includes(e)) i += 2
        else if (e === 'u') {
          for (let k = 2; k < 6; k++) {
            if (!/[0-9a-fA-F]/.test(text[i + k] ?? '')) return i + k >= n ? {offset: n, what: 'Unterminated string'} : {offset: i + k, what: 'Bad Unicode escape'}
          }
          i += 6
        } else return {offset: i + 1, what: 'Bad escaped character'}
        continue
      }
      i++
    }
  }
  const number = (): JsonSyntaxError | undefined => {
    if (text[i] === '-') {
      i++
      if (!isDigit(i)) return i >= n ? end() : {offset: i, what: 'No number after minus sign'}
    }
    if (text[i] === '0') i++
    else while (isDigit(i)) i++
    if (text[i] === '.') {
      i++
      if (!isDigit(i)) return i >= n ? end() : {offset: i, what: 'Unterminated fractional number'}
      while (isDigit(i)) i++
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++
      if (text[i] === '+' || text[i] === '-') i++
      if (!isDigit(i)) return i >= n ? end() : {offset: i, what: 'Exponent part is missing a number'}
      while (isDigit(i)) i++
    }
    return undefined
  }

  let mode: 'value' | 'key' | 'after' = 'value'
  for (;;) {
    skipSpace()
    if (mode === 'key') {
      if (i >= n) return end()
      if (text[i] !== '"') return {offset: i, what: 'Expected double-quoted property name'}
      const error = string()
      if (error) return error
      skipSpace()
      if (i >= n) return end()
      if (text[i] !== ':') return {offset: i, what: "Expected ':' after property name"}
      i++
      mode = 'value'
      continue
    }
    if (mode === 'value') {
      if (i >= n) return end()
      const c = text[i]
      if (c === '{' || c === '[') {
        i++
        skipSpace()
        if (text[i] === (c === '{' ? '}' : ']')) {
          i++
          mode = 'after'
        } else {
          stack.push(c === '{' ? 1 : 2)
          mode = c === '{' ? 'key' : 'value'
        }
        continue
      }
      if (c === '"') {
        const error = string()
        if (error) return error
        mode = 'after'
        continue
      }
      if (c === '-' || isDigit(i)) {
        const error = number()
        if (error) return error
        mode = 'after'
        continue
      }
      const literal = c === 't' ? 'true' : c === 'f' ? 'false' : c === 'n' ? 'null' : undefined
      if (literal === undefined) return unexpected(i)
      for (let k = 1; k < literal.length; k++) if (text[i + k] !== literal[k]) return unexpected(i + k)
      i += literal.length
      mode = 'after'
      continue
    }
    // After a value.
    if (stack.length === 0) return i < n ? {offset: i, what: 'Unexpected non-whitespace character after JSON'} : undefined
    if (i >= n) return end()
    const top = stack[stack.length - 1]
    const c = text[i]
    if (c === ',') {
      i++
      mode = top === 1 ? 'key' : 'value'
      continue
    }
    if ((top === 1 && c === '}') || (top === 2 && c === ']')) {
      i++
      stack.pop()
      continue
    }
    return {offset: i, what: top === 1 ? "Expected ',' or '}' after property value" : "Expected ',' or ']' after array element"}
  }
}

/**
 * JSON.parse with an error that says file, line, column and what is wrong (a leading byte
 * order mark is accepted). The seed's own targetservers.json has trailing commas and a
 * misplaced brace; users copy it.
 */
export function parseJsonFile<T>(text: string, file: string): T {
  const body = stripBom(text)
  try {
    return JSON.parse(body) as T
  } catch {
    const found = findJsonError(body) ?? {offset: body.length, what: 'Invalid JSON'}
    const {line, column} = textPosition(body, found.offset)
    let what = found.what
    if (/^[\]}]/.test(body.slice(found.offset, found.offset + 1)) && body.slice(Math.max(0, found.offset - 4096), found.offset).trimEnd().endsWith(',')) {
      what += ' (a trailing comma before it?)'
    }
    throw invalidArgument(`Invalid JSON in ${file} at line ${line}, column ${column}: ${what}.`)
  }
}

/**
 * What YAML aliases (`*name`) may cost. js-yaml shares an aliased node rather than copying
 * it, so parsing a "billion laughs" is quick; walking the result (a check of its shape, a
 * message that prints it) is what explodes. Each document's expansion is therefore measured
 * once (linear in its distinct nodes) and refused past these limits.
 */
export const YAML_ALIAS_LIMITS = {
  /** Aliases of mappings and lists (aliases of a scalar copy nothing). */
  aliases: 10_000,
  /** Values the aliases add when the document is walked as a tree. */
  addedNodes: 1_000_000,
  /** Nesting depth of the document walked as a tree. */
  depth: 1_000,
}

export type YamlAliasLimits = Partial<typeof YAML_ALIAS_LIMITS>

/**
 * Measures a parsed YAML document as a tree (without expanding it) and throws past `limits`;
 * also refuses an alias inside the node it names (a cycle). Exposed for every YAML reader.
 */
export function checkYamlAliases(document: unknown, file: string, limits: YamlAliasLimits = {}): void {
  const max = {...YAML_ALIAS_LIMITS, ...limits}
  if (document === null || typeof document !== 'object') return
  const refuse = (why: string) => invalidArgument(`Invalid YAML in ${file}: ${why}.`, 'Write the values out instead of repeating them through aliases.')
  interface Frame {
    node: object
    children: unknown[]
    next: number
    nodes: number
    depth: number
  }
  const done = new Map<object, {nodes: number; depth: number}>()
  const open = new Set<object>()
  let aliases = 0
  let distinct = 1
  const frame = (node: object): Frame => ({node, children: Object.values(node), next: 0, nodes: 1, depth: 1})
  const stack: Frame[] = [frame(document)]
  open.add(document)
  let result = {nodes: 1, depth: 1}
  while (stack.length > 0) {
    const top = stack[stack.length - 1]
    if (top.next < top.children.length) {
      const child = top.children[top.next++]
      if (child === null || typeof child !== 'object') {
        top.nodes++
        distinct++
        continue
      }
      const measured = done.get(child)
      if (measured) {
        if (++aliases > max.aliases) throw refuse(`more than ${max.aliases.toLocaleString('en-US')} aliases of mappings or lists`)
        top.nodes += measured.nodes
        top.depth = Math.max(top.depth, measured.depth + 1)
        continue
      }
      if (open.has(child)) throw refuse('an alias refers to a node that contains it')
      open.add(child)
      distinct++
      stack.push(frame(child))
      continue
    }
    stack.pop()
    open.delete(top.node)
    const measured = {nodes: top.nodes, depth: top.depth}
    done.set(top.node, measured)
    const parent = stack[stack.length - 1]
    if (parent) {
      parent.nodes += measured.nodes
      parent.depth = Math.max(parent.depth, measured.depth + 1)
    } else result = measured
  }
  if (result.nodes - distinct > max.addedNodes) {
    throw refuse(`its aliases expand it by more than ${max.addedNodes.toLocaleString('en-US')} values (a "billion laughs"?)`)
  }
  if (result.depth > max.depth) throw refuse(`its aliases nest it more than ${max.depth.toLocaleString('en-US')} levels deep`)
}

let jsYaml: typeof import('js-yaml') | undefined

/**
 * YAML (YAML 1.2 core schema: no timestamps, `yes` is a string) with an error that says file,
 * line, column and what is wrong, and aliases within `YAML_ALIAS_LIMITS`. js-yaml, not the
 * `yaml` package mtlsctl prints with: it parses an archive's config.yaml files about ten times
 * faster, and an archive may hold a thousand of them. js-yaml refuses nesting past 100 levels.
 */
export async function parseYamlFile<T>(text: string, file: string, limits?: YamlAliasLimits): Promise<T> {
  jsYaml ??= await import('js-yaml')
  let document: unknown
  try {
    document = jsYaml.load(text, {schema: jsYaml.CORE_SCHEMA}) ?? null
  } catch (error) {
    if (error instanceof RangeError) throw invalidArgument(`Invalid YAML in ${file}: it is nested too deeply to be read.`)
    if (!(error instanceof jsYaml.YAMLException)) throw error
    const where = error.mark ? ` at line ${error.mark.line + 1}, column ${error.mark.column + 1}` : ''
    throw invalidArgument(`Invalid YAML in ${file}${where}: ${clipUserText(error.reason ?? 'not valid YAML')}.`)
  }
  // No alias without both an anchor (&) and an alias (*): most documents skip the walk.
  if (text.includes('*') && text.includes('&')) checkYamlAliases(document, file, limits)
  return document as T
}

/**
 * Checks that every JSON and YAML file of an archive parses, before anything is uploaded:
 * a syntax error is the user's to fix locally, with file, line and column.
 */
export async function checkArchiveSyntax(files: Map<string, Buffer>): Promise<void> {
  for (const [rel, data] of files) {
    const file = `src/main/apigee/${clipUserText(rel)}`
    if (rel.endsWith('.json')) parseJsonFile(data.toString('utf8'), file)
    else if (rel.endsWith('.yaml') || rel.endsWith('.yml')) await parseYamlFile(data.toString('utf8'), file)
  }
}
