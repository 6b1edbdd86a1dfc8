import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {createEnvironment} from '../../src/core/environments.js'
import {createKeystore} from '../../src/core/keystores.js'
import {openStore} from '../../src/core/store/index.js'
import {startEmulator, type RunningEmulator} from '../helpers/api.js'
import {rmTemp, runCli, tempDir} from '../helpers/cli.js'
import {startFaultProxy, type FaultProxy} from '../helpers/faults.js'
import {TtySession, ttyUnavailable} from '../helpers/tty.js'

/**
 * Remote mode on a real terminal (a tmux pane, test/helpers/tty.ts): `aliases add` without
 * --keystore offers the environment's keystores as the API lists them, the arrow keys pick
 * one, and the alias (issued by a CA in the client's own state folder) lands there; Ctrl-C at
 * that prompt exits 130 and sends nothing that creates. The emulator (bearer token required)
 * sits behind the loopback fault proxy, which records every request.
 *
 * Nothing leaves loopback: the proxy variables are emptied for the CLI, the metadata server is
 * never probed, the token comes from MTLSCTL_ACCESS_TOKEN.
 */
const TOKEN = 'tty-token-51b0c2e8f3'
const ORG = 'myorg'
const ENV = 'dev'
const KEYSTORES = ['aaa', 'bbb', 'ccc']
const ALIASES_PATH = (ks: string) => `/v1/organizations/${ORG}/environments/${ENV}/keystores/${ks}/aliases`

let dir: string
let serverHome: string
let clientHome: string
let emulator: RunningEmulator | undefined
let proxy: FaultProxy | undefined
const sessions: TtySession[] = []

const unavailable = ttyUnavailable()
if (unavailable) console.warn(`Skipping the remote terminal tests: ${unavailable}.`)
const onTerminal = describe.skipIf(unavailable !== undefined)

/** Remote mode's environment (exported by the pane's shell: emptied, not unset, where it matters). */
function remoteEnv(): Record<string, string> {
  return {
    HTTP_PROXY: '',
    HTTPS_PROXY: '',
    http_proxy: '',
    https_proxy: '',
    ALL_PROXY: '',
    all_proxy: '',
    CLOUDSDK_API_ENDPOINT_OVERRIDES_APIGEE: '',
    METADATA_SERVER_DETECTION: 'none',
    MTLSCTL_API_ENDPOINT: proxy!.url,
    MTLSCTL_ACCESS_TOKEN: TOKEN,
    MTLSCTL_ORGANIZATION: ORG,
    MTLSCTL_ENVIRONMENT: ENV,
  }
}

const tty = (args: string[]) => {
  const session = TtySession.start(args, {home: clientHome, cwd: dir, env: remoteEnv()})
  sessions.push(session)
  return session
}

/** The aliases of each keystore, as a remote `aliases list` prints them. */
async function aliasesByKeystore(): Promise<Record<string, string>> {
  const found: Record<string, string> = {}
  for (const ks of KEYSTORES) {
    const r = await runCli(['aliases', 'list', '--keystore', ks, '--format', 'value(alias)'], {home: clientHome, cwd: dir, env: remoteEnv()})
    expect(r.code, r.stderr).toBe(0)
    found[ks] = r.stdout
  }
  return found
}

beforeAll(async () => {
  if (unavailable) return
  dir = tempDir('mtlsctl-remote-tty-')
  serverHome = path.join(dir, 'server')
  clientHome = path.join(dir, 'client')
  const store = openStore(serverHome)
  await createEnvironment(store, ORG, ENV)
  for (const ks of KEYSTORES) await createKeystore(store, ORG, ENV, ks)
  const tokenFile = path.join(dir, 'token')
  fs.writeFileSync(tokenFile, `${TOKEN}\n`, {mode: 0o600})
  // The CA lives in the client's state folder: remote mode issues from it, then uploads.
  const ca = await runCli(['ca', 'create', 'CA', '--subject', '/CN=remote-tty-ca', '--out-dir', 'ca'], {home: clientHome, cwd: dir})
  expect(ca.code, ca.stderr).toBe(0)
  emulator = await startEmulator(serverHome, ['--token-file', tokenFile])
  proxy = await startFaultProxy(emulator.url)
})
afterEach(() => {
  for (const s of sessions.splice(0)) s.kill()
  if (proxy) proxy.seen.length = 0
})
afterAll(async () => {
  await proxy?.close()
  await emulator?.stop()
  if (dir) rmTemp(dir)
})

onTerminal('remote mode: the keystore is picked from the API\'s list on a terminal', () => {
  it('aliases add without --keystore: the three keystores on the screen; Down, Down, Enter picks ccc; the alias is there; exit 0', async () => {
    const s = tty(['aliases', 'add', 'newalias', '--ca', 'CA', '--subject', '/CN=x'])
    const first = await s.waitFor(/Keystore:[\s\S]*aaa[\s\S]*bbb[\s\S]*ccc/)
    expect(first).toMatch(/❯ aaa\n\s+bbb\n\s+ccc/)
    s.keys('Down')
    await s.waitFor(/❯ bbb/)
    s.keys('Down')
    await s.waitFor(/❯ ccc/)
    s.keys('Enter')
    const {code, screen} = await s.exit()
    expect(code, screen).toBe(0)
    expect(screen).toContain('Keystore: ccc')
    expect(screen).toContain('Created alias [newalias] (KEY_CERT) in keystore [ccc].')
    expect(screen).not.toContain('ERROR')

    // What went over the wire: the list offered, then one POST to the chosen keystore.
    const writes = proxy!.seen.filter((r) => r.method !== 'GET')
    expect(writes.map((r) => `${r.method} ${r.path}`)).toEqual([`POST ${ALIASES_PATH('ccc')}?alias=newalias&format=keycertfile`])
    expect(proxy!.requests('GET', `/v1/organizations/${ORG}/environments/${ENV}/keystores`).length).toBeGreaterThan(0)
    for (const r of proxy!.seen) expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`)

    expect(await aliasesByKeystore()).toEqual({aaa: '', bbb: '', ccc: 'newalias\n'})
    const described = await runCli(['aliases', 'describe', 'newalias', '--keystore', 'ccc', '--format', 'json'], {home: clientHome, cwd: dir, env: remoteEnv()})
    expect(described.code, described.stderr).toBe(0)
    const alias = JSON.parse(described.stdout)
    expect(alias).toMatchObject({alias: 'newalias', type: 'KEY_CERT'})
    expect(JSON.stringify(alias.certsInfo)).toContain('CN=x')
    expect(JSON.stringify(alias.certsInfo)).toContain('CN=remote-tty-ca')
  })

  it('Ctrl-C at that prompt exits 130 and creates nothing', async () => {
    const before = await aliasesByKeystore()
    proxy!.seen.length = 0
    const s = tty(['aliases', 'add', 'interrupted', '--ca', 'CA', '--subject', '/CN=y'])
    await s.waitFor(/Keystore:[\s\S]*aaa[\s\S]*bbb[\s\S]*ccc/)
    s.keys('Down')
    await s.waitFor(/❯ bbb/)
    s.keys('C-c')
    const {code, screen} = await s.exit()
    expect(code, screen).toBe(130)
    expect(screen).toContain('ERROR: (mtlsctl.aliases.add) Interrupted.')
    expect(screen).not.toMatch(/^\s+at \S/m)
    // Only the keystores were read; nothing was sent that creates.
    expect(proxy!.seen.filter((r) => r.method !== 'GET')).toEqual([])
    const after = await aliasesByKeystore()
    expect(after).toEqual(before)
    expect(Object.values(after).join('')).not.toContain('interrupted')
  })
})
