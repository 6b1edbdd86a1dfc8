import type {Store} from '../core/store/index.js'
import {RemoteApigee} from './apigee.js'
import {ApigeeHttpClient, type RetryInfo} from './client.js'
import {findCredentials, type Credentials} from './credentials.js'

export {RemoteApigee} from './apigee.js'
export {ApigeeHttpClient} from './client.js'
export {findCredentials} from './credentials.js'

export interface RemoteOptions {
  /** The v1 API's base URL (ending in `/`). */
  endpoint: string
  /** The local state store (the CAs that `--ca` issues from). */
  store: Store
  accessTokenFile?: string
  /** x-goog-user-project. */
  userProject?: string
  userAgent: string
  env?: NodeJS.ProcessEnv
  /** Told once, when the credentials are found (the CLI says it at --verbosity info). */
  onCredentials?: (source: string) => void
  onRetry?: (info: RetryInfo) => void
  connectTimeoutMs?: number
  responseTimeoutMs?: number
}

/**
 * Credentials looked for on the first request, not before: a command that fails on its input
 * never asks gcloud or the metadata server for a token.
 */
class LazyCredentials implements Credentials {
  private found?: Promise<Credentials>

  constructor(private readonly options: RemoteOptions) {}

  private get credentials(): Promise<Credentials> {
    this.found ??= findCredentials({accessTokenFile: this.options.accessTokenFile, env: this.options.env}).then((c) => {
      this.options.onCredentials?.(c.source)
      this.resolved = c
      return c
    })
    return this.found
  }

  private resolved?: Credentials

  get source(): string {
    return this.resolved?.source ?? 'no credentials yet'
  }

  get refreshable(): boolean {
    return this.resolved?.refreshable ?? false
  }

  async token(refresh?: boolean): Promise<string> {
    return (await this.credentials).token(refresh)
  }
}

/** The Apigee v1 REST API at `endpoint` as an `ApigeeApi`. */
export function openRemote(options: RemoteOptions): RemoteApigee {
  const env = options.env ?? process.env
  const client = new ApigeeHttpClient({
    endpoint: options.endpoint,
    credentials: new LazyCredentials(options),
    userProject: options.userProject ?? (env.GOOGLE_CLOUD_QUOTA_PROJECT || undefined),
    userAgent: options.userAgent,
    onRetry: options.onRetry,
    ...(options.connectTimeoutMs ? {connectTimeoutMs: options.connectTimeoutMs} : {}),
    ...(options.responseTimeoutMs ? {responseTimeoutMs: options.responseTimeoutMs} : {}),
  })
  return new RemoteApigee(client, options.store)
}
