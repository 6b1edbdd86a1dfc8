/**
 * The HTTP client of remote mode (issue 12): Apigee's v1 REST API (or the emulator's) over
 * Node's own node:http and node:https (built in: nothing to load but them).
 *
 * - Keep-alive agents per client: an http.Agent and an https.Agent, or, when HTTPS_PROXY,
 *   HTTP_PROXY and NO_PROXY (see `proxySettings`) send a URL through a proxy, an
 *   https-proxy-agent (a CONNECT tunnel, for https:// URLs) or an http-proxy-agent (absolute-form
 *   requests, for http:// URLs), loaded only then. TLS uses Node's default CA store, which holds
 *   NODE_EXTRA_CA_CERTS. `close()` destroys them, so the process can exit at once.
 * - A connect timeout and a response timeout (headers and body together), each a clear
 *   DEADLINE_EXCEEDED; an unreachable endpoint is UNAVAILABLE, the errno in words.
 * - Retries of idempotent requests only (GET, PUT, DELETE unless told otherwise): on 429, 502,
 *   503, 504, a refused connection and a connection reset or closed by the peer; exponential
 *   backoff with full jitter, or the server's Retry-After, capped. Timeouts are not retried.
 * - One token refresh after a 401 when the credentials can refresh (any method: a 401 did nothing).
 * - Google's error shape kept: the server's status and words, with its violations as lines.
 *
 * Nothing it throws holds the access token, a request body, or the query of a signed URL.
 */
import * as http from 'node:http'
import * as https from 'node:https'
import {TLSSocket} from 'node:tls'

import {MtlsError, RpcCode, type RpcStatus} from '../core/errors.js'
import {meansNotTls, unreachableWords} from '../core/probe/tls-words.js'
import type {Credentials} from './credentials.js'

export interface HttpClientOptions {
  /** Base URL before `v1/`: `https://apigee.googleapis.com/`, `http://127.0.0.1:8080/`. */
  endpoint: string
  credentials: Credentials
  /** `x-goog-user-project` (--billing-project, GOOGLE_CLOUD_QUOTA_PROJECT). */
  userProject?: string
  /** `mtlsctl/VERSION`. */
  userAgent?: string
  /** TCP (and TLS) connection set-up, to the endpoint or to the proxy. Default 10 s; 0: none. */
  connectTimeoutMs?: number
  /** From sending the request to the end of the answer's body. Default 60 s; 0: none. */
  responseTimeoutMs?: number
  /** The same, for `uploadArchive` (a large zip on a slow link). Default 10 min; 0: none. */
  uploadTimeoutMs?: number
  /** Retries of an idempotent request (429, 502, 503, 504, connection refused or reset). Default 4. */
  retries?: number
  /** First backoff; each next one doubles, with full jitter, capped at 10 s. Default 500 ms. */
  retryBaseMs?: number
  /** Told of each retry before it sleeps (the CLI prints it at --verbosity info). */
  onRetry?: (info: RetryInfo) => void
  /**
   * Where HTTPS_PROXY, HTTP_PROXY and NO_PROXY (or their lowercase forms, which win) are read
   * from, once, when the first request is made. Default: process.env.
   */
  env?: Record<string, string | undefined>
}

export interface RetryInfo {
  method: string
  /** The call's path below `v1/` (never its query), or `upload` for `uploadArchive`. */
  path: string
  /** The attempt that failed: 1 for the first request. */
  attempt: number
  /** Why, in words: `HTTP 503 (UNAVAILABLE)`, `connection refused`. */
  reason: string
  delayMs: number
}

/** A multipart/form-data part. */
export interface FormPart {
  name: string
  value: string | Buffer
  filename?: string
  contentType?: string
}

