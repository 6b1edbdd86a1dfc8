/**
 * Google credentials for remote mode (issue 12): an OAuth access token for Apigee's v1 REST
 * API, from the first of these that is configured:
 *
 * 1. `--access-token-file FILE` (its first line);
 * 2. `MTLSCTL_ACCESS_TOKEN`;
 * 3. `CLOUDSDK_AUTH_ACCESS_TOKEN_FILE` (gcloud's auth/access_token_file property as a variable);
 * 4. application default credentials, through google-auth-library: the JSON file named by
 *    GOOGLE_APPLICATION_CREDENTIALS, else gcloud's well-known file
 *    (`$CLOUDSDK_CONFIG` or `~/.config/gcloud`, `%APPDATA%\gcloud` on Windows, then
 *    `application_default_credentials.json`), else the GCE metadata server (see below);
 * 5. `gcloud auth print-access-token`, when gcloud is on PATH.
 *
 * A token is never part of a message: `source` says where it comes from in words, errors name
 * files and variables, and what google-auth-library or gcloud say is clipped and scrubbed of
 * anything that looks like a token or a key before it is quoted (and never kept as a `cause`).
 *
 * The metadata server. google-auth-library's own chain (GoogleAuth.getApplicationDefault)
 * asks gcp-metadata's `getGCPResidency() || isAvailable()`:
 * - residency is true on Cloud Run / Cloud Functions (K_SERVICE, FUNCTION_NAME,
 *   CLOUD_RUN_JOB), on a Linux GCE VM (/sys/class/dmi/id/bios_date exists and bios_vendor says
 *   Google), or with a network interface whose MAC begins 42:01. No network.
 * - isAvailable() follows METADATA_SERVER_DETECTION: `assume-present` → yes, no request;
 *   `none` → no, no request; `bios-only` → the residency above; `ping-only` or unset → a GET
 *   of /computeMetadata/v1/instance. Unset, with GCE_METADATA_IP / GCE_METADATA_HOST unset,
 *   that GET races http://169.254.169.254 and http://metadata.google.internal. with a 3 s
 *   timeout (none at all when resident) and no retry (DETECT_GCP_RETRIES): on a laptop it costs
 *   a DNS query and up to 3 s where 169.254.169.254 is silently dropped. With GCE_METADATA_IP
 *   or GCE_METADATA_HOST (IP first) set, the only host asked is that one, `http://` unless the
 *   value has a scheme.
 * - Every later request (the token: /computeMetadata/v1/instance/service-accounts/default/
 *   token?scopes=...) goes to that same host, with `Metadata-Flavor: Google`, and the answer
 *   must carry `Metadata-Flavor: Google` back.
 * gcp-metadata reads all of these from process.env, at each call.
 *
 * Here, the decision is ours, from `env`, and a laptop never waits on a ping nobody asked for:
 * METADATA_SERVER_DETECTION is honoured as above (an unknown value is an error, as in
 * gcp-metadata); unset, the metadata server is used when residency says Google Cloud, asked
 * (one GET) when GCE_METADATA_HOST / GCE_METADATA_IP point somewhere, and skipped otherwise
 * (`METADATA_SERVER_DETECTION=ping-only` asks 169.254.169.254 anyway). Because gcp-metadata
 * takes the server's address from process.env, a caller passing its own `env` must agree with
 * process.env on those variables before the metadata server is used: findCredentials refuses
 * rather than let the library reach a server `env` did not name.
 */
import {execFile} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import type {AuthClient} from 'google-auth-library'

import {MtlsError, internal, invalidArgument} from '../core/errors.js'
import {describeInput, readInputText} from '../core/input.js'

export interface CredentialOptions {
  /** --access-token-file FILE */
  accessTokenFile?: string
  env?: NodeJS.ProcessEnv
}

export interface Credentials {
  /** Where the token comes from, in words (never the token): `--access-token-file tok.txt`, `MTLSCTL_ACCESS_TOKEN` ... */
  readonly source: string
  /** A current access token; `refresh` forces a new one where the source can make one (after a 401). */
  token(refresh?: boolean): Promise<string>
  /** Whether token(true) can give a different token (ADC, gcloud) or not (a file or a variable). */
  readonly refreshable: boolean
}

