import {execFileSync, spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type {AddressInfo} from 'node:net'
import * as path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import type {MtlsError} from '../../src/core/errors.js'
import {findCredentials, findOnPath, scrubMessage} from '../../src/remote/credentials.js'
import {rmTemp, tempDir} from '../helpers/cli.js'
import {refusal} from '../helpers/errors.js'

/**
 * The credentials chain against real peers: files, variables, a metadata server stand-in on
 * 127.0.0.1 (google-auth-library's Compute client and gcp-metadata, unmocked) and the real
 * gcloud. Nothing here sends a packet beyond loopback: every test sets
 * METADATA_SERVER_DETECTION=none or points GCE_METADATA_HOST at the stand-in; no test asks a
 * service account or authorized user file for a token (that would call oauth2.googleapis.com);
 * gcloud runs with its own CLOUDSDK_CONFIG whose `gce` cache already says False (else gcloud
 * resolves metadata.google.internal to learn whether it runs on GCE).
 */

let dir: string
let home: string
/** A PATH with no gcloud (gcloud is in /usr/bin here, and /bin may be the same folder). */
let noGcloud: string
beforeEach(() => {
  dir = tempDir('mtlsctl-creds-')
  home = path.join(dir, 'home')
  noGcloud = path.join(dir, 'empty-bin')
  fs.mkdirSync(home)
  fs.mkdirSync(noGcloud)
})
afterEach(() => rmTemp(dir))

/** An environment with nothing configured: an empty HOME, no gcloud, no metadata server. */
function bare(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {HOME: home, PATH: noGcloud, METADATA_SERVER_DETECTION: 'none', ...extra}
}

function write(name: string, text: string): string {
  const file = path.join(dir, name)
  fs.mkdirSync(path.dirname(file), {recursive: true})
  fs.writeFileSync(file, text)
  return file
}

/** Every word an error shows the user. */
const shown = (e: MtlsError) => `${e.message}\n${e.hint ?? ''}`

describe('tokens given as they are', () => {
  it('--access-token-file: its first line, trimmed; not refreshable', async () => {
    const file = write('tok.txt', '  ya29.from-the-file \r\nsecond line\n')
    const creds = await findCredentials({accessTokenFile: file, env: bare()})
    expect(creds.source).toBe(`--access-token-file ${file}`)
    expect(creds.refreshable).toBe(false)
    expect(await creds.token()).toBe('ya29.from-the-file')
    expect(await creds.token(true)).toBe('ya29.from-the-file')
  })

  it('an empty --access-token-file, or one whose first line is blank, is an error naming the file and the flag', async () => {
    for (const text of ['', '\n', '   \nya29.second-line\n']) {
      const file = write('empty.txt', text)
      const e = await refusal(findCredentials({accessTokenFile: file, env: bare()}), 'INVALID_ARGUMENT')
      expect(e.message).toContain(file)
      expect(e.message).toContain('--access-token-file')
      expect(e.message).toContain('empty')
      expect(shown(e)).not.toContain('ya29.second-line')
    }
  })

  it('a missing --access-token-file is an error naming the file and the flag', async () => {
    const file = path.join(dir, 'nowhere.txt')
    const e = await refusal(findCredentials({accessTokenFile: file, env: bare()}), 'INVALID_ARGUMENT')
    expect(e.message).toBe(`Cannot read the access token file ${file} (--access-token-file): no such file.`)
  })

  it('a first line that cannot be a token (spaces, control characters) is refused without being quoted', async () => {
    const file = write('two-words.txt', 'ya29.half-a-token and-more\n')
    const e = await refusal(findCredentials({accessTokenFile: file, env: bare()}), 'INVALID_ARGUMENT')
    expect(e.message).toContain(file)
    expect(shown(e)).not.toContain('ya29.half')
    const variable = await refusal(findCredentials({env: bare({MTLSCTL_ACCESS_TOKEN: 'ya29.abc\u0007def'})}), 'INVALID_ARGUMENT')
    expect(variable.message).toContain('MTLSCTL_ACCESS_TOKEN')
    expect(shown(variable)).not.toContain('ya29.abc')
  })

  it('MTLSCTL_ACCESS_TOKEN', async () => {
    const creds = await findCredentials({env: bare({MTLSCTL_ACCESS_TOKEN: ' ya29.from-the-variable\n'})})
    expect(creds.source).toBe('MTLSCTL_ACCESS_TOKEN')
    expect(creds.refreshable).toBe(false)
    expect(await creds.token(true)).toBe('ya29.from-the-variable')
  })

  it("CLOUDSDK_AUTH_ACCESS_TOKEN_FILE (gcloud's property as a variable), and a missing one named", async () => {
    const file = write('gcloud-tok.txt', 'ya29.from-cloudsdk\n')
    const creds = await findCredentials({env: bare({CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: file})})
    expect(creds.source).toBe(`CLOUDSDK_AUTH_ACCESS_TOKEN_FILE (${file})`)
    expect(creds.refreshable).toBe(false)
    expect(await creds.token()).toBe('ya29.from-cloudsdk')
    const missing = path.join(dir, 'gone.txt')
    const e = await refusal(findCredentials({env: bare({CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: missing})}), 'INVALID_ARGUMENT')
    expect(e.message).toBe(`Cannot read the CLOUDSDK_AUTH_ACCESS_TOKEN_FILE file ${missing}: no such file.`)
  })

  it('the first found wins: the flag, MTLSCTL_ACCESS_TOKEN, CLOUDSDK_AUTH_ACCESS_TOKEN_FILE, then ADC', async () => {
    const flag = write('flag.txt', 'ya29.flag\n')
    const cloudsdk = write('cloudsdk.txt', 'ya29.cloudsdk\n')
    // A GOOGLE_APPLICATION_CREDENTIALS that fails when read: reached only when nothing before it is set.
    const adc = write('adc.json', 'not json')
    const all = bare({MTLSCTL_ACCESS_TOKEN: 'ya29.variable', CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: cloudsdk, GOOGLE_APPLICATION_CREDENTIALS: adc})
    expect(await (await findCredentials({accessTokenFile: flag, env: all})).token()).toBe('ya29.flag')
    expect(await (await findCredentials({env: all})).token()).toBe('ya29.variable')
    const {MTLSCTL_ACCESS_TOKEN: _, ...noVariable} = all
    expect(await (await findCredentials({env: noVariable})).token()).toBe('ya29.cloudsdk')
    const {CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: __, ...adcOnly} = noVariable
    const e = await refusal(findCredentials({env: adcOnly}), 'INVALID_ARGUMENT')
    expect(e.message).toContain(adc)
  })
})

describe('application default credentials from a file (no token is asked: that would reach oauth2.googleapis.com)', () => {
  const serviceAccount = {
    type: 'service_account',
    project_id: 'p',
    private_key_id: 'k1',
    private_key: '-----BEGIN PRIVATE KEY-----\nMIIEnotarealkey\n-----END PRIVATE KEY-----\n',
    client_email: 'sa@p.iam.gserviceaccount.com',
    client_id: '1',
  }
  const authorizedUser = {type: 'authorized_user', client_id: 'id.apps.googleusercontent.com', client_secret: 'shh-secret', refresh_token: '1//refresh-secret', quota_project_id: 'q'}

  it('GOOGLE_APPLICATION_CREDENTIALS naming a service account key: the account in the source', async () => {
    const file = write('sa.json', JSON.stringify(serviceAccount))
    const creds = await findCredentials({env: bare({GOOGLE_APPLICATION_CREDENTIALS: file})})
    expect(creds.source).toBe(`application default credentials (service account sa@p.iam.gserviceaccount.com from ${file})`)
    expect(creds.refreshable).toBe(true)
  })

  it("gcloud's well-known file: CLOUDSDK_CONFIG first (as google-auth-library 10 does), else HOME/.config/gcloud; GOOGLE_APPLICATION_CREDENTIALS before both", async () => {
    const inHome = write('home/.config/gcloud/application_default_credentials.json', JSON.stringify(authorizedUser))
    expect((await findCredentials({env: bare()})).source).toBe(`application default credentials (authorized user from ${inHome})`)
    const config = path.join(dir, 'cloudsdk')
    const inConfig = write('cloudsdk/application_default_credentials.json', JSON.stringify(authorizedUser))
    expect((await findCredentials({env: bare({CLOUDSDK_CONFIG: config})})).source).toBe(`application default credentials (authorized user from ${inConfig})`)
    const sa = write('sa.json', JSON.stringify(serviceAccount))
    expect((await findCredentials({env: bare({CLOUDSDK_CONFIG: config, GOOGLE_APPLICATION_CREDENTIALS: sa})})).source).toContain('service account sa@p.iam.gserviceaccount.com')
  })

  it('a file that is not JSON, not an object, of no known type or without its fields: INVALID_ARGUMENT naming it, never quoting it', async () => {
    const types = 'service_account, authorized_user, impersonated_service_account, external_account, external_account_authorized_user'
    const cases: [string, string][] = [
      ['{"type": "authorized_user", "refresh_token": "1//leaky-refresh-token"', 'is not JSON'],
      ['ya29.a-token-pasted-here', 'is not JSON'],
      ['["ya29.in-an-array"]', 'is not a JSON object'],
      ['{"refresh_token": "1//no-type-here"}', `has no "type" (one of ${types})`],
      ['{"type": "api_key", "key": "ya29.unknown-type"}', `has the type "api_key", not one of ${types}`],
      [JSON.stringify({...authorizedUser, refresh_token: undefined}), 'has the type "authorized_user" but no "refresh_token"'],
      [JSON.stringify({...serviceAccount, client_email: ''}), 'has the type "service_account" but no "client_email"'],
    ]
    for (const [text, why] of cases) {
      const file = write('bad.json', text)
      const e = await refusal(findCredentials({env: bare({GOOGLE_APPLICATION_CREDENTIALS: file})}), 'INVALID_ARGUMENT')
      expect(e.message).toBe(`The GOOGLE_APPLICATION_CREDENTIALS file ${file} ${why}.`)
      expect(shown(e)).not.toMatch(/ya29|1\/\/|shh-secret|PRIVATE KEY/)
    }
    const missing = path.join(dir, 'missing.json')
    const gone = await refusal(findCredentials({env: bare({GOOGLE_APPLICATION_CREDENTIALS: missing})}), 'INVALID_ARGUMENT')
    expect(gone.message).toBe(`Cannot read the GOOGLE_APPLICATION_CREDENTIALS file ${missing}: no such file.`)
    const broken = write('home/.config/gcloud/application_default_credentials.json', '{')
    const wellKnown = await refusal(findCredentials({env: bare()}), 'INVALID_ARGUMENT')
    expect(wellKnown.message).toBe(`The application default credentials file ${broken} is not JSON.`)
    expect(wellKnown.hint).toContain('gcloud auth application-default login')
  })
})

/** Whether this machine is on Google Cloud (gcp-metadata's residency): there, the metadata server is used unasked. */
const onGoogleCloud = (await import('google-auth-library')).gcpMetadata.getGCPResidency()

/** A metadata server on 127.0.0.1 answering as GCE's does, counting what it is asked. */
interface StandIn {
  host: string
  requests: string[]
  tokenRequests(): number
  /** The next token answers. */
  answer: {status: number; expiresIn: number; body?: string}
  close(): Promise<void>
}

async function metadataStandIn(): Promise<StandIn> {
  const requests: string[] = []
  let issued = 0
  const answer: StandIn['answer'] = {status: 200, expiresIn: 3599}
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '')
    if (req.headers['metadata-flavor'] !== 'Google') {
      res.writeHead(403, {'content-type': 'text/plain'})
      return res.end('Missing Metadata-Flavor:Google header.')
    }
    const url = new URL(req.url ?? '/', 'http://metadata')
    const reply = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, {'Metadata-Flavor': 'Google', 'content-type': type})
      res.end(body)
    }
    if (url.pathname === '/computeMetadata/v1/instance') return reply(200, 'attributes/\nservice-accounts/\n', 'application/text')
    if (url.pathname === '/computeMetadata/v1/instance/service-accounts/default/token') {
      if (url.searchParams.get('scopes') !== 'https://www.googleapis.com/auth/cloud-platform') return reply(400, 'wrong scopes', 'text/plain')
      if (answer.status !== 200) return reply(answer.status, answer.body ?? 'denied', 'text/plain')
      issued += 1
      return reply(200, JSON.stringify({access_token: `ya29.metadata-${issued}`, expires_in: answer.expiresIn, token_type: 'Bearer'}))
    }
    reply(404, 'not found', 'text/plain')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    host: `127.0.0.1:${port}`,
    requests,
    answer,
    tokenRequests: () => requests.filter((r) => r.includes('/token')).length,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