export interface ApiCall {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH'
  /** Below `v1/`, each id already encoded: `organizations/o/environments/e/keystores`. */
  path: string
  query?: Record<string, string | undefined>
  json?: unknown
  form?: FormPart[]
  /** `json` (default) or `text` (a certificate or CSR in PEM). */
  accept?: 'json' | 'text'
  /** Retried on 429/502/503/504/reset: default true for GET, PUT and DELETE, false for POST and PATCH. */
  idempotent?: boolean
  /** Values the request carries that no error may repeat (a password part, a signed URL in the body). */
  secrets?: string[]
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
export const DEFAULT_RESPONSE_TIMEOUT_MS = 60_000
export const DEFAULT_UPLOAD_TIMEOUT_MS = 600_000
export const DEFAULT_RETRIES = 4
export const DEFAULT_RETRY_BASE_MS = 500
/** The longest sleep between two attempts, a Retry-After included. */
export const MAX_RETRY_DELAY_MS = 10_000
/** Answers larger than this are refused (the API's largest answers are a few hundred KB). */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024

const RETRY_STATUSES = new Set([429, 502, 503, 504])
/** Node's `socket hang up` (an ECONNRESET): the server closed the connection without answering. */
const SOCKET_CLOSED = 'SOCKET_CLOSED'
/** Transport failures after which an idempotent request is sent again. */
const RETRY_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', SOCKET_CLOSED])
/** Failures to open a connection at all: "Cannot reach ...". */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EADDRNOTAVAIL'])
/** A connection that broke during the exchange. */
const BROKEN_WORDS: Record<string, string> = {
  ECONNRESET: 'the connection was reset',
  EPIPE: 'the connection was closed while the request was being sent',
  [SOCKET_CLOSED]: 'the server closed the connection',
  ECONNABORTED: 'the connection was aborted',
}

type ProxyAgentClass = new (proxy: string | URL, options?: http.AgentOptions) => http.Agent
/** https-proxy-agent (CONNECT tunnels) and http-proxy-agent (absolute-form requests): loaded when a proxy applies. */
let proxyAgents: Promise<{https: ProxyAgentClass; http: ProxyAgentClass}> | undefined
const loadProxyAgents = () =>
  (proxyAgents ??= Promise.all([import('https-proxy-agent'), import('http-proxy-agent')]).then(([s, h]) => ({
    https: s.HttpsProxyAgent as unknown as ProxyAgentClass,
    http: h.HttpProxyAgent as unknown as ProxyAgentClass,
  })))

/** The default status of an HTTP status code, when the answer does not name a known one. */
export function statusOfHttp(code: number): RpcStatus {
  switch (code) {
    case 400:
      return 'INVALID_ARGUMENT'
    case 401:
      return 'UNAUTHENTICATED'
    case 403:
      return 'PERMISSION_DENIED'
    case 404:
      return 'NOT_FOUND'
    case 408:
      return 'DEADLINE_EXCEEDED'
    case 409:
      return 'ALREADY_EXISTS'
    case 412:
      return 'FAILED_PRECONDITION'
    case 413:
    case 414:
    case 415:
      return 'INVALID_ARGUMENT'
    case 429:
      return 'RESOURCE_EXHAUSTED'
    case 499:
      return 'CANCELLED'
    case 500:
      return 'INTERNAL'
    case 501:
      return 'UNIMPLEMENTED'
    case 502:
    case 503:
      return 'UNAVAILABLE'
    case 504:
      return 'DEADLINE_EXCEEDED'
    default:
      return code >= 500 ? 'INTERNAL' : code >= 400 ? 'FAILED_PRECONDITION' : 'UNKNOWN'
  }
}

const isRpcStatus = (value: unknown): value is RpcStatus => typeof value === 'string' && value !== 'OK' && Object.hasOwn(RpcCode, value)

/** `60 s`, `200 ms`, `10 min`. */
function duration(ms: number): string {
  if (ms % 60_000 === 0 && ms >= 120_000) return `${ms / 60_000} min`
  if (ms % 1000 === 0) return `${ms / 1000} s`
  return ms > 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`
}

/** One line, at most `max` characters. */
/** An upload or download URL the API gave (`:generateUploadUrl`, `:generateDownloadUrl`), checked. */
function signedUrl(uri: string, what: 'upload' | 'download'): URL {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    throw new MtlsError('INTERNAL', `The Apigee API gave ${what === 'upload' ? 'an upload' : 'a download'} URL that is not a URL.`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new MtlsError('INTERNAL', `The Apigee API gave ${what === 'upload' ? 'an upload' : 'a download'} URL that is not http(s) (${url.protocol}).`)
  }
  return url
}

/** A signed URL's server that failed (5xx) or timed out (408) after the retries gave no answer: exit 4. */
const signedUrlOrigin = (status: number) => (status >= 500 || status === 408 ? {origin: 'transport' as const} : {})

function clip(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`
}

/** A URL as messages show it: no user, no password, no query, no fragment. */
function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`
}

function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h)
}

interface ProxySettings {
  httpProxy: string
  httpsProxy: string
  noProxy: string
  /** The variables that named them, for messages. */
  names: {http: string; https: string}
}

/**
 * The proxy variables (lowercase first), read by the client itself so that its requests and
 * its messages agree (the rules undici's EnvHttpProxyAgent, the client's former transport, had): HTTP_PROXY for http:// endpoints,
 * HTTPS_PROXY (else HTTP_PROXY) for https:// ones; NO_PROXY entries are host names or
 * addresses (a leading `.` or `*.` matches subdomains; `:PORT` only that port; `*` all), matched
 * exactly: `localhost` does not cover 127.0.0.1, no CIDR ranges, IPv6 as `[::1]`. A value
 * without a scheme (`proxy:3128`) is taken as http://.
 */
function proxySettings(env: Record<string, string | undefined>): ProxySettings {
  const withScheme = (value: string | undefined, name: string): string => {
    const v = value?.trim() ?? ''
    if (v === '') return ''
    const full = /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `http://${v}`
    let url: URL
    try {
      url = new URL(full)
    } catch {
      throw new MtlsError('INVALID_ARGUMENT', `Invalid ${name}: not a URL.`, {hint: `Give ${name} as http://HOST:PORT, or unset it.`})
    }
    if (!['http:', 'https:'].includes(url.protocol)) {
      throw new MtlsError('INVALID_ARGUMENT', `Invalid ${name}: the scheme must be http or https, not ${url.protocol.slice(0, -1)}.`, {hint: `Give ${name} as http://HOST:PORT, or unset it.`})
    }
    return full
  }
  const httpName = env.http_proxy !== undefined ? 'http_proxy' : 'HTTP_PROXY'
  const httpsName = env.https_proxy !== undefined ? 'https_proxy' : 'HTTPS_PROXY'
  const httpProxy = withScheme(env[httpName], httpName)
  const httpsOwn = withScheme(env[httpsName], httpsName)
  return {
    httpProxy,
    httpsProxy: httpsOwn || httpProxy,
    noProxy: env.no_proxy ?? env.NO_PROXY ?? '',
    names: {http: httpName, https: httpsOwn ? httpsName : httpName},
  }
}