/** The scope asked for: Apigee's API takes cloud-platform. */
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform'
/** How long a token printed by gcloud is used before gcloud is asked again (its tokens last 60 minutes). */
export const GCLOUD_TOKEN_TTL_MS = 50 * 60_000
/** How long `gcloud auth print-access-token` may take (it may refresh a token over the network). */
const GCLOUD_TIMEOUT_MS = 60_000

const WAYS = [
  'Give credentials one of these ways (the first one found is used):',
  '  --access-token-file FILE: a file whose first line is an access token;',
  '  MTLSCTL_ACCESS_TOKEN: an access token in the environment;',
  "  CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: a file as --access-token-file (gcloud's auth/access_token_file property as a variable);",
  '  application default credentials: `gcloud auth application-default login`, or GOOGLE_APPLICATION_CREDENTIALS',
  '    naming a service account key file, or the service account of a GCE VM, GKE or Cloud Run;',
  '  `gcloud auth login`: mtlsctl then runs `gcloud auth print-access-token`.',
].join('\n')

/** The first credentials found, in the issue's order; UNAUTHENTICATED naming every way to give them when none. */
export async function findCredentials(options: CredentialOptions = {}): Promise<Credentials> {
  const env = options.env ?? process.env
  if (options.accessTokenFile !== undefined) {
    const file = options.accessTokenFile
    return fixed(`--access-token-file ${file}`, tokenFromFile(file, {what: 'access token', flag: 'access-token-file'}))
  }
  const variable = env.MTLSCTL_ACCESS_TOKEN?.trim()
  if (variable) return fixed('MTLSCTL_ACCESS_TOKEN', checkToken(variable, () => 'MTLSCTL_ACCESS_TOKEN'))
  const tokenFile = env.CLOUDSDK_AUTH_ACCESS_TOKEN_FILE
  if (tokenFile) {
    return fixed(`CLOUDSDK_AUTH_ACCESS_TOKEN_FILE (${tokenFile})`, tokenFromFile(tokenFile, {what: 'CLOUDSDK_AUTH_ACCESS_TOKEN_FILE'}))
  }
  const adc = await applicationDefaultCredentials(env)
  if (adc) return adc
  const gcloud = await gcloudCredentials(env)
  if ('credentials' in gcloud) return gcloud.credentials
  throw new MtlsError(
    'UNAUTHENTICATED',
    `No credentials for the Apigee API: no access token file or variable, no application default credentials${gcloud.why ? `, and ${gcloud.why}` : ', and gcloud is not on PATH'}.`,
    {hint: WAYS},
  )
}

// -- tokens given as they are ------------------------------------------------------------------

function fixed(source: string, token: string): Credentials {
  return {source, refreshable: false, token: async () => token}
}

/** An access token file's first line, trimmed; an empty one is an error naming the file. */
function tokenFromFile(file: string, input: {what: string; flag?: string}): string {
  const text = readInputText(file, {...input, kind: 'token'})
  const token = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0].trim()
  const described = describeInput(file, input)
  const name = `${described[0].toUpperCase()}${described.slice(1)}`
  if (!token) {
    throw invalidArgument(
      `${name} is empty: its first line should be an access token.`,
      `Write one into it, for example: gcloud auth print-access-token > ${file}`,
    )
  }
  return checkToken(token, () => name)
}

/**
 * A token as an HTTP header may carry it: printable ASCII without spaces (RFC 6750's b64token
 * and more). Anything else (a line of a JSON key file, a control character) is refused here,
 * by name and never quoted, rather than sent or echoed by the HTTP client's header check.
 */
function checkToken(token: string, name: () => string): string {
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw invalidArgument(
      `${name()} does not hold an access token: it has spaces or characters a token cannot have.`,
      'An access token is one line such as `gcloud auth print-access-token` prints.',
    )
  }
  return token
}

// -- scrubbing what others say -----------------------------------------------------------------

/**
 * A message from google-auth-library, gaxios or gcloud, fit to quote: the secrets at hand and
 * anything shaped like a token, a JWT, a refresh token or a private key masked, on one line,
 * clipped.
 */
