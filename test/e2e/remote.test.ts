import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {gcloud, hasGcloud, startEmulator} from '../helpers/api.js'
import {backend, NEUTRAL, remoteEnv} from '../helpers/backends.js'
import {failedDeployStderr, rmTemp, ROOT, runCli, tempDir, UUID, type CliResult} from '../helpers/cli.js'
import {seedCertsFolder, seedState, snapshot} from '../helpers/pki.js'
import {flatten, seedExample} from '../helpers/seed.js'

/**
 * Remote mode as a user meets it: the CLI over HTTP to `mtlsctl emulator start` (the v1 API),
 * printing what the local engine prints on the same state; the deploy preflight; credentials;
 * an API that does not answer; and the real gcloud on the same emulator.
 */
const EXAMPLES = path.join(ROOT, 'examples/archives')
const flags = ['--organization', 'myorg', '--environment', 'dev']

if (!hasGcloud) console.log('SKIPPED the real-gcloud tests of test/e2e/remote.test.ts: `gcloud` is not installed.')

let dir: string
let certs: string

beforeAll(async () => {
  dir = tempDir()
  certs = await seedCertsFolder(dir, {expired: true})
})
afterAll(() => rmTemp(dir))


/** The operation's UUID from gcloud's `Waiting for operation [UUID] to complete...`. */
function operationOf(r: CliResult): string {
  const m = new RegExp(`^Waiting for operation \\[(${UUID})\\] to complete\\.\\.\\.\\n`).exec(r.stderr)
  expect(m, r.stderr).not.toBeNull()
  return m![1]
}

describe('one state folder, two backends: the same bytes', () => {
  it('keystores list, aliases describe --format json, references list, archives list and operations describe print the same stdout locally and over HTTP', async () => {
    const home = path.join(dir, 'parity-state')
    const local = (args: string[]) => runCli(args, {home, cwd: certs, env: NEUTRAL})
    const setup = [
      ['environments', 'create', 'dev', '--organization', 'myorg'],
      ['keystores', 'create', 'mtls_keystore', ...flags],
      ['keystores', 'create', 'mtls_truststore', ...flags],
      ['keystores', 'create', 'docs-keystore', ...flags],
      ['aliases', 'add', 'mtls_alias', '--keystore', 'mtls_keystore', '--cert-file', 'my_gateway.pem', '--key-file', 'my_gateway.key', ...flags],
      ['aliases', 'add', 'rootca', '--keystore', 'mtls_truststore', '--cert-file', 'RootCA.pem', ...flags],
      ['ca', 'create', 'parity-ca', '--subject', '/O=Parity/CN=parity-ca', '--out-dir', dir],
      ['aliases', 'add', 'from_ca', '--keystore', 'mtls_keystore', '--ca', 'parity-ca', '--subject', '/CN=client.example', '--san', 'DNS:client.example,IP:127.0.0.1', ...flags],
      ['references', 'create', 'ks_ref', '--refers', 'mtls_keystore', ...flags],
      ['references', 'create', 'ts_ref', '--refers', 'mtls_truststore', '--resource-type', 'TrustStore', ...flags],
    ]
    for (const args of setup) expect((await local(args)).code, args.join(' ')).toBe(0)
    const deployed = await local(['archives', 'deploy', ...flags, '--source', path.join(EXAMPLES, 'valid/src'), '--labels', 'team=edge'])
    expect(deployed.code, deployed.stderr).toBe(0)
    const failed = await local(['archives', 'deploy', ...flags, '--source', path.join(EXAMPLES, 'missing-alias/src')])
    expect(failed.code, failed.stderr).toBe(1)

    const tokenFile = path.join(dir, 'parity.token')
    fs.writeFileSync(tokenFile, 'parity-token-0123456789\n')
    const emulator = await startEmulator(home, ['--token-file', tokenFile])
    const clientHome = path.join(dir, 'parity-client')
    const remote = (args: string[]) => runCli(args, {home: clientHome, cwd: certs, env: remoteEnv(emulator.url, 'parity-token-0123456789')})
    try {
      const commands = [
        ['keystores', 'list', ...flags],
        ['aliases', 'describe', 'mtls_alias', '--keystore', 'mtls_keystore', '--format', 'json', ...flags],
        ['aliases', 'describe', 'from_ca', '--keystore', 'mtls_keystore', '--format', 'json', ...flags],
        ['aliases', 'describe', 'rootca', '--keystore', 'mtls_truststore', '--format', 'json', ...flags],
        ['references', 'list', ...flags],
        ['archives', 'list', ...flags],
        ['operations', 'describe', operationOf(deployed), '--organization', 'myorg'],
        ['operations', 'describe', operationOf(failed), '--organization', 'myorg'],
      ]
      for (const args of commands) {
        const mine = await local(args)
        const theirs = await remote(args)
        expect(mine.code, mine.stderr).toBe(0)
        expect(theirs.code, theirs.stderr).toBe(0)
        expect(mine.stdout, args.join(' ')).not.toBe('')
        expect(theirs.stdout, args.join(' ')).toBe(mine.stdout)
        expect(theirs.stderr, args.join(' ')).toBe(mine.stderr)
      }
    } finally {
      expect(await emulator.stop()).toBe(0)
    }
  })
})