/** The proxy a request to this URL goes through (its full URL, credentials included), if any. */
function proxyUrlOf(settings: ProxySettings, url: URL): string | undefined {
  const proxy = url.protocol === 'https:' ? settings.httpsProxy : settings.httpProxy
  if (!proxy) return undefined
  const entries = settings.noProxy.split(/[,\s]/).filter(Boolean)
  if (settings.noProxy === '*') return undefined
  const hostname = url.host.replace(/:\d*$/, '').toLowerCase()
  const port = Number.parseInt(url.port, 10) || (url.protocol === 'https:' ? 443 : 80)
  for (const entry of entries) {
    const parsed = /^(.+):(\d+)$/.exec(entry)
    const host = (parsed ? parsed[1] : entry).replace(/^\*?\./, '').toLowerCase()
    if (parsed && Number(parsed[2]) !== port) continue
    if (hostname === host || hostname.endsWith(`.${host}`)) return undefined
  }
  return proxy
}

/** The same, as messages show it. */
function proxyOf(settings: ProxySettings, url: URL): string | undefined {
  const proxy = proxyUrlOf(settings, url)
  return proxy ? displayUrl(new URL(proxy)).replace(/\/$/, '') : undefined
}

/** What an exchange is, for the attempt loop and its messages. */
interface Exchange {
  url: URL
  method: string
  /** The call's path below `v1/` (no query), or `upload`: for onRetry. */
  path: string
  /** `GET organizations/o/...` in messages; `PUT` for an archive upload. */
  label: string
  /** `the Apigee API at https://...`, `the archive upload URL http://...`. */
  where: string
  authorize: boolean
  headers: Record<string, string>
  /** The body and its content type (a multipart one names its boundary), made when first sent. */
  body: () => Promise<{bytes: Buffer; type?: string} | undefined>
  idempotent: boolean
  timeoutMs: number
  /** The largest answer taken (default MAX_ANSWER_BYTES). */
  maxBytes?: number
}

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  /** The raw body (an archive download). */
  body: Buffer
}

/** A transport failure: the error to throw, and whether an idempotent request may be sent again. */
interface Failure {
  error: MtlsError
  retryable: boolean
  reason: string
}

class ResponseTimeout extends Error {}
class ConnectTimeout extends Error {}
/** A proxy that refused a CONNECT (or, for an http:// URL, answered 407). */
class ProxyRefused extends Error {
  constructor(readonly statusCode: number) {
    super(`Proxy response (${statusCode})`)
  }
}

/** The errno-like code of a transport error (Node's, or the first of an AggregateError's); `socket hang up` is SOCKET_CLOSED. */
function codeOf(error: unknown): {code?: string; message: string} {
  let e = error as {code?: string; message?: string; cause?: unknown; errors?: unknown[]} | undefined
  for (let depth = 0; e && depth < 5; depth++) {
    if (e.code === 'ECONNRESET' && e.message === 'socket hang up') return {code: SOCKET_CLOSED, message: e.message}
    if (typeof e.code === 'string') return {code: e.code, message: String(e.message ?? '')}
    const next = e.cause ?? e.errors?.[0]
    if (!next) break
    e = next as typeof e
  }
  return {code: (error as {code?: string})?.code, message: String((error as Error)?.message ?? error)}
}

export class ApigeeHttpClient {
  /** Keep-alive agents, by protocol and proxy: destroyed by close(). */
  private readonly agents = new Map<string, http.Agent>()
  /** Aborted by close(): a proxy agent's connection to its proxy still being made ends too. */
  private readonly lifetime = new AbortController()
  private proxies?: ProxySettings
  private closed = false
  /** Tokens sent so far: scrubbed from anything thrown, whatever the server echoed. */
  private readonly secrets = new Set<string>()
  private readonly base: URL

  constructor(readonly options: HttpClientOptions) {
    let base: URL
    try {
      base = new URL(options.endpoint.endsWith('/') ? options.endpoint : `${options.endpoint}/`)
    } catch {
      throw new MtlsError('INVALID_ARGUMENT', `Invalid API endpoint "${clip(options.endpoint, 200)}": not a URL.`, {hint: 'Give --api-endpoint as https://apigee.googleapis.com/ (or the emulator\'s http://127.0.0.1:8080/).'})
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:') {
      throw new MtlsError('INVALID_ARGUMENT', `Invalid API endpoint "${displayUrl(base)}": the scheme must be https or http.`, {hint: 'Give --api-endpoint as https://apigee.googleapis.com/ (or the emulator\'s http://127.0.0.1:8080/).'})
    }
    base.search = ''
    base.hash = ''
    this.base = base
  }