export function scrubMessage(text: string, secrets: readonly string[] = [], max = 240): string {
  let out = text
  for (const secret of [...secrets].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length)) out = out.split(secret).join('***')
  out = out
    .replace(/-----BEGIN[^-]*-----[\s\S]*?(?:-----END[^-]*-----|$)/g, '[private key]')
    .replace(/\bya29\.[\w.~+/=-]*/g, 'ya29.***')
    .replace(/\b1\/\/[\w.~+/=-]+/g, '***')
    .replace(/\beyJ[\w-]*\.[\w-]*(?:\.[\w-]*)?/g, '***')
    .replace(/\b(bearer)\s+[\w.~+/=-]+/gi, '$1 ***')
    .replace(/("(?:access_token|refresh_token|id_token|client_secret|private_key|assertion|token)"\s*:\s*)"[^"]*"?/gi, '$1"***"')
    .replace(/\b((?:access_token|refresh_token|id_token|client_secret|private_key|assertion|token)=)[^\s,&;]+/gi, '$1***')
    .replace(/\b((?:access_token|refresh_token|id_token|client_secret|private_key)\s*:\s*)[^\s,;}]+/gi, '$1***')
    .replace(/[\w.~+=-]{40,}/g, '***')
    .replace(/\s+/g, ' ')
    .trim()
  return out.length > max ? `${out.slice(0, max - 1)}…` : out
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** What google-auth-library or gaxios threw, to quote: the HTTP status when there was one, the message scrubbed. */
function libraryError(error: unknown, secrets: readonly string[]): string {
  const e = error as {status?: unknown; response?: {status?: unknown}} | undefined
  const status = e?.response?.status ?? e?.status
  const text = scrubMessage(errorText(error), secrets, 300).replace(/\.$/, '')
  return typeof status === 'number' ? `HTTP ${status}: ${text}` : text
}

// -- application default credentials -----------------------------------------------------------

/** The credential types of a JSON file mtlsctl hands to google-auth-library. */
const JSON_TYPES = ['service_account', 'authorized_user', 'impersonated_service_account', 'external_account', 'external_account_authorized_user']

async function applicationDefaultCredentials(env: NodeJS.ProcessEnv): Promise<Credentials | undefined> {
  // google-auth-library also takes the variable in lower case.
  const named = env.GOOGLE_APPLICATION_CREDENTIALS || env.google_application_credentials
  if (named) return fromJsonFile(named, 'GOOGLE_APPLICATION_CREDENTIALS')
  const wellKnown = wellKnownFile(env)
  if (wellKnown && fs.existsSync(wellKnown)) return fromJsonFile(wellKnown, 'application default credentials')
  return fromMetadataServer(env)
}

