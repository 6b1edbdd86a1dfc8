import * as Flags from '@oclif/core/flags'

import {checkEndpoint, type Config} from '../core/config.js'
import {UsageError} from './usage-error.js'

/**
 * Which Apigee API a resource command talks to: the embedded engine (the default), or a v1
 * REST endpoint (a real organization, or `mtlsctl emulator start`).
 */
export type Backend = {kind: 'local'} | {kind: 'remote'; endpoint: string; from: string}

/** The flags that choose the backend and its credentials (on every resource command). */
export const apiFlags = {
  'api-endpoint': Flags.string({
    description: 'Apigee v1 API to use instead of the local engine (`local` forces the engine). Defaults to MTLSCTL_API_ENDPOINT, the config property `api_endpoint`, CLOUDSDK_API_ENDPOINT_OVERRIDES_APIGEE.',
    helpValue: 'URL',
    helpGroup: 'API',
  }),
  location: Flags.string({
    description: 'Data-residency region: the API at https://REGION-apigee.googleapis.com/ (property `location`).',
    helpValue: 'REGION',
    helpGroup: 'API',
  }),
  'access-token-file': Flags.string({
    description: 'File holding an OAuth access token for the API (else MTLSCTL_ACCESS_TOKEN, CLOUDSDK_AUTH_ACCESS_TOKEN_FILE, application default credentials, gcloud).',
    helpValue: 'FILE',
    helpGroup: 'API',
  }),
  'billing-project': Flags.string({
    description: 'Project billed for the API calls, sent as x-goog-user-project (else GOOGLE_CLOUD_QUOTA_PROJECT, property `billing_project`).',
    helpValue: 'PROJECT',
    helpGroup: 'API',
  }),
}

const GOOGLE = 'https://apigee.googleapis.com/'

type Resolve = (name: 'api_endpoint' | 'location', flag: string | undefined) => {value: string; source: 'flag' | 'env' | 'config'} | undefined

const SOURCE_WORDS = {flag: '--api-endpoint', env: 'MTLSCTL_API_ENDPOINT', config: 'config property api_endpoint'} as const

/**
 * The backend, first found wins: --api-endpoint, MTLSCTL_API_ENDPOINT, CLOUDSDK_API_ENDPOINT_OVERRIDES_APIGEE
 * (a shell set up for gcloud), the config property; --location (or its property) turns
 * Google's global endpoint (or none) into the region's. None of these: the local engine.
 */
export function chooseBackend(resolve: Resolve, flags: {'api-endpoint'?: string; location?: string}, env: NodeJS.ProcessEnv = process.env): Backend {
  const set = resolve('api_endpoint', flags['api-endpoint'])
  const gcloud = env.CLOUDSDK_API_ENDPOINT_OVERRIDES_APIGEE
  let endpoint: string | undefined
  let from = ''
  const check = (value: string, where: string) => {
    try {
      return checkEndpoint(value)
    } catch (error) {
      throw new UsageError(`${(error as Error).message.replace(/\.$/, '')} (from ${where}).`)
    }
  }
  if (set && set.source !== 'config') {
    endpoint = check(set.value, SOURCE_WORDS[set.source])
    from = SOURCE_WORDS[set.source]
  } else if (gcloud) {
    endpoint = check(gcloud, 'CLOUDSDK_API_ENDPOINT_OVERRIDES_APIGEE')
    from = 'CLOUDSDK_API_ENDPOINT_OVERRIDES_APIGEE'
  } else if (set) {
    endpoint = check(set.value, SOURCE_WORDS.config)
    from = SOURCE_WORDS.config
  }
  if (endpoint === 'local') return {kind: 'local'}
  const location = resolve('location', flags.location)
  if (location && (endpoint === undefined || endpoint === GOOGLE)) {
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(location.value)) throw new UsageError(`Invalid --location "${location.value}": a region such as europe-west1.`)
    return {kind: 'remote', endpoint: `https://${location.value}-apigee.googleapis.com/`, from: location.source === 'flag' ? '--location' : location.source === 'env' ? 'MTLSCTL_LOCATION' : 'config property location'}
  }
  return endpoint === undefined ? {kind: 'local'} : {kind: 'remote', endpoint, from}
}

/** The resolver of `chooseBackend` over the CLI's flag → env → config precedence. */
export function configResolver(settings: Config): Resolve {
  return (name, flag) => {
    if (flag !== undefined && flag !== '') return {value: flag, source: 'flag'}
    return settings.resolve(name)
  }
}