  /** The base URL (ending in `/`), for messages. */
  get endpoint(): string {
    return this.base.href
  }

  /** The endpoint as messages show it. */
  private get shownEndpoint(): string {
    return displayUrl(this.base).replace(/\/$/, '')
  }

  async call<T>(call: ApiCall): Promise<T> {
    const path = call.path.replace(/^\/+/, '')
    const url = new URL(`v1/${path}`, this.base)
    for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) url.searchParams.set(k, v)
    const headers: Record<string, string> = {
      accept: call.accept === 'text' ? '*/*' : 'application/json',
      'user-agent': this.options.userAgent ?? 'mtlsctl',
    }
    if (this.options.userProject) headers['x-goog-user-project'] = this.options.userProject
    let body: Exchange['body'] = async () => undefined
    if (call.json !== undefined) {
      const bytes = Buffer.from(JSON.stringify(call.json))
      body = async () => ({bytes, type: 'application/json'})
    } else if (call.form) {
      const parts = call.form
      // Node's own multipart encoder (its fetch's Response): the content type names the boundary.
      body = async () => {
        const form = new FormData()
        for (const part of parts) {
          if (typeof part.value === 'string' && part.filename === undefined) form.append(part.name, part.value)
          else {
            const bytes = typeof part.value === 'string' ? Buffer.from(part.value) : part.value
            form.append(part.name, new Blob([new Uint8Array(bytes)], {type: part.contentType ?? 'application/octet-stream'}), part.filename ?? part.name)
          }
        }
        const encoded = new Response(form)
        return {bytes: Buffer.from(await encoded.arrayBuffer()), type: encoded.headers.get('content-type') ?? undefined}
      }
    }
    const exchange: Exchange = {
      url,
      method: call.method,
      path,
      label: `${call.method} ${path}`,
      where: `the Apigee API at ${this.shownEndpoint}`,
      authorize: true,
      headers,
      body,
      idempotent: call.idempotent ?? (call.method === 'GET' || call.method === 'PUT' || call.method === 'DELETE'),
      timeoutMs: this.options.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS,
    }
    try {
      const answer = await this.exchange(exchange)
      if (answer.status < 200 || answer.status > 299) throw this.httpError(exchange, answer)
      if (call.accept === 'text') return answer.text as T
      if (answer.text.trim() === '') return {} as T
      try {
        return JSON.parse(answer.text) as T
      } catch {
        const type = String(answer.headers['content-type'] ?? '').split(';')[0]
        throw new MtlsError(
          'INTERNAL',
          `The Apigee API at ${this.shownEndpoint} answered with something that is not JSON (${exchange.label}, HTTP ${answer.status}${type ? `, ${type}` : ''}): ${clip(answer.text, 120)}`,
          {hint: `Check the endpoint (--api-endpoint; now ${this.shownEndpoint}): something else than the Apigee API answered${this.proxyHint(url)}.`},
        )
      }
    } catch (error) {
      throw this.scrub(error, undefined, call.secrets)
    }
  }

  /** The PUT of an archive to an upload URL: no Authorization header, GCS's headers. Retried like a PUT. */
  async uploadArchive(uploadUri: string, zip: Buffer): Promise<void> {
    const url = signedUrl(uploadUri, 'upload')
    const shown = displayUrl(url)
    const exchange: Exchange = {
      url,
      method: 'PUT',
      path: 'upload',
      label: 'PUT',
      where: `the archive upload URL ${shown}`,
      authorize: false,
      headers: {
        'x-goog-content-length-range': '0,1073741824',
        'user-agent': this.options.userAgent ?? 'mtlsctl',
      },
      body: async () => ({bytes: zip, type: 'application/zip'}),
      idempotent: true,
      timeoutMs: this.options.uploadTimeoutMs ?? DEFAULT_UPLOAD_TIMEOUT_MS,
    }
    try {
      const answer = await this.exchange(exchange)
      if (answer.status >= 200 && answer.status <= 299) return
      throw new MtlsError(statusOfHttp(answer.status), `The archive upload to ${shown} failed: HTTP ${answer.status}${this.uploadReason(answer.text)}.`, {
        ...signedUrlOrigin(answer.status),
        hint: answer.status === 403 || answer.status === 404 || answer.status === 400
          ? 'Upload URLs expire and serve one upload: run the command again for a new one.'
          : `Run the command again; if it keeps failing, check the network path to ${url.host}${this.proxyHint(url)}.`,
      })
    } catch (error) {
      throw this.scrub(error, url)
    }
  }

  /**
   * The GET of an archive from a download URL (`:generateDownloadUrl`): no Authorization header
   * (the signed URL is the credential), at most 1 GiB. Retried like a GET.
   */
  async downloadArchive(downloadUri: string): Promise<Buffer> {
    const url = signedUrl(downloadUri, 'download')
    const shown = displayUrl(url)
    const exchange: Exchange = {
      url,
      method: 'GET',
      path: 'download',
      label: 'GET',
      where: `the archive download URL ${shown}`,
      authorize: false,
      headers: {'user-agent': this.options.userAgent ?? 'mtlsctl'},
      body: async () => undefined,
      idempotent: true,
      timeoutMs: this.options.uploadTimeoutMs ?? DEFAULT_UPLOAD_TIMEOUT_MS,
      maxBytes: 1024 * 1024 * 1024,
    }
    try {
      const answer = await this.exchange(exchange)
      if (answer.status >= 200 && answer.status <= 299) return answer.body
      throw new MtlsError(statusOfHttp(answer.status), `The archive download from ${shown} failed: HTTP ${answer.status}${this.uploadReason(answer.text)}.`, {
        ...signedUrlOrigin(answer.status),
        hint: 'Download URLs expire within minutes: run the command again for a new one.',
      })
    } catch (error) {
      throw this.scrub(error, url)
    }
  }

  /** Closes the connections (idle ones and any still in use): the process can exit. Idempotent. */
  async close(): Promise<void> {
    this.closed = true
    for (const agent of this.agents.values()) agent.destroy()
    this.agents.clear()
    this.lifetime.abort()
  }

  // ---------------------------------------------------------------------------------------

  /** The keep-alive agent for url's protocol and proxy; `proxied` when through an http:// URL's proxy. */
  private async agentFor(url: URL): Promise<{agent: http.Agent; httpProxy: boolean}> {
    const closed = () => new MtlsError('FAILED_PRECONDITION', 'The Apigee API client is closed.')
    if (this.closed) throw closed()
    const secure = url.protocol === 'https:'
    const proxy = proxyUrlOf(this.proxySettings(), url)
    const key = `${url.protocol} ${proxy ?? ''}`
    let agent = this.agents.get(key)
    if (!agent) {
      if (proxy) {
        const classes = await loadProxyAgents()
        if (this.closed) throw closed()
        agent = this.agents.get(key) ?? new (secure ? classes.https : classes.http)(proxy, {keepAlive: true, signal: this.lifetime.signal} as http.AgentOptions)
      } else {
        agent = secure ? new https.Agent({keepAlive: true}) : new http.Agent({keepAlive: true})
      }
      this.agents.set(key, agent)
    }
    return {agent, httpProxy: proxy !== undefined && !secure}
  }

  private proxySettings(): ProxySettings {
    return (this.proxies ??= proxySettings(this.options.env ?? process.env))
  }

  /** The proxy a request to url goes through, and the variable that names it. */
  private proxyFor(url: URL): {proxy: string; variable: string} | undefined {
    let settings: ProxySettings
    try {
      settings = this.proxySettings()
    } catch {
      return undefined
    }
    const proxy = proxyOf(settings, url)
    return proxy ? {proxy, variable: url.protocol === 'https:' ? settings.names.https : settings.names.http} : undefined
  }

  /** `, and the proxy http://p:3128 it goes through (HTTPS_PROXY; ...)` when one is used for url. */
  private proxyHint(url: URL): string {
    const p = this.proxyFor(url)
    if (!p) return ''
    // NO_PROXY entries are matched as names: `localhost` does not cover 127.0.0.1.
    const bypass = isLoopback(url.hostname) ? `add ${url.hostname} to NO_PROXY to bypass it` : 'hosts listed in NO_PROXY bypass it'
    return `, and the proxy ${p.proxy} it goes through (${p.variable}; ${bypass})`
  }

  /** Attempts, retries and the 401 refresh; the answer, whatever its status. */
  private async exchange(ex: Exchange): Promise<Answer> {
    const body = await ex.body()
    const retries = Math.max(0, this.options.retries ?? DEFAULT_RETRIES)
    const credentials = this.options.credentials
    let refresh = false
    let refreshed = false
    for (let attempt = 1; ; attempt++) {
      const headers = {...ex.headers}
      if (ex.authorize) {
        const token = await credentials.token(refresh)
        if (token.length >= 4) this.secrets.add(token)
        headers.authorization = `Bearer ${token}`
        refreshed ||= refresh
        refresh = false
      }
      const retryNumber = attempt - (refreshed ? 1 : 0)
      const mayRetry = ex.idempotent && retryNumber <= retries
      let answer: Answer
      try {
        answer = await this.once(ex, headers, body)
      } catch (error) {
        const failure = this.failure(ex, error)
        if (failure.retryable && mayRetry) {
          await this.sleep(ex, attempt, failure.reason, this.backoff(retryNumber))
          continue
        }
        if (failure.retryable && ex.idempotent && retries > 0) {
          throw new MtlsError(failure.error.status, failure.error.message, {hint: `${failure.error.hint} (Gave up after ${retryNumber} attempts.)`, cause: failure.error.cause, origin: failure.error.origin})
        }
        throw failure.error
      }
      if (answer.status === 401 && ex.authorize && credentials.refreshable && !refreshed) {
        refresh = true
        continue
      }
      if (RETRY_STATUSES.has(answer.status) && mayRetry) {
        const after = retryAfter(answer.headers['retry-after'])
        const reason = `HTTP ${answer.status} (${statusOfHttp(answer.status)})`
        await this.sleep(ex, attempt, reason, after ?? this.backoff(retryNumber))
        continue
      }
      return answer
    }
  }

  /** Full jitter: a random delay up to base × 2^(n-1), capped. */
  private backoff(retry: number): number {
    const base = Math.max(0, this.options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS)
    const ceiling = Math.min(MAX_RETRY_DELAY_MS, base * 2 ** (retry - 1))
    return Math.floor(Math.random() * ceiling)
  }

  private async sleep(ex: Exchange, attempt: number, reason: string, delayMs: number): Promise<void> {
    this.options.onRetry?.({method: ex.method, path: ex.path, attempt, reason, delayMs})
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs))
  }

  /**
   * One request: its answer read in full, within the response timeout (from the request to the
   * end of the body), its connection made within the connect timeout (TCP, a proxy's CONNECT,
   * TLS: until the socket can carry the request).
   */
  private async once(ex: Exchange, headers: Record<string, string>, body: {bytes: Buffer; type?: string} | undefined): Promise<Answer> {
    const {agent, httpProxy} = await this.agentFor(ex.url)
    const connectMs = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
    const maxBytes = ex.maxBytes ?? MAX_ANSWER_BYTES
    const sent = {...headers}
    if (body) {
      if (body.type) sent['content-type'] = body.type
      sent['content-length'] = String(body.bytes.length)
    }
    return new Promise<Answer>((resolve, reject) => {
      const secure = ex.url.protocol === 'https:'
      const request = (secure ? https : http).request({
        protocol: ex.url.protocol,
        hostname: ex.url.hostname.replace(/^\[|\]$/g, ''),
        port: ex.url.port || (secure ? 443 : 80),
        path: `${ex.url.pathname}${ex.url.search}`,
        method: ex.method,
        headers: sent,
        agent,
      })
      let settled = false
      let responseTimer: NodeJS.Timeout | undefined
      let connectTimer: NodeJS.Timeout | undefined
      const connected = () => {
        if (connectTimer) clearTimeout(connectTimer)
        connectTimer = undefined
      }
      const fail = (error: unknown) => {
        if (settled) return
        settled = true
        connected()
        if (responseTimer) clearTimeout(responseTimer)
        request.destroy()
        reject(error)
      }
      if (ex.timeoutMs > 0) responseTimer = setTimeout(() => fail(new ResponseTimeout()), ex.timeoutMs)
      if (connectMs > 0) connectTimer = setTimeout(() => fail(new ConnectTimeout()), connectMs)
      let proxyStatus: number | undefined
      request.on('proxyConnect', (answer: {statusCode?: number} | undefined) => {
        if (typeof answer?.statusCode === 'number' && answer.statusCode !== 200) proxyStatus = answer.statusCode
      })
      request.on('socket', (socket) => {
        if (request.reusedSocket) connected()
        else if (socket instanceof TLSSocket) socket.once('secureConnect', connected)
        else if (socket.connecting) socket.once('connect', connected)
        else connected()
      })
      request.on('error', fail)
      request.on('response', (res) => {
        connected()
        // https-proxy-agent hands a refused CONNECT's answer on as the response: it is the proxy's.
        if (proxyStatus !== undefined || (httpProxy && res.statusCode === 407)) {
          res.resume()
          fail(new ProxyRefused(proxyStatus ?? 407))
          return
        }
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > maxBytes) {
            res.destroy()
            fail(new MtlsError('INTERNAL', `${capital(ex.where)} answered with more than ${maxBytes / 1024 / 1024} MiB (${ex.label}).`))
            return
          }
          chunks.push(chunk)
        })
        res.on('error', fail)
        res.on('end', () => {
          if (settled) return
          settled = true
          connected()
          if (responseTimer) clearTimeout(responseTimer)
          const received = Buffer.concat(chunks)
          resolve({status: res.statusCode ?? 0, headers: res.headers, body: received, text: received.toString('utf8')})
        })
        res.on('close', () => {
          if (!res.complete) fail(Object.assign(new Error('socket hang up'), {code: 'ECONNRESET'}))
        })
      })
      request.end(body?.bytes)
    })
  }

  /** A transport failure as the user reads it. */
  private failure(ex: Exchange, error: unknown): Failure {
    if (error instanceof MtlsError) return {error, retryable: false, reason: error.message}
    const hintEndpoint = ex.authorize
      ? `Check the endpoint (--api-endpoint; now ${this.shownEndpoint})${this.proxyHint(ex.url)}.`
      : `Check the network path to ${ex.url.host}${this.proxyHint(ex.url)}.`
    const emulator = ex.authorize && isLoopback(ex.url.hostname) ? ' If it is the emulator, start it: mtlsctl emulator start.' : ''
    const proxyNeeded = this.proxyHint(ex.url) === '' && !isLoopback(ex.url.hostname) ? ' Behind a proxy, set HTTPS_PROXY.' : ''
    if (error instanceof ResponseTimeout) {
      return {
        error: new MtlsError('DEADLINE_EXCEEDED', `${capital(ex.where)} did not answer within ${duration(ex.timeoutMs)} (${ex.label}).`, {origin: 'transport', hint: `${hintEndpoint}${proxyNeeded}`}),
        retryable: false,
        reason: 'timeout',
      }
    }
    const {code, message} = codeOf(error)
    if (error instanceof ConnectTimeout) {
      const ms = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
      return {
        error: new MtlsError('DEADLINE_EXCEEDED', `Cannot reach ${ex.where}: no connection within ${duration(ms)} (${ex.label}).`, {origin: 'transport', hint: `${hintEndpoint}${proxyNeeded}`, cause: error}),
        retryable: false,
        reason: 'connect timeout',
      }
    }
    if (code && UNREACHABLE_CODES.has(code)) {
      const words = unreachableWords(code, message)
      return {
        error: new MtlsError('UNAVAILABLE', `Cannot reach ${ex.where}: ${words}.`, {origin: 'transport', hint: `${hintEndpoint}${emulator}${proxyNeeded}`, cause: error}),
        retryable: RETRY_CODES.has(code),
        reason: words,
      }
    }
    if (code && BROKEN_WORDS[code]) {
      return {
        error: new MtlsError('UNAVAILABLE', `The connection to ${ex.where} failed: ${BROKEN_WORDS[code]} (${ex.label}).`, {origin: 'transport', hint: `Run the command again. ${hintEndpoint}`, cause: error}),
        retryable: RETRY_CODES.has(code),
        reason: BROKEN_WORDS[code],
      }
    }
    const proxied = error instanceof ProxyRefused ? [error.message, String(error.statusCode)] : undefined
    if (proxied) {
      const p = this.proxyFor(ex.url)
      return {
        error: new MtlsError('UNAVAILABLE', `Cannot reach ${ex.where}: the proxy${p ? ` ${p.proxy}` : ''} answered HTTP ${proxied[1]}${proxied[1] === '407' ? ' (proxy authentication required)' : ''}.`, {
          origin: 'transport',
          hint: `Check ${p ? p.variable : 'the proxy variables'}: proxy credentials go in its URL (http://USER:PASSWORD@HOST:PORT); hosts listed in NO_PROXY bypass it.`,
        }),
        retryable: false,
        reason: `proxy HTTP ${proxied[1]}`,
      }
    }
    if (code && (/CERT|SELF_SIGNED|UNABLE_TO_|HOSTNAME_MISMATCH/.test(code))) {
      return {
        error: new MtlsError('UNAVAILABLE', `Cannot reach ${ex.where} securely: its TLS certificate did not verify (${clip(message, 200)}).`, {
          origin: 'transport',
          hint: 'If a TLS-inspecting proxy or a private endpoint presents its own CA, trust it with NODE_EXTRA_CA_CERTS=CA.pem (PEM; read when mtlsctl starts).',
          cause: error,
        }),
        retryable: false,
        reason: 'certificate',
      }
    }
    if (code?.startsWith('ERR_SSL_') || code === 'EPROTO' || meansNotTls(code, message)) {
      const notTls = meansNotTls(code, message)
      return {
        error: new MtlsError('UNAVAILABLE', `Cannot reach ${ex.where}: the TLS handshake failed (${notTls ? 'the server does not speak TLS on that port' : clip(message, 200)}).`, {
          origin: 'transport',
          hint: notTls && ex.url.protocol === 'https:' ? `Is it an http:// endpoint? ${hintEndpoint}` : hintEndpoint,
          cause: error,
        }),
        retryable: false,
        reason: 'TLS handshake',
      }
    }
    return {
      error: new MtlsError('UNAVAILABLE', `Cannot reach ${ex.where}: ${clip(message || String(code ?? 'unknown error'), 300)} (${ex.label}).`, {origin: 'transport', hint: hintEndpoint, cause: error}),
      retryable: false,
      reason: code ?? 'error',
    }
  }

  /** A non-2xx answer of the API: Google's shape kept, anything else named by its HTTP status. */
  private httpError(ex: Exchange, answer: Answer): MtlsError {
    const google = parseGoogleError(answer.text)
    const source = this.options.credentials.source
    const change = `--access-token-file FILE, MTLSCTL_ACCESS_TOKEN, or \`gcloud auth application-default login\``
    let status: RpcStatus
    let message: string
    if (google) {
      status = isRpcStatus(google.status) ? google.status : statusOfHttp(answer.status)
      message = clip(google.message || `HTTP ${answer.status}`, 2000) + violationLines(google.details)
    } else {
      status = statusOfHttp(answer.status)
      const snippet = bodySnippet(answer)
      message = `HTTP ${answer.status} from ${displayUrl(ex.url)}${snippet ? `: ${snippet}` : ''}`
    }
    let hint: string | undefined
    const billing = /has not been used in project|SERVICE_DISABLED|quota project|user project|USER_PROJECT/i.test(message + JSON.stringify(google?.details ?? ''))
    if (billing) {
      hint = `Name the Google Cloud project to bill with --billing-project PROJECT (sent as x-goog-user-project${this.options.userProject ? `; now ${this.options.userProject}` : ''}), or enable the Apigee API in the project the message names.`
    } else if (answer.status === 401) {
      const again = this.options.credentials.refreshable ? ' (refreshed once; refused again)' : ''
      hint = `The access token came from ${source}${again}: it may have expired or be for another audience. Give credentials with ${change}.`
    } else if (answer.status === 403) {
      hint = `The credentials from ${source} are not allowed this: check the account's Apigee roles on the organization, or give other credentials with ${change}.`
    } else if (!google && (answer.status === 404 || answer.status >= 500)) {
      hint = `The answer is not the Apigee API's: check the endpoint (--api-endpoint; now ${this.shownEndpoint})${this.proxyHint(ex.url)}.`
    }
    return new MtlsError(status, message, {hint, origin: 'api'})
  }

  /** `: SignatureDoesNotMatch: ...` from GCS's XML error, or a clipped body. */
  private uploadReason(text: string): string {
    const google = parseGoogleError(text)
    if (google?.message) return `: ${clip(google.message, 300)}`
    const code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1]
    const message = /<Message>([^<]{1,500})<\/Message>/.exec(text)?.[1]
    if (code || message) return `: ${[code, message].filter(Boolean).join(': ')}`
    return ''
  }

  /** The error without any token sent (or the upload URL's query), whatever it echoed. */
  private scrub(error: unknown, url?: URL, extra: string[] = []): unknown {
    if (!(error instanceof MtlsError)) return error
    const secrets = [...this.secrets]
    for (const value of extra) {
      if (value.length < 4) continue
      secrets.push(value)
      // A signed URL in a body: its query is the credential, wherever it is echoed.
      try {
        const search = new URL(value).search
        if (search.length > 1) secrets.push(search, search.slice(1))
      } catch {
        // Not a URL: the value itself is enough.
      }
    }
    if (url?.search) {
      secrets.push(url.search.slice(1), url.search)
      for (const value of url.searchParams.values()) if (value.length >= 8) secrets.push(value)
    }
    if (url?.username) secrets.push(url.username)
    if (url?.password) secrets.push(url.password)
    const clean = (text: string | undefined) => {
      if (text === undefined) return undefined
      let out = text
      for (const s of secrets.sort((a, b) => b.length - a.length)) if (s) out = out.split(s).join('[REDACTED]')
      return out
    }
    const message = clean(error.message)!
    const hint = clean(error.hint)
    if (message === error.message && hint === error.hint) return error
    return new MtlsError(error.status, message, {hint, cause: error.cause, origin: error.origin})
  }
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)

