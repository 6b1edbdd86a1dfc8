import {isDeepStrictEqual} from 'node:util'

import {internal} from '../errors.js'

/**
 * Byte-preserving edits of targetservers.json: only the string values named are replaced, so
 * the file keeps its indentation, key order, line endings, escapes and everything else, byte
 * for byte. jsonc-parser (Microsoft's, VS Code's JSON editing) finds each value's offset and
 * length and applies the edits; it is loaded only by a rotation.
 */

export type SslField = 'keyStore' | 'keyAlias' | 'trustStore'

export interface ValueEdit {
  /** The target server's index in the file's array. */
  index: number
  field: SslField
  /** The new value (a name, or `ref://NAME`). */
  to: string
}

interface JsonNode {
  type: string
  offset: number
  length: number
  value?: unknown
  children?: JsonNode[]
}

/** The value of an object's property; the last one when a key is repeated (what JSON.parse keeps). */
function propertyValue(object: JsonNode | undefined, key: string): JsonNode | undefined {
  if (!object || object.type !== 'object') return undefined
  let found: JsonNode | undefined
  for (const property of object.children ?? []) {
    if (property.children?.[0]?.value === key) found = property.children[1]
  }
  return found
}

/**
 * Applies the edits to the file's text (a leading byte order mark kept). Each edit must name a
 * string value that exists (the caller found it in the parsed file); the result is checked to
 * parse to the same document with exactly those values changed.
 */
export async function editTargetServers(text: string, edits: ValueEdit[], file: string): Promise<string> {
  if (edits.length === 0) return text
  const {parseTree, applyEdits} = await import('jsonc-parser')
  const bom = text.charCodeAt(0) === 0xfeff ? '\uFEFF' : ''
  const body = bom ? text.slice(1) : text
  const root = parseTree(body) as JsonNode | undefined
  if (!root || root.type !== 'array') throw internal(`${file} is not an array of target servers.`)
  const changes = edits.map((edit) => {
    const value = propertyValue(propertyValue(root.children?.[edit.index], 'sSLInfo'), edit.field)
    if (!value || value.type !== 'string') throw internal(`${file}: target server ${edit.index + 1} has no sSLInfo.${edit.field} to change.`)
    return {offset: value.offset, length: value.length, content: JSON.stringify(edit.to)}
  })
  const after = applyEdits(body, changes)
  // The same document, with exactly these values changed: anything else is a bug of ours.
  const expected = JSON.parse(body) as Array<{sSLInfo: Record<string, unknown>}>
  for (const edit of edits) expected[edit.index].sSLInfo[edit.field] = edit.to
  if (!isDeepStrictEqual(JSON.parse(after), expected)) throw internal(`Rewriting ${file} would change more than the values named; nothing was changed.`)
  return bom + after
}

/** A unified diff of one file's change (jsdiff, loaded only by a rotation): `--- a/FILE` / `+++ b/FILE`, 3 lines of context. */
export async function unifiedDiff(file: string, before: string, after: string): Promise<string> {
  const {createTwoFilesPatch, FILE_HEADERS_ONLY} = await import('diff')
  return createTwoFilesPatch(`a/${file}`, `b/${file}`, before, after, undefined, undefined, {context: 3, headerOptions: FILE_HEADERS_ONLY})
}