describe('application default credentials from the metadata server (a stand-in on 127.0.0.1)', () => {
  // gcp-metadata reads the server's address from process.env: it is set there, to the stand-in,
  // for every test of this block (a safety net too: a bug could only reach loopback), and given
  // in `env` as well where the test means the metadata server to be used.
  const saved: Record<string, string | undefined> = {}
  const touched = ['GCE_METADATA_HOST', 'GCE_METADATA_IP', 'METADATA_SERVER_DETECTION', 'HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']
  let standIn: StandIn
  beforeEach(async () => {
    standIn = await metadataStandIn()
    for (const k of touched) {
      saved[k] = process.env[k]
      delete process.env[k]
    }
    process.env.GCE_METADATA_HOST = standIn.host
  })
  afterEach(async () => {
    for (const k of touched) {
      if (saved[k] === undefined) delete process.env[k]
      else process.env[k] = saved[k]
    }
    await standIn.close()
  })

  const metadata = (detection?: string) => {
    const env = bare({GCE_METADATA_HOST: standIn.host})
    if (detection) {
      env.METADATA_SERVER_DETECTION = detection
      process.env.METADATA_SERVER_DETECTION = detection
    } else delete env.METADATA_SERVER_DETECTION
    return env
  }

  it('assume-present: no ping, the token from the stand-in, kept while fresh; token(true) asks again', async () => {
    const creds = await findCredentials({env: metadata('assume-present')})
    expect(creds.source).toBe(`application default credentials (GCE metadata server at ${standIn.host})`)
    expect(creds.refreshable).toBe(true)
    expect(standIn.requests).toEqual([])
    expect(await creds.token()).toBe('ya29.metadata-1')
    expect(await creds.token()).toBe('ya29.metadata-1')
    expect(standIn.tokenRequests()).toBe(1)
    expect(await creds.token(true)).toBe('ya29.metadata-2')
    expect(standIn.tokenRequests()).toBe(2)
    expect(await creds.token()).toBe('ya29.metadata-2')
    expect(standIn.tokenRequests()).toBe(2)
  })

  it('a token inside the 5-minute eager refresh window (expires_in 60) is fetched again by each token()', async () => {
    standIn.answer.expiresIn = 60
    const creds = await findCredentials({env: metadata('assume-present')})
    expect(await creds.token()).toBe('ya29.metadata-1')
    expect(await creds.token()).toBe('ya29.metadata-2')
    expect(await creds.token()).toBe('ya29.metadata-3')
    expect(standIn.tokenRequests()).toBe(3)
  })

  it.skipIf(onGoogleCloud)('detection unset and GCE_METADATA_HOST set: one GET of /computeMetadata/v1/instance decides', async () => {
    const creds = await findCredentials({env: metadata()})
    expect(standIn.requests).toEqual(['/computeMetadata/v1/instance'])
    expect(creds.source).toBe(`application default credentials (GCE metadata server at ${standIn.host})`)
    expect(await creds.token()).toBe('ya29.metadata-1')
  })

  it('METADATA_SERVER_DETECTION=none: the metadata server is never asked, even with GCE_METADATA_HOST set', async () => {
    const e = await refusal(findCredentials({env: metadata('none')}), 'UNAUTHENTICATED')
    expect(e.message).toContain('gcloud is not on PATH')
    expect(standIn.requests).toEqual([])
  })

  it.skipIf(onGoogleCloud)('detection and GCE_METADATA_HOST unset, not on Google Cloud: no request at all (no 3 s ping of 169.254.169.254)', async () => {
    const env = bare()
    delete env.METADATA_SERVER_DETECTION
    // process.env still names the stand-in: had the chain asked the library, it would have come here.
    await refusal(findCredentials({env}), 'UNAUTHENTICATED')
    expect(standIn.requests).toEqual([])
  })

  it('an env naming another metadata server than process.env is refused before any request', async () => {
    const env = {...metadata('assume-present'), GCE_METADATA_HOST: '127.0.0.1:9'}
    const e = await refusal(findCredentials({env}), 'INTERNAL')
    expect(e.message).toContain('GCE_METADATA_HOST')
    expect(standIn.requests).toEqual([])
  })

  it('an unknown METADATA_SERVER_DETECTION is an error, as in gcp-metadata', async () => {
    const e = await refusal(findCredentials({env: bare({METADATA_SERVER_DETECTION: 'sometimes'})}), 'INVALID_ARGUMENT')
    expect(e.message).toContain('assume-present, none, bios-only, ping-only')
  })

  it('a refusal whose body carries tokens: UNAUTHENTICATED with the status, no token in any word', async () => {
    const creds = await findCredentials({env: metadata('assume-present')})
    const held = await creds.token()
    standIn.answer.status = 403
    standIn.answer.body = `denied for ${held}; also ya29.another-one, {"access_token": "plain-secret-value"} Bearer bearer-secret`
    const e = await refusal(creds.token(true), 'UNAUTHENTICATED')
    expect(e.message).toContain(`No access token from application default credentials (GCE metadata server at ${standIn.host}): HTTP 403`)
    for (const secret of [held, 'ya29.another-one', 'plain-secret-value', 'bearer-secret']) expect(shown(e)).not.toContain(secret)
    expect(e.cause).toBeUndefined()
  })
})

