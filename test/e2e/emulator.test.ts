import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createEnvironment} from '../../src/core/environments.js'
import {createKeystore} from '../../src/core/keystores.js'
import {FileStore} from '../../src/core/store/index.js'
import {gcloud, hasGcloud, startEmulator, type RunningEmulator} from '../helpers/api.js'
import {failedDeployStderr, rmTemp, ROOT, runCli, tempDir, UUID} from '../helpers/cli.js'
import {seedCertsFolder, seedState} from '../helpers/pki.js'
import {flatten, SEED_ERROR_ARCHIVES, seedExample} from '../helpers/seed.js'

/**
 * `mtlsctl emulator start` driven by the real gcloud (Google Cloud SDK, alpha component): the
 * seed's flow, its four documented errors, and parity between gcloud's and mtlsctl's output.
 */
const EXAMPLES = path.join(ROOT, 'examples/archives')
const flags = ['--organization', 'myorg', '--environment', 'dev']

if (!hasGcloud) console.log('SKIPPED the real-gcloud tests of test/e2e/emulator.test.ts: `gcloud` is not installed (install the Google Cloud SDK with its alpha component).')

let dir: string
let certs: string


beforeAll(async () => {
  dir = tempDir()
  certs = await seedCertsFolder(dir, {expired: true})
})
afterAll(() => rmTemp(dir))

