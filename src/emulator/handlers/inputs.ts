import {invalidArgument} from '../../core/errors.js'

/** Reading request inputs: body fields and query parameters, with Apigee's field names in errors. */

/** An optional string field of a JSON body. */
export function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw invalidArgument(`Invalid value at '${field}': expected a string.`)
  return value
}

export function requiredString(body: Record<string, unknown>, field: string, what = field): string {
  const value = optionalString(body, field)
  if (value === undefined || value === '') throw invalidArgument(`Missing required field '${what}'.`)
  return value
}

/** A boolean query parameter: `true`/`false` (any case); absent is false. */
export function queryFlag(query: URLSearchParams, name: string): boolean {
  const value = query.get(name)
  if (value === null) return false
  const lower = value.toLowerCase()
  if (lower === 'true' || lower === '') return true
  if (lower === 'false') return false
  throw invalidArgument(`Invalid value "${value}" for query parameter '${name}': use true or false.`)
}

/** An integer given as a JSON number or a decimal string (int32 fields arrive either way). */
export function optionalInteger(body: Record<string, unknown>, field: string): number | undefined {
  const value = body[field]
  if (value === undefined || value === null || value === '') return undefined
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN
  if (!Number.isSafeInteger(n)) throw invalidArgument(`Invalid value at '${field}': expected an integer.`)
  return n
}

/** The id of a resource to create: the `name` query parameter or body field (Apigee accepts either). */
export function newResourceId(query: URLSearchParams, body: Record<string, unknown>, what: string): string {
  const fromQuery = query.get('name') ?? undefined
  const fromBody = optionalString(body, 'name')
  if (fromQuery !== undefined && fromBody !== undefined && fromQuery !== fromBody) {
    throw invalidArgument(`The ${what} name in the query ("${fromQuery}") and in the body ("${fromBody}") differ.`)
  }
  const id = fromQuery ?? fromBody
  if (id === undefined || id === '') throw invalidArgument(`Missing required field 'name' (the ${what} name).`)
  return id
}