/** gcloud's ADC file, where google-auth-library 10 looks for it (CLOUDSDK_CONFIG first). */
export function wellKnownFile(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string | undefined {
  let dir = env.CLOUDSDK_CONFIG
  if (!dir) {
    if (platform === 'win32') dir = env.APPDATA ? path.join(env.APPDATA, 'gcloud') : undefined
    else dir = env.HOME ? path.join(env.HOME, '.config', 'gcloud') : undefined
  }
  return dir ? path.join(dir, 'application_default_credentials.json') : undefined
}

async function fromJsonFile(file: string, what: string): Promise<Credentials> {
  const name = `The ${what} file ${file}`
  const bad = (why: string) =>
    invalidArgument(
      `${name} ${why}.`,
      what === 'GOOGLE_APPLICATION_CREDENTIALS'
        ? 'Point GOOGLE_APPLICATION_CREDENTIALS at a service account key or an ADC file, or unset it.'
        : 'Run `gcloud auth application-default login` again, or remove the file.',
    )
  const text = readInputText(file, {what, kind: 'document'})
  let json: Record<string, unknown>
  try {
    json = JSON.parse(text)
  } catch {
    // JSON.parse's message quotes the text: never shown.
    throw bad('is not JSON')
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw bad('is not a JSON object')
  const type = json.type
  if (typeof type !== 'string') throw bad(`has no "type" (one of ${JSON_TYPES.join(', ')})`)
  if (!JSON_TYPES.includes(type)) throw bad(`has the type "${scrubMessage(type, [], 60)}", not one of ${JSON_TYPES.join(', ')}`)
  const need = (...fields: string[]) => {
    const missing = fields.filter((f) => typeof json[f] !== 'string' || !json[f])
    if (missing.length > 0) throw bad(`has the type "${type}" but no ${missing.map((f) => `"${f}"`).join(', ')}`)
  }
  let detail: string
  switch (type) {
    case 'service_account':
      need('client_email', 'private_key')
      detail = `service account ${String(json.client_email).slice(0, 254)} from ${file}`
      break
    case 'authorized_user':
      need('client_id', 'client_secret', 'refresh_token')
      detail = `authorized user from ${file}`
      break
    case 'impersonated_service_account': {
      need('service_account_impersonation_url')
      const target = /\/([\w.+-]{1,64}@[\w.-]{1,190}):generateAccessToken$/.exec(String(json.service_account_impersonation_url))?.[1]
      detail = `impersonated service account${target ? ` ${target}` : ''} from ${file}`
      break
    }
    case 'external_account':
      detail = `external account from ${file}`
      break
    default:
      detail = `external authorized user from ${file}`
  }
  const {GoogleAuth} = await import('google-auth-library')
  // The JSON goes to the library as given (its own ADC chain does the same with the file);
  // `credentials` makes GoogleAuth build the one client, with no project or GCE look-ups.
  const make = async (): Promise<AuthClient> => {
    try {
      return (await new GoogleAuth({credentials: json as never, scopes: [CLOUD_PLATFORM_SCOPE]}).getClient()) as AuthClient
    } catch (error) {
      throw bad(`cannot be used: ${libraryError(error, [])}`)
    }
  }
  const hint =
    type === 'authorized_user'
      ? 'Run `gcloud auth application-default login` again, or give credentials another way.'
      : `Check the credentials in ${file}, or give credentials another way.`
  return fromClient(`application default credentials (${detail})`, await make(), make, hint)
}

const DETECTION = ['assume-present', 'none', 'bios-only', 'ping-only']
const METADATA_VARIABLES = ['GCE_METADATA_HOST', 'GCE_METADATA_IP', 'METADATA_SERVER_DETECTION']

async function fromMetadataServer(env: NodeJS.ProcessEnv): Promise<Credentials | undefined> {
  const detection = env.METADATA_SERVER_DETECTION?.trim().toLowerCase() || undefined
  if (detection !== undefined && !DETECTION.includes(detection)) {
    throw invalidArgument(
      `METADATA_SERVER_DETECTION is "${scrubMessage(detection, [], 60)}": it should be one of ${DETECTION.join(', ')}, or unset.`,
    )
  }
  if (detection === 'none') return undefined
  const host = env.GCE_METADATA_IP || env.GCE_METADATA_HOST
  const {gcpMetadata, Compute} = await import('google-auth-library')
  const resident = () => Boolean(env.CLOUD_RUN_JOB || env.FUNCTION_NAME || env.K_SERVICE) || gcpMetadata.isGoogleComputeEngine()
  let ask: 'use' | 'ping' | 'skip'
  if (detection === 'assume-present') ask = 'use'
  else if (detection === 'bios-only') ask = resident() ? 'use' : 'skip'
  else if (detection === 'ping-only') ask = 'ping'
  else ask = resident() ? 'use' : host ? 'ping' : 'skip'
  if (ask === 'skip') return undefined
  if (env !== process.env) {
    const differ = METADATA_VARIABLES.filter((k) => (env[k] || undefined) !== (process.env[k] || undefined))
    if (differ.length > 0) {
      throw internal(`findCredentials: env and process.env differ on ${differ.join(', ')}, which gcp-metadata reads from process.env.`)
    }
  }
  if (ask === 'ping') {
    // isAvailable() keeps its first answer for the process: this question is asked afresh.
    gcpMetadata.resetIsAvailableCache()
    if (!(await gcpMetadata.isAvailable())) return undefined
  }
  const make = async (): Promise<AuthClient> => new Compute({scopes: [CLOUD_PLATFORM_SCOPE]})
  return fromClient(
    `application default credentials (GCE metadata server${host ? ` at ${host}` : ''})`,
    await make(),
    make,
    'Check that the VM, node pool or service has a service account with the cloud-platform scope, or give credentials another way.',
  )
}

/**
 * Credentials from a google-auth-library client. token() asks the client each time: it keeps
 * its token and gets a new one once the token is within eagerRefreshThresholdMillis (5 min)
 * of expiry. token(true) builds the client again, so that nothing it kept is used.
 */
function fromClient(source: string, first: AuthClient, make: () => Promise<AuthClient>, hint: string): Credentials {
  let client = first
  let last: string | undefined
  return {
    source,
    refreshable: true,
    async token(refresh = false) {
      let token: string | null | undefined
      try {
        if (refresh) client = await make()
        token = (await client.getAccessToken()).token
      } catch (error) {
        if (error instanceof MtlsError) throw error
        throw new MtlsError('UNAUTHENTICATED', `No access token from ${source}: ${libraryError(error, last ? [last] : [])}.`, {hint})
      }
      if (!token) throw new MtlsError('UNAUTHENTICATED', `No access token from ${source}: it gave an empty one.`, {hint})
      last = checkToken(token, () => `The token from ${source}`)
      return token
    },
  }
}

// -- gcloud ------------------------------------------------------------------------------------

/** An executable `gcloud` in one of PATH's folders (not on Windows: gcloud.cmd needs a shell). */
export function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  if (process.platform === 'win32') return undefined
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir || !path.isAbsolute(dir)) continue
    const file = path.join(dir, name)
    try {
      fs.accessSync(file, fs.constants.X_OK)
      if (fs.statSync(file).isFile()) return file
    } catch {}
  }
  return undefined
}