describe('remote mode against an emulator (token-protected, on its own state folder)', () => {
  const b = backend('remote')
  let home: string
  const cli = (args: string[], env: Record<string, string | undefined> = {}) => b.cli(args, {cwd: certs, env})
  const deploy = (example: string, extra: string[] = []) => cli(['archives', 'deploy', ...flags, '--source', path.join(EXAMPLES, example, 'src'), ...extra])
  /** The requests the emulator logged (`METHOD /path STATUS`). */
  const requests = () =>
    b
      .emulator!.stderr()
      .split('\n')
      .flatMap((l) => /^INFO: \S+ (\w+ \S+ \d{3}) [\d.]+ ms$/.exec(l)?.[1] ?? [])

  beforeEach(async () => {
    home = await b.setup()
    await seedState(home, certs)
  })
  afterEach(() => b.teardown())

  it('a preflight failure uploads nothing: exit 1, every problem with its resolution, no upload URL, no PUT, no deployment', async () => {
    // The problems and resolutions `archives validate` finds on the local engine, on the same state.
    const validated = await b.local(['archives', 'validate', ...flags, '--source', path.join(EXAMPLES, 'missing-keystore/src')], {cwd: certs})
    expect(validated.code).toBe(1)
    const resolutions = validated.stdout.split('\n').filter((l) => l.startsWith('  Resolution: '))
    expect(resolutions).toEqual([
      '  Resolution: Create a keystore with the same name that is referenced within the targetservers.json file, or update the targetservers.json file to reference an existing, valid Apigee keystore.',
    ])
    const before = snapshot(home)
    const r = await deploy('missing-keystore')
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(new RegExp(`^ERROR: \\(mtlsctl\\.archives\\.deploy\\) FAILED_PRECONDITION: Preflight found 1 problem\\(s\\) against ${b.emulator!.url.replaceAll('.', '\\.')}; nothing was uploaded\\.\\n`))
    expect(r.stderr).toContain(validated.stdout)
    for (const line of resolutions) expect(r.stderr).toContain(`${line}\n`)
    // Reads only: nothing was asked for, sent or created.
    expect(requests().filter((q) => !q.startsWith('GET '))).toEqual([])
    expect(b.emulator!.stderr()).not.toMatch(/generateUploadUrl| PUT /)
    expect(snapshot(home)).toEqual(before)
    const list = await cli(['archives', 'list', ...flags])
    expect(list).toMatchObject({code: 0, stdout: '', stderr: ''})
    expect((await cli(['operations', 'list', '--organization', 'myorg', '--format', 'value(name)'])).stdout).toBe('')
  })

  it('--skip-preflight leaves the verdict to the server: the archive is uploaded, and its failed operation has the seed\'s text', async () => {
    const r = await deploy('missing-keystore', ['--skip-preflight'])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    const m = failedDeployStderr('mtlsctl.archives.deploy').exec(r.stderr)
    expect(m, r.stderr).not.toBeNull()
    const uuid = m![1]
    expect(requests()).toContainEqual(expect.stringMatching(/^PUT \S+ 200$/))
    expect(requests()).toContainEqual('POST /v1/organizations/myorg/environments/dev/archiveDeployments 200')
    const described = await cli(['operations', 'describe', uuid, '--organization', 'myorg'])
    expect(described.code).toBe(0)
    const archive = /targetResourceName: organizations\/myorg\/environments\/dev\/archiveDeployments\/([a-z0-9]{18})\n/.exec(described.stdout)![1]
    expect(flatten(described.stdout)).toBe(seedExample(0, {org: 'myorg', env: 'dev', api: 'helloworld', uuid, archive}))
    expect(flatten(described.stdout)).toContain(`message: '${m![2]}'`)
    expect((await cli(['archives', 'list', ...flags, '--format', 'value(archiveId,operationStatus)'])).stdout).toBe(`${archive}\tFailed\n`)
  })

  it('an environment that takes no archives: the preflight refuses it first, in the words the server (and the local engine) use', async () => {
    expect((await b.local(['environments', 'create', 'legacy', '--organization', 'myorg', '--deployment-type', 'proxy'])).code).toBe(0)
    const args = ['archives', 'deploy', '--organization', 'myorg', '--environment', 'legacy', '--source', path.join(EXAMPLES, 'valid/src')]
    const local = await b.local(args, {cwd: certs})
    const first = local.stderr.split('\n')[0]
    expect(first).toBe(
      'ERROR: (mtlsctl.archives.deploy) FAILED_PRECONDITION: Environment "organizations/myorg/environments/legacy" has deployment type PROXY; archive deployments need an environment with deployment type ARCHIVE.',
    )
    const preflight = await cli(args)
    expect(preflight).toMatchObject({code: 1, stdout: '', stderr: `${first}\n`})
    expect(b.emulator!.stderr()).not.toMatch(/generateUploadUrl| PUT /)
    const server = await cli([...args, '--skip-preflight'])
    expect(server).toMatchObject({code: 1, stdout: ''})
    expect(server.stderr.split('\n')[0]).toBe(first)
  })

  it('credentials: the right token works; a wrong one and none exit 3 (UNAUTHENTICATED); no token is ever printed or logged', async () => {
    const wrong = 'wrong-token-5f0c1e2d3a4b'
    const outputs: string[] = []
    const run = async (env: Record<string, string | undefined>) => {
      const r = await cli(['keystores', 'list', ...flags, '--verbosity', 'debug'], env)
      outputs.push(r.stdout, r.stderr)
      return r
    }
    expect(await run({})).toMatchObject({code: 0, stdout: 'docs-keystore\nexpired-keystore\nmtls_keystore\nmtls_truststore\n'})

    const refused = await run({MTLSCTL_ACCESS_TOKEN: wrong})
    expect(refused.code).toBe(3)
    expect(refused.stdout).toBe('')
    expect(refused.stderr).toMatch(/^ERROR: \(mtlsctl\.keystores\.list\) UNAUTHENTICATED: /m)

    // No token anywhere: no variable, no application default credentials, gcloud without an
    // account (an empty configuration folder and home), and no metadata server asked.
    const emptyConfig = path.join(path.dirname(home), 'gcloud-config')
    const emptyHome = path.join(path.dirname(home), 'home')
    fs.mkdirSync(emptyConfig)
    fs.mkdirSync(emptyHome)
    const none = await run({MTLSCTL_ACCESS_TOKEN: undefined, METADATA_SERVER_DETECTION: 'none', CLOUDSDK_CONFIG: emptyConfig, HOME: emptyHome})
    expect(none.code).toBe(3)
    expect(none.stdout).toBe('')
    expect(none.stderr).toMatch(/^ERROR: \(mtlsctl\.keystores\.list\) UNAUTHENTICATED: /m)

    const everything = [...outputs, b.emulator!.stderr()].join('\n')
    expect(everything).not.toContain(b.token!)
    expect(everything).not.toContain(wrong)
    // The right token was served once; the wrong one was refused by the server.
    expect(requests()).toEqual(['GET /v1/organizations/myorg/environments/dev/keystores 200', 'GET /v1/organizations/myorg/environments/dev/keystores 401'])
  })

  it('--verbosity info says which API and which credentials, never the token', async () => {
    const r = await cli(['keystores', 'list', ...flags, '--verbosity', 'info'])
    expect(r.code).toBe(0)
    expect(r.stderr).toContain(`INFO: Using the Apigee API at ${b.emulator!.url} (from MTLSCTL_API_ENDPOINT).\n`)
    expect(r.stderr).toContain('INFO: Using credentials from MTLSCTL_ACCESS_TOKEN.\n')
    expect(r.stdout + r.stderr).not.toContain(b.token!)
    const local = await b.local(['keystores', 'list', ...flags, '--verbosity', 'info'])
    expect(local.stderr).toBe(`INFO: Using the local engine (state folder ${home}).\n`)
    expect(local.stdout).toBe(r.stdout)
  })

  it('the emulator stopped before the command: exit 4 naming the endpoint, nothing half-made', async () => {
    expect((await cli(['keystores', 'list', ...flags])).code).toBe(0)
    const url = b.emulator!.url
    expect(await b.emulator!.stop()).toBe(0)
    const state = snapshot(home)
    const client = snapshot(b.home)
    for (const args of [
      ['keystores', 'create', 'new_keystore', ...flags],
      ['aliases', 'add', 'new_alias', '--keystore', 'mtls_keystore', '--cert-file', 'my_gateway.pem', '--key-file', 'my_gateway.key', ...flags],
      ['archives', 'deploy', ...flags, '--source', path.join(EXAMPLES, 'valid/src')],
      ['archives', 'deploy', ...flags, '--source', path.join(EXAMPLES, 'valid/src'), '--skip-preflight'],
    ]) {
      const r = await cli(args)
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(4)
      expect(r.stdout).toBe('')
      expect(r.stderr).toMatch(new RegExp(`^ERROR: \\(mtlsctl\\.${args[0]}\\.${args[1]}\\) `))
      expect(r.stderr).toContain(url.replace(/\/$/, ''))
      expect(r.stderr).not.toContain(b.token!)
    }
    expect(snapshot(home)).toEqual(state)
    expect(snapshot(b.home)).toEqual(client)
  })
})

