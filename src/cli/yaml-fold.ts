/**
 * gcloud prints YAML with ruamel (PyYAML's emitter), whose `best_width` is 80: a plain or
 * single-quoted scalar that runs past column 80 is folded at the next single space, and the
 * rest continues on a new line indented two columns deeper than its key. The `yaml` package
 * folds differently (before the limit), so mtlsctl prints with `lineWidth: 0` and this pass
 * folds the result as PyYAML does: `gcloud ... operations describe` and
 * `mtlsctl operations describe` then print the same bytes for long error messages too.
 *
 * It also takes ruamel's choice of quotes: a value that must be quoted and holds a `'` is
 * double-quoted (`"it's: x"`, folded with `\` continuations), where the `yaml` package writes
 * `'it''s: x'`. It rewrites mapping values written on one line (`key: value`,
 * `key: 'value'`); block scalars, double-quoted scalars and sequence items are left as they are.
 */
export const PYYAML_WIDTH = 80

const MAPPING_LINE = /^( *)((?:'(?:[^']|'')*'|[^\s'"#&*!|>%@`{[\-?][^:]*?|-[^\s:][^:]*?): )(.+)$/

function foldScalar(text: string, column: number, indent: number, quoted: boolean, width: number): string {
  let out = ''
  const runs = text.match(/ +|[^ ]+/g) ?? []
  let at = 0
  for (const run of runs) {
    const start = at
    at += run.length
    // PyYAML breaks only a run of exactly one space, once past the width; a quoted scalar
    // never at its first or last character.
    const breakable = run === ' ' && column > width && (!quoted || (start !== 0 && at !== text.length))
    if (breakable) {
      out += `\n${' '.repeat(indent)}`
      column = indent
    } else {
      out += run
      column += run.length
    }
  }
  return out
}

const ESCAPES: Record<string, string> = {
  '\0': '0', '\x07': 'a', '\b': 'b', '\t': 't', '\n': 'n', '\v': 'v', '\f': 'f', '\r': 'r', '\x1b': 'e',
  '"': '"', '\\': '\\', '\x85': 'N', '\xa0': '_', '\u2028': 'L', '\u2029': 'P',
}

function printable(ch: string): boolean {
  return (ch >= '\x20' && ch <= '\x7e') || (ch >= '\xa0' && ch <= '\ud7ff') || (ch >= '\ue000' && ch <= '\ufffd')
}

function escape(ch: string): string {
  if (ESCAPES[ch] !== undefined) return `\\${ESCAPES[ch]}`
  const code = ch.charCodeAt(0)
  return code <= 0xff ? `\\x${code.toString(16).toUpperCase().padStart(2, '0')}` : `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`
}

/** ruamel's write_double_quoted: escapes, and folds with a trailing `\` past the width. */
function doubleQuoted(text: string, column: number, indent: number, width: number): string {
  let out = '"'
  column += 1
  let start = 0
  for (let end = 0; end <= text.length; end++) {
    const ch = end < text.length ? text[end] : undefined
    if (ch === undefined || '"\\\x85\u2028\u2029\ufeff'.includes(ch) || !printable(ch)) {
      if (start < end) {
        out += text.slice(start, end)
        column += end - start
        start = end
      }
      if (ch !== undefined) {
        const data = escape(ch)
        out += data
        column += data.length
        start = end + 1
      }
    }
    if (end > 0 && end < text.length - 1 && (ch === ' ' || start >= end) && column + (end - start) > width) {
      const data = `${text.slice(start, end)}\\`
      if (start < end) start = end
      out += `${data}\n${' '.repeat(indent)}`
      column = indent
      if (text[start] === ' ') {
        out += '\\'
        column += 1
      }
    }
  }
  return `${out}"`
}

const UNESCAPES: Record<string, string> = Object.fromEntries(Object.entries(ESCAPES).map(([ch, code]) => [code, ch]))

/** The value of a one-line double-quoted scalar, or undefined if it is not one. */
function unescapeDoubleQuoted(value: string): string | undefined {
  if (!/^"(?:[^"\\]|\\.)*"$/.test(value)) return undefined
  let failed = false
  const raw = value.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/g, (_, code: string) => {
    if (code.length > 1) return String.fromCodePoint(parseInt(code.slice(1), 16))
    if (code === ' ' || code === '/') return code
    if (UNESCAPES[code] === undefined) failed = true
    return UNESCAPES[code] ?? ''
  })
  return failed ? undefined : raw
}

function foldLine(line: string, width: number): string {
  if (line.length <= width && !line.includes("''")) return line
  const match = MAPPING_LINE.exec(line)
  if (!match) return line
  const [, spaces, key, value] = match
  const prefix = spaces + key
  const indent = spaces.length + 2
  if (value.startsWith("'")) {
    if (value.length < 2 || !value.endsWith("'") || !/^'(?:[^']|'')*'$/.test(value)) return line
    const raw = value.slice(1, -1)
    if (raw.includes("''")) return prefix + doubleQuoted(raw.replaceAll("''", "'"), prefix.length, indent, width)
    if (line.length <= width) return line
    return `${prefix}'${foldScalar(value.slice(1, -1), prefix.length + 1, indent, true, width)}'`
  }
  if (value.startsWith('"')) {
    const raw = unescapeDoubleQuoted(value)
    return raw === undefined || line.length <= width ? line : prefix + doubleQuoted(raw, prefix.length, indent, width)
  }
  if (line.length <= width || /^[|>[{&*!%@`]/.test(value)) return line
  return prefix + foldScalar(value, prefix.length, indent, false, width)
}

/** Folds a YAML text's long one-line scalars as PyYAML (and so gcloud) does. */
export function foldLikePyYaml(text: string, width = PYYAML_WIDTH): string {
  // Lines of a block scalar (`key: |`) are content, never keys: they pass unchanged.
  let blockIndent = -1
  return text
    .split('\n')
    .map((line) => {
      const indent = line.length - line.trimStart().length
      if (blockIndent >= 0 && (line.trim() === '' || indent > blockIndent)) return line
      blockIndent = /(?:^|: |^\s*- )[|>][-+0-9]*$/.test(line) ? indent : -1
      return foldLine(line, width)
    })
    .join('\n')
}