type GcloudRun = {token: string} | {why: string}

/** `gcloud auth print-access-token`, no shell, no prompt (stdin closed, CLOUDSDK_CORE_DISABLE_PROMPTS). */
function printAccessToken(gcloud: string, env: NodeJS.ProcessEnv, secrets: readonly string[]): Promise<GcloudRun> {
  return new Promise((resolve) => {
    const child = execFile(
      gcloud,
      ['auth', 'print-access-token'],
      {env: {...env, CLOUDSDK_CORE_DISABLE_PROMPTS: '1'}, timeout: GCLOUD_TIMEOUT_MS, maxBuffer: 1024 * 1024, encoding: 'utf8', windowsHide: true},
      (error, stdout, stderr) => {
        const said = () => {
          const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter(Boolean)
          const line = lines.filter((l) => l.startsWith('ERROR:')).at(-1) ?? lines.at(-1)
          return line ? `: ${scrubMessage(line, [...secrets, stdout.trim()].filter(Boolean)).replace(/\.$/, '')}` : ''
        }
        if (error) {
          const e = error as NodeJS.ErrnoException & {killed?: boolean; signal?: string | null}
          if (typeof e.code === 'string') return resolve({why: `gcloud auth print-access-token failed (${e.code})`})
          if (e.killed || e.signal) return resolve({why: `gcloud auth print-access-token did not finish within ${GCLOUD_TIMEOUT_MS / 1000} s`})
          return resolve({why: `gcloud auth print-access-token failed (exit ${e.code ?? '?'})${said()}`})
        }
        const token = stdout.trim()
        if (!token) return resolve({why: `gcloud auth print-access-token printed no token${said()}`})
        if (!/^[\x21-\x7e]+$/.test(token)) return resolve({why: 'gcloud auth print-access-token printed something other than a token'})
        resolve({token})
      },
    )
    child.stdin?.end()
  })
}

async function gcloudCredentials(env: NodeJS.ProcessEnv): Promise<{credentials: Credentials} | {why?: string}> {
  const gcloud = findOnPath('gcloud', env)
  if (!gcloud) return {}
  const first = await printAccessToken(gcloud, env, [])
  if (!('token' in first)) return {why: first.why}
  let token = first.token
  let at = Date.now()
  let running: Promise<string> | undefined
  const source = 'gcloud auth print-access-token'
  return {
    credentials: {
      source,
      refreshable: true,
      token(refresh = false) {
        if (!refresh && Date.now() - at < GCLOUD_TOKEN_TTL_MS) return Promise.resolve(token)
        running ??= printAccessToken(gcloud, env, [token])
          .then((run) => {
            if (!('token' in run)) {
              throw new MtlsError('UNAUTHENTICATED', `No access token from gcloud: ${run.why}.`, {
                hint: 'Run `gcloud auth login` again, or give credentials another way.',
              })
            }
            token = run.token
            at = Date.now()
            return token
          })
          .finally(() => (running = undefined))
        return running
      },
    },
  }
}