describe.skipIf(!hasGcloud)('the real gcloud against `mtlsctl emulator start`', () => {
  let home: string
  let emulator: RunningEmulator
  let tokenFile: string
  const g = (args: string[], cwd?: string) => gcloud(args, {url: emulator.url, tokenFile, cwd})
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, {home, cwd: certs, env})
  const deploy = (example: string, extra: string[] = []) =>
    g(['alpha', 'apigee', 'archives', 'deploy', '--organization=myorg', '--environment=dev', '--source=.', ...extra], path.join(EXAMPLES, example))
  /** Failed operations by archive, for the parity checks below. */
  const failed = new Map<string, string>()
  let deployed: string

  beforeAll(async () => {
    home = path.join(dir, 'gcloud-state')
    await seedState(home, certs)
    tokenFile = path.join(dir, 'token')
    fs.writeFileSync(tokenFile, 'any-token\n')
    emulator = await startEmulator(home, ['--verbosity', 'info'])
  })
  afterAll(async () => {
    expect(await emulator.stop()).toBe(0)
  })

  it('the seed\'s four broken archives: exit 1, `Details: <documented message>`, and `operations describe` prints the seed\'s YAML', async () => {
    const results = await Promise.all(SEED_ERROR_ARCHIVES.map((example) => deploy(example)))
    const described = await Promise.all(
      results.map((r, i) => {
        expect(r.code, r.stderr).toBe(1)
        expect(r.stdout).toBe('')
        const m = failedDeployStderr('gcloud.alpha.apigee.archives.deploy').exec(r.stderr)
        expect(m, r.stderr).not.toBeNull()
        failed.set(SEED_ERROR_ARCHIVES[i], m![1])
        return g(['alpha', 'apigee', 'operations', 'describe', m![1], '--organization=myorg']).then((d) => ({d, uuid: m![1], details: m![2]}))
      }),
    )
    for (const [i, {d, uuid, details}] of described.entries()) {
      expect(d.code, d.stderr).toBe(0)
      expect(d.stderr).toBe('')
      const archive = /targetResourceName: organizations\/myorg\/environments\/dev\/archiveDeployments\/([a-z0-9]{18})\n/.exec(d.stdout)![1]
      expect(flatten(d.stdout)).toBe(seedExample(i, {org: 'myorg', env: 'dev', api: 'helloworld', uuid, archive}))
      // The Details line is the operation's message, exactly.
      expect(flatten(d.stdout)).toContain(`message: '${details}'`)
    }
  })

  it('the seed\'s valid archive: exit 0, gcloud\'s progress line, nothing on stdout; `archives list` shows it Deployed', async () => {
    const r = await deploy('valid', ['--labels=team=edge'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe('')
    const m = new RegExp(`^Waiting for operation \\[(${UUID})\\] to complete\\.\\.\\.\\n\\.+done\\.\\n$`).exec(r.stderr)
    expect(m, r.stderr).not.toBeNull()
    deployed = m![1]
    const list = await g(['alpha', 'apigee', 'archives', 'list', '--organization=myorg', '--environment=dev'])
    expect(list.code, list.stderr).toBe(0)
    const rows = list.stdout.trimEnd().split('\n')
    expect(rows[0]).toMatch(/^ARCHIVE ID\s+ENVIRONMENT\s+DEPLOYED AT\s+LABELS\s+OPERATION STATUS$/)
    // Newest first: the deployment just made, with its label and today's date (not 1970).
    const today = new Date().toISOString().slice(0, 4)
    expect(rows[1]).toMatch(new RegExp(`^[a-z0-9]{18}\\s+dev\\s+${today}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+team=edge\\s+Deployed$`))
    expect(rows.length).toBe(6)
    // mtlsctl reads the same state: the same five deployments, newest first. (gcloud stops
    // computing statuses at the first Deployed one, so only that row has one.)
    const mine = await cli(['archives', 'list', ...flags, '--format', 'value(archiveId,operationStatus)'])
    expect(mine.stdout.trimEnd().split('\n').map((l) => l.split('\t')[0])).toEqual(rows.slice(1).map((row) => row.split(/\s+/)[0]))
    expect(mine.stdout.split('\n')[0]).toBe(`${rows[1].split(/\s+/)[0]}\tDeployed`)
    expect(emulator.stderr()).toMatch(/INFO: 127\.0\.0\.1 GET \/v1\/organizations\/myorg\/environments\/dev\/archiveDeployments\?pageSize=100 200 [\d.]+ ms\n/)
  })

  it('parity: `mtlsctl operations describe` and `gcloud alpha apigee operations describe` print the same stdout', async () => {
    const uuids = [deployed, ...failed.values()]
    const pairs = await Promise.all(
      uuids.map(async (uuid) => ({
        uuid,
        theirs: await g(['alpha', 'apigee', 'operations', 'describe', uuid, '--organization=myorg']),
        mine: await cli(['operations', 'describe', uuid, '--organization', 'myorg']),
      })),
    )
    for (const {theirs, mine} of pairs) {
      expect(mine.code).toBe(0)
      expect(theirs.code).toBe(0)
    }
    // Byte for byte: the successful deployment, and the failed ones, whose long messages both
    // fold at 80 columns as ruamel (gcloud's printer) folds them.
    for (const {mine, theirs} of pairs) expect(mine.stdout).toBe(theirs.stdout)
    expect(pairs.slice(1).every(({mine}) => /^  message: '.*\n    \S/m.test(mine.stdout))).toBe(true)
  })

  it('parity: mtlsctl\'s blocking deploy prints gcloud\'s stderr lines (command path aside)', async () => {
    const normalise = (stderr: string) =>
      stderr
        .replace(new RegExp(UUID, 'g'), 'UUID')
        .replace(/\n\.+(done|failed)\./g, '\n.$1.')
        .replace(/\((?:gcloud\.alpha\.apigee|mtlsctl)\.archives\.deploy\)/, '(COMMAND)')
    const both = (example: string) =>
      Promise.all([deploy(example), cli(['archives', 'deploy', ...flags, '--source', path.join(EXAMPLES, example, 'src')])])
    // Successes first: they number the revisions that the failures' messages name.
    const pairs = [await both('valid'), ...(await Promise.all([both('missing-alias'), both('expired-certificate')]))]
    for (const [theirs, mine] of pairs) {
      expect(mine.code, theirs.stderr).toBe(theirs.code)
      expect(mine.stdout).toBe(theirs.stdout)
      expect(normalise(mine.stderr)).toBe(normalise(theirs.stderr))
    }
    expect(pairs.map(([theirs]) => theirs.code)).toEqual([0, 1, 1])
  })
})

describe.skipIf(!hasGcloud)('gcloud --async, a deployment seen while it runs, and --token-file', () => {
  let home: string
  let emulator: RunningEmulator
  let pause: string

  beforeAll(async () => {
    home = path.join(dir, 'async-state')
    await seedState(home, certs)
    pause = path.join(dir, 'resume-deployments')
    fs.writeFileSync(path.join(dir, 'good-token'), 'good-token\n')
    fs.writeFileSync(path.join(dir, 'bad-token'), 'bad-token\n')
    // The worker's test hook: deployments started through the API wait for this file.
    emulator = await startEmulator(home, ['--token-file', path.join(dir, 'good-token')], {MTLSCTL_WORKER_PAUSE_FILE: pause})
  })
  afterAll(async () => {
    fs.writeFileSync(pause, '')
    expect(await emulator.stop()).toBe(0)
  })

  it('--async prints the operation; mtlsctl sees it IN_PROGRESS while the emulator runs it, then done', async () => {
    const tokenFile = path.join(dir, 'good-token')
    const r = await gcloud(['alpha', 'apigee', 'archives', 'deploy', '--organization=myorg', '--environment=dev', '--source=.', '--async'], {url: emulator.url, tokenFile, cwd: path.join(EXAMPLES, 'valid')})
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toBe('')
    const m = new RegExp(
      `^metadata:\\n  '@type': type.googleapis.com/google.cloud.apigee.v1.OperationMetadata\\n  operationType: INSERT\\n  state: IN_PROGRESS\\n  targetResourceName: organizations/myorg/environments/dev/archiveDeployments/[a-z0-9]{18}\\nname: organizations/myorg/operations/(${UUID})\\norganization: myorg\\nuuid: \\1\\n$`,
    ).exec(r.stdout)
    expect(m, r.stdout).not.toBeNull()
    const uuid = m![1]
    const cli = (args: string[]) => runCli(args, {home})
    // The same YAML from mtlsctl, from the same state folder, while the emulator holds the operation.
    const running = await cli(['operations', 'describe', uuid, '--organization', 'myorg'])
    expect(running.stdout).toBe(r.stdout)
    // The deployment runs in a worker process of the emulator's, which holds the lease.
    const lease = JSON.parse(fs.readFileSync(path.join(home, 'organizations/myorg/operations', `${uuid}.json`), 'utf8')).lease
    expect(lease.pid).not.toBe(emulator.proc.pid)
    const parent = Number(fs.readFileSync(`/proc/${lease.pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1])
    expect(parent).toBe(emulator.proc.pid)
    fs.writeFileSync(pause, '')
    const waited = await cli(['operations', 'wait', uuid, '--organization', 'myorg', '--timeout', '60s'])
    expect(waited.code, waited.stderr).toBe(0)
    const done = await cli(['operations', 'describe', uuid, '--organization', 'myorg', '--format', 'json'])
    expect(JSON.parse(done.stdout)).toMatchObject({done: true, metadata: {state: 'FINISHED'}, response: {operation: `organizations/myorg/operations/${uuid}`}})
  })

  it('with --token-file, gcloud with another token is refused (401), with that token served', async () => {
    const r = await gcloud(['alpha', 'apigee', 'operations', 'list', '--organization=myorg'], {url: emulator.url, tokenFile: path.join(dir, 'bad-token')})
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('Request had invalid authentication credentials.')
    const ok = await gcloud(['alpha', 'apigee', 'operations', 'list', '--organization=myorg', '--format=value(uuid)'], {url: emulator.url, tokenFile: path.join(dir, 'good-token')})
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stdout).toMatch(new RegExp(`^${UUID}\\n$`))
  })
})

describe('mtlsctl emulator start --detach | status | stop', () => {
  it('detaches, prints the variables for gcloud, refuses a second emulator, stops', async () => {
    const home = path.join(dir, 'detach-state')
    const cli = (args: string[]) => runCli(args, {home})
    const started = await cli(['emulator', 'start', '--detach', '--port', '0'])
    expect(started.code, started.stderr).toBe(0)
    const m = /^export CLOUDSDK_API_ENDPOINT_OVERRIDES_APIGEE=(http:\/\/127\.0\.0\.1:(\d+)\/)\nexport CLOUDSDK_AUTH_ACCESS_TOKEN_FILE=(\S+)\n$/.exec(started.stdout)
    expect(m, started.stdout).not.toBeNull()
    expect(m![3]).toBe(path.join(home, 'emulator.token'))
    expect(started.stderr).toMatch(new RegExp(`^Apigee API emulator listening on ${m![1].replaceAll('.', '\\.')} \\(pid (\\d+), state folder ${home}, log ${path.join(home, 'emulator.log')}\\)\\.\\n$`))
    const pid = Number(fs.readFileSync(path.join(home, 'emulator.pid'), 'utf8'))
    const status = await cli(['emulator', 'status', '--format', 'json'])
    expect(JSON.parse(status.stdout)).toMatchObject({pid, url: m![1], port: Number(m![2]), stateFolder: home, tokenRequired: false})
    // The API answers, from the same state folder.
    await cli(['environments', 'create', 'dev', '--organization', 'myorg'])
    expect(await (await fetch(`${m![1]}v1/organizations/myorg/environments`)).json()).toEqual(['dev'])
    const second = await cli(['emulator', 'start', '--port', '0'])
    expect(second.code).toBe(1)
    expect(second.stderr).toContain(`FAILED_PRECONDITION: An emulator is already running on the state folder ${home} (pid ${pid}, ${m![1]}).`)
    const stopped = await cli(['emulator', 'stop'])
    expect(stopped).toMatchObject({code: 0, stdout: '', stderr: `Stopped the emulator at ${m![1]} (pid ${pid}).\n`})
    expect(fs.existsSync(path.join(home, 'emulator.pid'))).toBe(false)
    const after = await cli(['emulator', 'status'])
    expect(after.code).toBe(1)
    expect(after.stderr).toBe(`ERROR: (mtlsctl.emulator.status) NOT_FOUND: No emulator is running on the state folder ${home}.\nStart one with: mtlsctl emulator start --detach\n`)
    expect((await cli(['emulator', 'stop'])).stderr).toBe(`No emulator is running on the state folder ${home}.\n`)
  })

  it('a port in use, a bad token file: clear errors, nothing left running', async () => {
    const home = path.join(dir, 'errors-state')
    const first = await startEmulator(home)
    try {
      const port = new URL(first.url).port
      const other = path.join(dir, 'errors-state-2')
      const busy = await runCli(['emulator', 'start', '--port', port], {home: other})
      expect(busy.code).toBe(1)
      expect(busy.stderr).toBe(`ERROR: (mtlsctl.emulator.start) FAILED_PRECONDITION: Cannot listen on 127.0.0.1:${port}: the port is in use.\nChoose another --port (0 picks a free one), or stop what uses it.\n`)
      const busyDetached = await runCli(['emulator', 'start', '--port', port, '--detach'], {home: other})
      expect(busyDetached.code).toBe(1)
      expect(busyDetached.stderr).toContain('the port is in use.')
      expect(fs.existsSync(path.join(other, 'emulator.pid'))).toBe(false)
      const noToken = await runCli(['emulator', 'start', '--port', '0', '--token-file', path.join(dir, 'missing')], {home: other})
      expect(noToken.code).toBe(1)
      expect(noToken.stderr).toBe(`ERROR: (mtlsctl.emulator.start) INVALID_ARGUMENT: Cannot read the token file ${path.join(dir, 'missing')} (--token-file): no such file.\n`)
    } finally {
      expect(await first.stop()).toBe(0)
    }
    expect(fs.existsSync(path.join(home, 'emulator.pid'))).toBe(false)
  })
})

describe('the emulator and the CLI writing the same state folder at once', () => {
  it('120 API alias creations and 6 CLI `aliases add` at the same time: all 126 stored', async () => {
    const home = path.join(dir, 'mixed-state')
    const store = new FileStore(home)
    await createEnvironment(store, 'myorg', 'dev')
    await createKeystore(store, 'myorg', 'dev', 'mtls_keystore')
    const emulator = await startEmulator(home)
    try {
      const cert = fs.readFileSync(path.join(certs, 'my_gateway.pem'))
      const key = fs.readFileSync(path.join(certs, 'my_gateway.key'))
      const api = Array.from({length: 120}, async (_, i) => {
        const form = new FormData()
        form.append('certFile', new Blob([cert]), 'my_gateway.pem')
        form.append('keyFile', new Blob([key]), 'my_gateway.key')
        const res = await fetch(`${emulator.url}v1/organizations/myorg/environments/dev/keystores/mtls_keystore/aliases?alias=api_${i}&format=keycertfile`, {method: 'POST', body: form})
        return res.status
      })
      const cli = Array.from({length: 6}, (_, i) =>
        runCli(['aliases', 'add', `cli_${i}`, '--keystore', 'mtls_keystore', '--cert-file', 'my_gateway.pem', '--key-file', 'my_gateway.key', ...flags], {home, cwd: certs}).then((r) => r.code),
      )
      const [apiStatuses, cliCodes] = await Promise.all([Promise.all(api), Promise.all(cli)])
      expect(apiStatuses.every((s) => s === 200)).toBe(true)
      expect(cliCodes).toEqual([0, 0, 0, 0, 0, 0])
      const listed = await runCli(['aliases', 'list', '--keystore', 'mtls_keystore', ...flags, '--format', 'value(alias)'], {home})
      const names = listed.stdout.trim().split('\n').sort()
      expect(names.length).toBe(126)
      expect(names).toEqual([...Array.from({length: 120}, (_, i) => `api_${i}`), ...Array.from({length: 6}, (_, i) => `cli_${i}`)].sort())
    } finally {
      expect(await emulator.stop()).toBe(0)
    }
  })
})