/** Seconds (or an HTTP date) of a Retry-After header, in ms, capped; undefined when absent or unreadable. */
function retryAfter(header: string | string[] | undefined): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim()
  if (!value) return undefined
  let ms: number
  if (/^\d+$/.test(value)) ms = Number(value) * 1000
  else {
    const at = Date.parse(value)
    if (Number.isNaN(at)) return undefined
    ms = at - Date.now()
  }
  return Math.min(MAX_RETRY_DELAY_MS, Math.max(0, ms))
}

interface GoogleErrorBody {
  code?: number
  message?: string
  status?: string
  details?: unknown
}

function parseGoogleError(text: string): GoogleErrorBody | undefined {
  if (!text.trimStart().startsWith('{')) return undefined
  try {
    const parsed = JSON.parse(text) as {error?: unknown}
    const error = parsed?.error
    if (!error || typeof error !== 'object') return undefined
    const e = error as Record<string, unknown>
    if (typeof e.message !== 'string' && typeof e.status !== 'string') return undefined
    return {
      code: typeof e.code === 'number' ? e.code : undefined,
      message: typeof e.message === 'string' ? e.message : undefined,
      status: typeof e.status === 'string' ? e.status : undefined,
      details: e.details,
    }
  } catch {
    return undefined
  }
}

