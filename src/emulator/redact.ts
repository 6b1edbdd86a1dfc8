/**
 * What the emulator writes to its log never holds a secret a client sent in a URL. Apigee's
 * alias requests take `password` as a query parameter (apigeecli sends it so), and the server
 * reads query parameters as URLSearchParams decodes them: `%70assword`, `pass%77ord` and
 * `password` are one parameter. So parameters are judged by their decoded name, whatever
 * their spelling (percent-encoding, `+`, case, repeated keys), and a decoded path that spells
 * `password=...` is redacted too. The values found are also scrubbed from error lines.
 */
const SENSITIVE = /pass(?:word|phrase)|secret|token|credential/i
const IN_TEXT = /((?:pass(?:word|phrase)|secret|token|credential)[^=:/?&;]{0,40}[=:])[^/?&;#]*/gi
const SPELLS = new RegExp(IN_TEXT.source, 'i')
const MASK = '***'

/** Decodes as the server does (URLSearchParams: `+` is a space, bad escapes stay as written). */
function decodeComponent(text: string): string {
  return new URLSearchParams(`x=${text.replaceAll('&', '%26').replaceAll('#', '%23')}`).get('x') ?? text
}

export interface Redacted {
  /** The URL as it may be logged. */
  url: string
  /** The secret values it carried (decoded and as written), to scrub from other lines. */
  secrets: string[]
}

export function redactUrl(url: string): Redacted {
  const secrets: string[] = []
  const q = url.indexOf('?')
  const rawPath = q < 0 ? url : url.slice(0, q)
  let path = rawPath
  const decodedPath = decodeComponent(rawPath.replaceAll('+', '%2B'))
  if (SPELLS.test(decodedPath)) {
    for (const m of decodedPath.matchAll(IN_TEXT)) secrets.push(m[0].slice(m[1].length))
    path = decodedPath.replace(IN_TEXT, `$1${MASK}`)
  }
  if (q < 0) return {url: path, secrets: keep(secrets)}
  const pairs = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=')
      const rawKey = eq < 0 ? pair : pair.slice(0, eq)
      const rawValue = eq < 0 ? '' : pair.slice(eq + 1)
      const key = decodeComponent(rawKey)
      const value = decodeComponent(rawValue)
      if (SENSITIVE.test(key)) {
        secrets.push(value, rawValue)
        return `${rawKey}=${MASK}`
      }
      // A value that itself spells a secret parameter (`x=a%26password%3Ds`) is masked whole.
      if (SPELLS.test(value)) {
        secrets.push(value, rawValue)
        return `${rawKey}=${MASK}`
      }
      return pair
    })
  return {url: `${path}?${pairs.join('&')}`, secrets: keep(secrets)}
}

/** Secrets worth scrubbing: not empty, longest first (so a shorter one inside it goes too). */
function keep(secrets: string[]): string[] {
  return [...new Set(secrets.filter((s) => s.length >= 3))].sort((a, b) => b.length - a.length)
}

/** A log line without any of the secrets, nor any `password=...` it spells itself. */
export function scrub(line: string, secrets: string[]): string {
  let out = line
  for (const secret of secrets) out = out.split(secret).join(MASK)
  return out.replace(IN_TEXT, `$1${MASK}`)
}

/** Hides secrets that clients put in URLs: the URL as it may be logged. */
export function redact(url: string): string {
  return redactUrl(url).url
}
