/**
 * The HTTP client of remote mode (issue 12): Apigee's v1 REST API over undici. STUB: the
 * interface is fixed; keep-alive, timeouts, retries, proxies and error mapping are being written.
 */
import {MtlsError} from '../core/errors.js'
import type {Credentials} from './credentials.js'

export interface HttpClientOptions {
  /** Base URL before `v1/`: `https://apigee.googleapis.com/`, `http://127.0.0.1:8080/`. */
  endpoint: string
  credentials: Credentials
  /** `x-goog-user-project` (--billing-project, GOOGLE_CLOUD_QUOTA_PROJECT). */
  userProject?: string
  /** `mtlsctl/VERSION`. */
  userAgent?: string
  connectTimeoutMs?: number
  responseTimeoutMs?: number
  /** Retries of an idempotent request (429, 502, 503, 504, connection reset). */
  retries?: number
  /** First backoff; each next one doubles, with full jitter, capped. */
  retryBaseMs?: number
  /** Told of each retry before it sleeps (the CLI prints it at --verbosity info). */
  onRetry?: (info: RetryInfo) => void
}

export interface RetryInfo {
  method: string
  path: string
  attempt: number
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
}

export class ApigeeHttpClient {
  constructor(readonly options: HttpClientOptions) {}

  /** The base URL, for messages. */
  get endpoint(): string {
    return this.options.endpoint
  }

  async call<T>(call: ApiCall): Promise<T> {
    const url = new URL(`v1/${call.path}`, this.options.endpoint)
    for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) url.searchParams.set(k, v)
    const headers: Record<string, string> = {authorization: `Bearer ${await this.options.credentials.token()}`}
    let body: string | FormData | undefined
    if (call.json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(call.json)
    } else if (call.form) {
      const form = new FormData()
      for (const part of call.form) {
        if (typeof part.value === 'string' && part.filename === undefined) form.append(part.name, part.value)
        else form.append(part.name, new Blob([typeof part.value === 'string' ? part.value : new Uint8Array(part.value)], {type: part.contentType ?? 'application/octet-stream'}), part.filename ?? part.name)
      }
      body = form
    }
    const res = await fetch(url, {method: call.method, headers, body})
    const text = await res.text()
    if (!res.ok) {
      let message = text
      let status = 'UNKNOWN'
      try {
        const parsed = JSON.parse(text) as {error: {message: string; status: string}}
        message = parsed.error.message
        status = parsed.error.status
      } catch {
        // not Google's shape
      }
      throw new MtlsError(status as never, message)
    }
    return (call.accept === 'text' ? text : text === '' ? {} : JSON.parse(text)) as T
  }

  /** The PUT of an archive to an upload URL: no Authorization header, GCS's headers. */
  async uploadArchive(uploadUri: string, zip: Buffer): Promise<void> {
    const res = await fetch(uploadUri, {
      method: 'PUT',
      headers: {'content-type': 'application/zip', 'x-goog-content-length-range': '0,1073741824'},
      body: new Uint8Array(zip),
    })
    await res.text()
    if (!res.ok) throw new MtlsError('UNKNOWN', `Upload failed: HTTP ${res.status}`)
  }

  async close(): Promise<void> {}
}