describe('gcloud auth print-access-token (the real gcloud)', () => {
  const gcloud = findOnPath('gcloud', process.env)
  const strace = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', 'true']).status === 0
  let config: string

  /** A CLOUDSDK_CONFIG of the test's own, its GCE check already answered (else gcloud resolves metadata.google.internal). */
  function gcloudConfig(tokenFile?: string): string {
    config = path.join(dir, 'cloudsdk')
    fs.mkdirSync(config, {recursive: true})
    fs.writeFileSync(path.join(config, 'gce'), 'False')
    if (tokenFile) {
      execFileSync(gcloud!, ['config', 'set', 'auth/access_token_file', tokenFile], {
        env: {PATH: process.env.PATH, HOME: home, CLOUDSDK_CONFIG: config, CLOUDSDK_CORE_DISABLE_PROMPTS: '1'},
        stdio: 'pipe',
      })
    }
    return config
  }
  const env = (extra: Record<string, string> = {}) => ({CLOUDSDK_CONFIG: config, PATH: process.env.PATH, HOME: home, METADATA_SERVER_DETECTION: 'none', ...extra})

  it.skipIf(!gcloud)('with auth/access_token_file set: gcloud is the source, its token kept ~50 min, token(true) runs gcloud again', async () => {
    const file = write('gcloud-token.txt', 'ya29.gcloud-first\n')
    gcloudConfig(file)
    const creds = await findCredentials({env: env()})
    expect(creds.source).toBe('gcloud auth print-access-token')
    expect(creds.refreshable).toBe(true)
    expect(await creds.token()).toBe('ya29.gcloud-first')
    fs.writeFileSync(file, 'ya29.gcloud-second\n')
    expect(await creds.token()).toBe('ya29.gcloud-first')
    expect(await creds.token(true)).toBe('ya29.gcloud-second')
    // An empty file now: gcloud fails, and the error quotes gcloud's words, not the token held.
    fs.writeFileSync(file, '')
    const e = await refusal(creds.token(true), 'UNAUTHENTICATED')
    expect(e.message).toContain('gcloud auth print-access-token failed (exit 1): ERROR: (gcloud.auth.print-access-token)')
    expect(shown(e)).not.toContain('ya29.gcloud')
  }, 60_000)

  it.skipIf(!gcloud || !strace)('gcloud printing the file token makes no network call (strace: no AF_INET/AF_INET6 connect)', async () => {
    const file = write('gcloud-token.txt', 'ya29.gcloud-traced\n')
    gcloudConfig(file)
    const bin = path.join(dir, 'traced-bin')
    const log = path.join(dir, 'strace.log')
    fs.mkdirSync(bin)
    fs.writeFileSync(path.join(bin, 'gcloud'), `#!/bin/sh\nexec strace -f -qq -e trace=connect,sendto -o '${log}' '${gcloud}' "$@"\n`, {mode: 0o755})
    const creds = await findCredentials({env: env({PATH: `${bin}${path.delimiter}${process.env.PATH}`})})
    expect(await creds.token()).toBe('ya29.gcloud-traced')
    const trace = fs.readFileSync(log, 'utf8')
    expect(trace.split('\n').filter((l) => /AF_INET6?\b/.test(l))).toEqual([])
  }, 60_000)

  it.skipIf(!gcloud)('gcloud without an account: no credentials from gcloud (not a crash), and why in the error', async () => {
    gcloudConfig()
    const e = await refusal(findCredentials({env: env()}), 'UNAUTHENTICATED')
    expect(e.message).toContain('gcloud auth print-access-token failed (exit 1): ERROR: (gcloud.auth.print-access-token) You do not currently have an active account selected')
    expect(e.hint).toContain('gcloud auth login')
  }, 60_000)
})