const MAX_VIOLATIONS = 20

/**
 * `\n  - filename: description` for each violation of the error's details: BadBundle's
 * `{filename, description}`, PreconditionFailure's and QuotaFailure's `{type, subject, description}`,
 * BadRequest's `fieldViolations: {field, description}`.
 */
function violationLines(details: unknown): string {
  if (!Array.isArray(details)) return ''
  const lines: string[] = []
  for (const detail of details) {
    if (!detail || typeof detail !== 'object') continue
    const d = detail as {violations?: unknown; fieldViolations?: unknown}
    for (const list of [d.violations, d.fieldViolations]) {
      if (!Array.isArray(list)) continue
      for (const v of list) {
        if (!v || typeof v !== 'object') continue
        const item = v as Record<string, unknown>
        const where = [item.filename, item.subject, item.field, item.type].find((x) => typeof x === 'string' && x !== '') as string | undefined
        const what = typeof item.description === 'string' ? item.description : ''
        if (!where && !what) continue
        lines.push(`  - ${clip(where ? `${where}: ${what}` : what, 500)}`)
      }
    }
  }
  if (lines.length > MAX_VIOLATIONS) lines.splice(MAX_VIOLATIONS, lines.length, `  ... and ${lines.length - MAX_VIOLATIONS} more`)
  return lines.length ? `\n${lines.join('\n')}` : ''
}

/** The title of an HTML page, or the first words of a text body; never more than a line. */
function bodySnippet(answer: Answer): string {
  const text = answer.text
  if (!text.trim()) return ''
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1]
  if (title) return clip(title, 120)
  if (/^\s*</.test(text)) return clip(text.replace(/<[^>]*>/g, ' '), 120)
  return clip(text, 120)
}