describe.skipIf(!hasGcloud)('the real gcloud and mtlsctl in remote mode on one emulator', () => {
  const b = backend('remote')
  let home: string
  const cli = (args: string[], env: Record<string, string | undefined> = {}) => b.cli(args, {cwd: certs, env})
  const g = (args: string[]) => gcloud(args, {url: b.emulator!.url, tokenFile: b.tokenFile!})

  beforeAll(async () => {
    home = await b.setup()
    await seedState(home, certs)
  })
  afterAll(() => b.teardown())

  it('archives deployed by mtlsctl are listed by gcloud; `operations describe` prints the same bytes from both', async () => {
    const deployed = await cli(['archives', 'deploy', ...flags, '--source', path.join(EXAMPLES, 'valid/src'), '--labels', 'team=edge'])
    expect(deployed.code, deployed.stderr).toBe(0)
    const failed = await cli(['archives', 'deploy', ...flags, '--source', path.join(EXAMPLES, 'missing-alias/src'), '--skip-preflight'])
    expect(failed.code, failed.stderr).toBe(1)
    const uuids = [operationOf(deployed), operationOf(failed)]

    const list = await g(['alpha', 'apigee', 'archives', 'list', '--organization=myorg', '--environment=dev'])
    expect(list.code, list.stderr).toBe(0)
    const rows = list.stdout.trimEnd().split('\n')
    expect(rows[0]).toMatch(/^ARCHIVE ID\s+ENVIRONMENT\s+DEPLOYED AT\s+LABELS\s+OPERATION STATUS$/)
    const mine = await cli(['archives', 'list', ...flags, '--format', 'value(archiveId,labels)'])
    expect(mine.code).toBe(0)
    const ids = mine.stdout.trimEnd().split('\n').map((l) => l.split('\t')[0])
    expect(ids.length).toBe(2)
    expect(rows.slice(1).map((row) => row.split(/\s+/)[0])).toEqual(ids)
    expect(rows.find((row) => row.includes('team=edge'))).toMatch(/\s+Deployed$/)

    for (const uuid of uuids) {
      const theirs = await g(['alpha', 'apigee', 'operations', 'describe', uuid, '--organization=myorg'])
      const ours = await cli(['operations', 'describe', uuid, '--organization', 'myorg'])
      expect(theirs.code, theirs.stderr).toBe(0)
      expect(ours.code, ours.stderr).toBe(0)
      expect(ours.stdout).toBe(theirs.stdout)
    }
  })

  it('a shell set up for gcloud (CLOUDSDK_API_ENDPOINT_OVERRIDES_APIGEE, CLOUDSDK_AUTH_ACCESS_TOKEN_FILE) works unchanged', async () => {
    const gcloudShell = {
      MTLSCTL_API_ENDPOINT: undefined,
      MTLSCTL_ACCESS_TOKEN: undefined,
      CLOUDSDK_API_ENDPOINT_OVERRIDES_APIGEE: b.emulator!.url,
      CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: b.tokenFile,
    }
    const r = await cli(['keystores', 'list', ...flags, '--verbosity', 'info'], gcloudShell)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe('docs-keystore\nexpired-keystore\nmtls_keystore\nmtls_truststore\n')
    expect(r.stderr).toContain(`INFO: Using the Apigee API at ${b.emulator!.url} (from CLOUDSDK_API_ENDPOINT_OVERRIDES_APIGEE).\n`)
    expect(r.stderr).not.toContain(b.token!)
    const theirs = await g(['alpha', 'apigee', 'operations', 'list', '--organization=myorg', '--format=value(uuid)'])
    const ours = await cli(['operations', 'list', '--organization', 'myorg', '--format', 'value(uuid)'], gcloudShell)
    expect(ours.code, ours.stderr).toBe(0)
    expect(ours.stdout.split('\n').sort()).toEqual(theirs.stdout.split('\n').sort())
  })
})