describe('no credentials', () => {
  it('nothing configured: UNAUTHENTICATED naming every way, with nothing run and nothing asked', async () => {
    const env = bare()
    // By construction nothing can wait: no gcloud to run, and the metadata server is ruled out
    // before google-auth-library is even imported.
    expect(findOnPath('gcloud', env)).toBeUndefined()
    const e = await refusal(findCredentials({env}), 'UNAUTHENTICATED')
    expect(e.message).toBe(
      'No credentials for the Apigee API: no access token file or variable, no application default credentials, and gcloud is not on PATH.',
    )
    for (const way of ['--access-token-file', 'MTLSCTL_ACCESS_TOKEN', 'CLOUDSDK_AUTH_ACCESS_TOKEN_FILE', 'gcloud auth application-default login', 'GOOGLE_APPLICATION_CREDENTIALS', 'gcloud auth login']) {
      expect(e.hint).toContain(way)
    }
  })
})

describe('scrubMessage', () => {
  it('masks tokens, keys and secrets at hand, on one clipped line', () => {
    expect(scrubMessage('got ya29.a0AfH6SMB-xyz_1 back')).toBe('got ya29.*** back')
    expect(scrubMessage('Authorization: Bearer abc.def-ghi')).toBe('Authorization: Bearer ***')
    expect(scrubMessage('{"access_token":"opaque","token_type":"Bearer"}')).toBe('{"access_token":"***","token_type":"Bearer"}')
    expect(scrubMessage('refresh_token=1//0gabc&client_secret=s3cr3t')).toBe('refresh_token=***&client_secret=***')
    expect(scrubMessage('key -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY----- end')).toBe('key [private key] end')
    expect(scrubMessage('jwt eyJhbGciOi.eyJzdWIi.sig here')).toBe('jwt *** here')
    expect(scrubMessage(`opaque ${'A'.repeat(50)} run`)).toBe('opaque *** run')
    expect(scrubMessage('it was hunter2-token, see', ['hunter2-token'])).toBe('it was ***, see')
    expect(scrubMessage('Could not refresh access token: Request failed with status code 403')).toBe(
      'Could not refresh access token: Request failed with status code 403',
    )
    expect(scrubMessage('word '.repeat(100), [], 20)).toBe(`${'word '.repeat(3)}word…`)
  })
})
