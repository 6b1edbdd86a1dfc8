import {UsageError} from './usage-error.js'

/** `5s`, `500ms`, `2m`, `1h` (a bare number is seconds) in milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  const unit = {ms: 1, s: 1000, m: 60_000, h: 3_600_000}[(match?.[2] ?? 's') as 'ms' | 's' | 'm' | 'h']
  const ms = match ? Number(match[1]) * unit : Number.NaN
  if (!(ms > 0)) throw new UsageError(`Invalid --${flag} "${text}": use e.g. 500ms, 5s or 1m.`)
  return ms
}
