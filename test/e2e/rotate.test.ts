import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startEmulator, type RunningEmulator} from '../helpers/api.js'
import {rmTemp, runCli, tempDir, type CliResult} from '../helpers/cli.js'
import {mtlsBackend, NGINX, startNginx, type Nginx} from '../helpers/nginx.js'
import {entriesBelow, snapshot} from '../helpers/openssl.js'
import {certWithValidity} from '../helpers/pki.js'
import {call, startRuntime, type RunningRuntime} from '../helpers/runtime.js'

/**
 * The seed's "Update a certificate for your proxy", both flows, done by `aliases rotate` and
 * `keystores rotate`, on the local engine and in remote mode against an emulator: before, the
 * runtime presents the old client certificate to an nginx backend that logs $ssl_client_serial
 * (or refuses the backend's certificate with the old truststore); after, the new one (or
 * trusts it). Locally the runtime is `mtlsctl runtime start` on the state folder; remotely the
 * emulator's own (`--runtime-port 0`) serves what was deployed through the API.
 */
if (!NGINX) console.log('SKIPPED test/e2e/rotate.test.ts: nginx is not installed (scripts/test.sh installs it).')

const HELLO = '{"message": "Hello world!"}'
/** A default name's -YYYYMMDD: the UTC date when the command ran (a run may straddle midnight). */
function dated(base: string, name: string): string {
  expect(name).toMatch(new RegExp(`^${base}-\\d{8}$`))
  const day = (d: Date) => d.toISOString().slice(0, 10).replaceAll('-', '')
  expect([day(new Date(Date.now() - 3_600_000)), day(new Date())]).toContain(name.slice(-8))
  return name
}

/** A serial as nginx's $ssl_client_serial prints it (upper-case hex, an even number of digits). */
const nginxSerial = (hex: string) => {
  const digits = hex.replaceAll(':', '').replace(/^0+/, '').toUpperCase()
  return digits.length % 2 ? `0${digits}` : digits
}
const serialOfPem = (pem: string) => nginxSerial(new crypto.X509Certificate(pem).serialNumber)

/** A target server with mTLS to 127.0.0.1:port. */
const target = (name: string, port: number, keyAlias: string, trustStore: string, keyStore = 'mtls_keystore') => ({
  name,
  host: '127.0.0.1',
  port,
  isEnabled: true,
  sSLInfo: {enabled: true, clientAuthEnabled: true, keyStore, keyAlias, trustStore, ignoreValidationErrors: false},
  protocol: 'HTTP',
})

/** An archive source folder (DIR/src/main/apigee) for one environment: one proxy per target server, at /NAME. */
function writeArchive(dir: string, env: string, targets: string | object[], proxies: Array<{name: string; target: string}>): string {
  const root = path.join(dir, 'src/main/apigee')
  fs.mkdirSync(path.join(root, 'environments', env), {recursive: true})
  fs.writeFileSync(path.join(root, 'environments', env, 'targetservers.json'), typeof targets === 'string' ? targets : `${JSON.stringify(targets, null, 2)}\n`)
  fs.writeFileSync(path.join(root, 'environments', env, 'deployments.json'), JSON.stringify({proxies: proxies.map((p) => ({name: p.name}))}))
  for (const p of proxies) {
    fs.mkdirSync(path.join(root, 'apiproxies', p.name), {recursive: true})
    fs.writeFileSync(
      path.join(root, 'apiproxies', p.name, 'config.yaml'),
      `basepath: /${p.name}\noperations:\n  - id: all\n    target:\n      target_server_id: ${p.target}\n    http_match:\n      - path_template: "/**"\n`,
    )
  }
  return path.join(dir, 'src')
}

/** The runtime that serves the deployments: ready when it says which deployment it serves. */
interface Served {
  port: number
  mark: () => number
  waitForDeployment: (env: string, id: string, from: number) => Promise<void>
  stop: () => Promise<unknown>
}

/** Resolves when text() (past `from`) matches re; checked on each chunk the stream emits. */
function waitOnStream(stream: NodeJS.ReadableStream, text: () => string, re: RegExp, from: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (re.test(text().slice(from))) {
        stream.off('data', check)
        stream.off('end', ended)
        resolve()
      }
    }
    const ended = () => reject(new Error(`stream ended before ${re}:\n${text()}`))
    stream.on('data', check)
    stream.on('end', ended)
    check()
  })
}

describe.skipIf(!NGINX).each(['local', 'remote'] as const)("the seed's certificate updates with aliases rotate and keystores rotate (%s)", (mode) => {
  let dir: string
  let home: string
  let serverHome: string
  let certs: string
  let src: string
  let backendA: Nginx
  let backendB: Nginx
  let emulator: RunningEmulator | undefined
  let runtime: RunningRuntime | undefined
  let served: Served
  let remoteEnv: Record<string, string> = {}

  const cli = (args: string[]): Promise<CliResult> => runCli(args, {home, cwd: certs, env: remoteEnv})
  const ok = async (args: string[]): Promise<CliResult> => {
    const r = await cli(args)
    expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0)
    return r
  }
  /** The engine's state: the client's folder locally, the emulator's in remote mode. */
  const stateFolder = () => (mode === 'local' ? home : serverHome)

  beforeAll(async () => {
    dir = tempDir(`mtlsctl-rotate-${mode}-`)
    home = path.join(dir, 'client')
    serverHome = path.join(dir, 'org')
    certs = path.join(dir, 'certs')
    fs.mkdirSync(certs)
    // Step 1, and a second CA for the truststore update: registered in the client's state folder.
    await ok(['ca', 'create', 'RootCA', '--subject', '/CN=my-ca'])
    await ok(['ca', 'create', 'RootCA2', '--subject', '/CN=my-ca-2'])
    await ok(['certs', 'create', 'my_gateway', '--ca', 'RootCA', '--subject', '/CN=gateway', '--san', 'DNS:gateway.example.com', '--usage', 'client'])
    await ok(['certs', 'create', 'my_gateway2', '--ca', 'RootCA', '--subject', '/CN=gateway-2', '--usage', 'client'])
    await ok(['certs', 'create', 'my_server', '--ca', 'RootCA', '--subject', '/CN=localhost', '--san', 'DNS:localhost,IP:127.0.0.1', '--usage', 'server'])
    await ok(['certs', 'create', 'my_server2', '--ca', 'RootCA2', '--subject', '/CN=localhost', '--san', 'DNS:localhost,IP:127.0.0.1', '--usage', 'server'])
    const file = (name: string) => path.join(certs, name)
    backendA = await startNginx(path.join(dir, 'nginx-a'), {server: mtlsBackend({cert: file('my_server.pem'), key: file('my_server.key'), clientCa: file('RootCA.pem')})})
    // B's certificate is RootCA2's: the old truststore (RootCA) refuses it, the new one trusts it.
    backendB = await startNginx(path.join(dir, 'nginx-b'), {server: mtlsBackend({cert: file('my_server2.pem'), key: file('my_server2.key'), clientCa: file('RootCA.pem')})})

    const envs = ['dev', 'fmt', 'cc']
    if (mode === 'remote') {
      for (const env of envs) expect((await runCli(['environments', 'create', env, '--organization', 'myorg'], {home: serverHome})).code).toBe(0)
      const tokenFile = path.join(dir, 'token')
      const token = crypto.randomBytes(16).toString('hex')
      fs.writeFileSync(tokenFile, `${token}\n`, {mode: 0o600})
      emulator = await startEmulator(serverHome, ['--token-file', tokenFile, '--runtime-port', '0'])
      remoteEnv = {MTLSCTL_API_ENDPOINT: emulator.url, MTLSCTL_ACCESS_TOKEN: token, METADATA_SERVER_DETECTION: 'none'}
    } else {
      for (const env of envs) await ok(['environments', 'create', env, '--organization', 'myorg'])
    }
    await ok(['config', 'set', 'organization', 'myorg'])
    await ok(['config', 'set', 'environment', 'dev'])
    for (const env of envs) {
      const e = ['--environment', env]
      await ok(['keystores', 'create', 'mtls_keystore', ...e])
      await ok(['keystores', 'create', 'mtls_truststore', ...e])
      await ok(['aliases', 'add', 'mtls_alias', '--keystore', 'mtls_keystore', '--cert-file', 'my_gateway.pem', '--key-file', 'my_gateway.key', ...e])
      await ok(['aliases', 'add', 'mtls_ca', '--keystore', 'mtls_truststore', '--cert-file', 'RootCA.pem', ...e])
    }
    await ok(['aliases', 'add', 'b_alias', '--keystore', 'mtls_keystore', '--cert-file', 'my_gateway.pem', '--key-file', 'my_gateway.key'])
    await ok(['keystores', 'create', 'b_truststore'])
    await ok(['aliases', 'add', 'b_ca', '--keystore', 'b_truststore', '--cert-file', 'RootCA.pem'])
    await ok(['references', 'create', 'b_truststore_ref', '--refers', 'b_truststore', '--resource-type', 'TrustStore'])

    // The seed's proxy in front of A; a second one in front of B, reaching its truststore through a reference.
    src = writeArchive(
      path.join(dir, 'archive'),
      'dev',
      [target('mymtlstarget', backendA.port, 'mtls_alias', 'mtls_truststore'), target('backend2', backendB.port, 'b_alias', 'ref://b_truststore_ref')],
      [
        {name: 'helloworld', target: 'mymtlstarget'},
        {name: 'second', target: 'backend2'},
      ],
    )
    await ok(['archives', 'deploy', '--source', src])
    const first = (await ok(['archives', 'list', '--format', 'value(archiveId)'])).stdout.trim().split('\n')[0]

    if (mode === 'local') {
      runtime = await startRuntime(home, ['--workers', '2'], {cwd: certs})
      const rt = runtime
      served = {
        port: rt.port,
        mark: () => rt.stderr().length,
        waitForDeployment: async (env, id, from) => void (await rt.waitFor(new RegExp(`Serving myorg-${env}: archive deployment \\S*\\b${id} `), from)),
        stop: () => rt.stop(),
      }
    } else {
      const em = emulator as RunningEmulator
      const stderr = em.proc.stderr as NodeJS.ReadableStream
      await waitOnStream(stderr, em.stderr, /Runtime listening on http:\/\/127\.0\.0\.1:\d+\//, 0)
      const port = Number(/Runtime listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(em.stderr())![1])
      served = {
        port,
        mark: () => em.stderr().length,
        waitForDeployment: (env, id, from) => waitOnStream(stderr, em.stderr, new RegExp(`Serving myorg-${env}: archive deployment \\S*\\b${id} `), from),
        stop: () => em.stop(),
      }
    }
    await served.waitForDeployment('dev', first, 0)
  }, 120_000)

  afterAll(async () => {
    await served?.stop()
    await Promise.all([backendA?.stop(), backendB?.stop()])
    rmTemp(dir)
  })

  it('aliases rotate --ca: before, nginx sees the old client certificate; after, the renewed one, from the new deployment', async () => {
    const before = await call(served.port, '/helloworld/before')
    expect(before).toMatchObject({status: 200, body: HELLO})
    const oldSerial = serialOfPem(fs.readFileSync(path.join(certs, 'my_gateway.pem'), 'utf8'))
    await backendA.waitForLine(`${oldSerial} /before 200`)

    const mark = served.mark()
    const rotated = await ok(['aliases', 'rotate', 'mtls_alias', '--keystore', 'mtls_keystore', '--source', src, '--ca', 'RootCA', '--format', 'json'])
    const result = JSON.parse(rotated.stdout)
    const newAlias = dated('mtls_alias', result.newAlias)
    expect(result).toMatchObject({organization: 'myorg', environment: 'dev', keystore: 'mtls_keystore', oldAlias: 'mtls_alias', newAlias, targetServers: ['mymtlstarget'], oldDeleted: false})
    // The plan and the diff on stderr, then gcloud's progress line.
    expect(rotated.stderr).toContain('mymtlstarget: sSLInfo.keyAlias mtls_alias -> ' + newAlias)
    expect(rotated.stderr).toContain(`-      "keyAlias": "mtls_alias",\n+      "keyAlias": "${newAlias}",\n`)
    expect(rotated.stderr).toMatch(/Waiting for operation \[[0-9a-f-]+\] to complete\.\.\.\n\.+done\.\n/)

    // The renewed certificate: same subject, SANs and usage; a new key and serial.
    const described = JSON.parse((await ok(['aliases', 'describe', newAlias, '--keystore', 'mtls_keystore', '--format', 'json'])).stdout)
    const info = described.certsInfo.certInfo[0]
    expect(info.subject).toBe('CN=gateway')
    expect(info.subjectAlternativeNames).toEqual(['gateway.example.com'])
    expect(nginxSerial(info.serialNumber)).not.toBe(oldSerial)
    expect(result.newAliases[0].serialNumber).toBe(info.serialNumber)

    // The deployment list shows the new deployment, deployed, first.
    const rows = JSON.parse((await ok(['archives', 'list', '--format', 'json'])).stdout)
    expect(rows[0]).toMatchObject({archiveId: result.archiveDeployment, operationStatus: 'Deployed'})
    expect(fs.readFileSync(path.join(src, 'main/apigee/environments/dev/targetservers.json'), 'utf8')).toContain(`"keyAlias": "${newAlias}"`)

    await served.waitForDeployment('dev', result.archiveDeployment, mark)
    expect(await call(served.port, '/helloworld/after')).toMatchObject({status: 200, body: HELLO})
    await backendA.waitForLine(`${nginxSerial(info.serialNumber)} /after 200`)
    // The other target server names another alias: left as it was.
    expect(fs.readFileSync(path.join(src, 'main/apigee/environments/dev/targetservers.json'), 'utf8')).toContain('"keyAlias": "b_alias"')
  }, 60_000)

  it('keystores rotate: before, the old truststore refuses the backend; after, the new keystore (through a new reference) trusts it', async () => {
    const before = await call(served.port, '/second/before')
    expect(before.status).toBe(503)
    expect(before.body).toContain('CERTIFICATE_VERIFY_FAILED')

    const mark = served.mark()
    const rotated = await ok(['keystores', 'rotate', 'b_truststore', '--new-keystore', 'b_truststore2', '--source', src, '--ca', 'RootCA2', '--delete-old', '--format', 'json'])
    const result = JSON.parse(rotated.stdout)
    const newRef = dated('b_truststore_ref', result.newReferences[0])
    expect(result).toMatchObject({keystore: 'b_truststore', newKeystore: 'b_truststore2', newReferences: [newRef], targetServers: ['backend2'], oldDeleted: true, deletedReferences: ['b_truststore_ref']})
    expect(result.newAliases).toEqual([expect.objectContaining({keystore: 'b_truststore2', alias: 'RootCA2', type: 'CERT', subject: 'CN=my-ca-2'})])
    expect(rotated.stderr).toContain(`backend2: sSLInfo.trustStore ref://b_truststore_ref -> ref://${newRef}`)
    expect(rotated.stderr).toContain(`New reference:  ${newRef} -> b_truststore2 (TrustStore), replacing b_truststore_ref`)

    const rows = JSON.parse((await ok(['archives', 'list', '--format', 'json'])).stdout)
    expect(rows[0]).toMatchObject({archiveId: result.archiveDeployment, operationStatus: 'Deployed'})
    expect(JSON.parse((await ok(['references', 'describe', newRef, '--format', 'json'])).stdout)).toMatchObject({refers: 'b_truststore2', resourceType: 'TrustStore'})
    expect((await cli(['keystores', 'describe', 'b_truststore'])).code).toBe(1)

    await served.waitForDeployment('dev', result.archiveDeployment, mark)
    expect(await call(served.port, '/second/after')).toMatchObject({status: 200, body: HELLO})
    // The client certificate B saw: the b_alias it always presented.
    await backendB.waitForLine(`${serialOfPem(fs.readFileSync(path.join(certs, 'my_gateway.pem'), 'utf8'))} /after 200`)
  }, 60_000)

  it('--dry-run prints the plan and the diff, and changes nothing: state and source folders byte-identical, no lock or temporary file', async () => {
    const state = snapshot(stateFolder())
    const source = snapshot(src)
    const entries = entriesBelow(src).sort()
    const dry = await ok(['aliases', 'rotate', 'b_alias', '--keystore', 'mtls_keystore', '--source', src, '--ca', 'RootCA', '--new-alias', 'b_alias_next', '--dry-run'])
    expect(dry.stdout).toContain('Rotating alias [b_alias] of keystore [mtls_keystore] in environment [dev] (organization myorg): dry run, nothing is made, changed or deployed.')
    expect(dry.stdout).toContain('backend2: sSLInfo.keyAlias b_alias -> b_alias_next')
    expect(dry.stdout).toContain('+++ b/main/apigee/environments/dev/targetservers.json')
    expect(dry.stdout).toContain('-      "keyAlias": "b_alias",\n+      "keyAlias": "b_alias_next",')
    const dryTs = await ok(['keystores', 'rotate', 'mtls_truststore', '--new-keystore', 'next_truststore', '--source', src, '--cert-file', 'RootCA2.pem', '--dry-run', '--format', 'json'])
    expect(JSON.parse(dryTs.stdout)).toMatchObject({kind: 'keystore', newKeystore: 'next_truststore', newAliases: [{alias: 'RootCA2'}], problems: []})
    expect(snapshot(stateFolder())).toEqual(state)
    expect(snapshot(src)).toEqual(source)
    expect(entriesBelow(src).sort()).toEqual(entries)
    expect((await cli(['aliases', 'describe', 'b_alias_next', '--keystore', 'mtls_keystore'])).code).toBe(1)
  }, 60_000)

  it('a rotation that cannot deploy (the target server names a missing truststore) leaves the source byte-identical, makes nothing, exit 1', async () => {
    const bad = writeArchive(path.join(dir, 'bad'), 'fmt', [target('broken', backendA.port, 'mtls_alias', 'no_such_truststore')], [{name: 'helloworld', target: 'broken'}])
    const before = snapshot(path.join(dir, 'bad'))
    const entries = entriesBelow(path.join(dir, 'bad')).sort()
    const r = await cli(['aliases', 'rotate', 'mtls_alias', '--keystore', 'mtls_keystore', '--environment', 'fmt', '--source', bad, '--ca', 'RootCA', '--new-alias', 'never_made'])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('ERROR: (mtlsctl.aliases.rotate) FAILED_PRECONDITION: Preflight found 1 problem(s)')
    expect(r.stderr).toContain('; nothing was made or deployed.')
    expect(r.stderr).toContain('missing required certificate(s) for truststore "organizations/myorg/environments/fmt/keystores/no_such_truststore"')
    expect(snapshot(path.join(dir, 'bad'))).toEqual(before)
    expect(entriesBelow(path.join(dir, 'bad')).sort()).toEqual(entries)
    expect((await cli(['aliases', 'describe', 'never_made', '--keystore', 'mtls_keystore', '--environment', 'fmt'])).code).toBe(1)
    expect(JSON.parse((await ok(['archives', 'list', '--environment', 'fmt', '--format', 'json'])).stdout)).toEqual([])
  }, 60_000)

  it('a rotation that stops after making something says what it made (kept) and that the source is unchanged, exit 1', async () => {
    await certWithValidity(certs, 'expired', new Date(Date.now() - 400 * 86_400_000), new Date(Date.now() - 86_400_000))
    const before = snapshot(src)
    // The keystore and its first certificate are made; the expired second one is refused.
    const r = await cli(['keystores', 'rotate', 'mtls_truststore', '--new-keystore', 'half_made', '--source', src, '--cert-file', 'RootCA.pem', '--cert-file', 'expired.pem'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('The rotation stopped at making the new resources: made and kept: keystore [half_made] (harmless: no deployment names them;')
    expect(r.stderr).toContain(`; ${src} is unchanged.\n`)
    expect(r.stderr).toContain('ERROR: (mtlsctl.keystores.rotate) INVALID_ARGUMENT: Certificate has expired: the certificate in expired.pem expired on')
    expect(snapshot(src)).toEqual(before)
    expect(JSON.parse((await ok(['keystores', 'describe', 'half_made', '--format', 'json'])).stdout).aliases).toEqual(['RootCA'])
    // Rotating again with the same name is refused, naming the flag that chooses another.
    const again = await cli(['keystores', 'rotate', 'mtls_truststore', '--new-keystore', 'half_made', '--source', src, '--cert-file', 'RootCA.pem'])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('ALREADY_EXISTS: Keystore "half_made" already exists.\nGive --new-keystore with a name not taken')
  }, 60_000)

  it('usage errors exit 2 before anything is asked or read', async () => {
    const none = await cli(['aliases', 'rotate', 'mtls_alias', '--keystore', 'mtls_keystore', '--source', src])
    expect(none).toMatchObject({code: 2, stdout: ''})
    expect(none.stderr).toContain('Missing the new certificate: give one of --ca, --cert-file or --p12-file.')
    const two = await cli(['aliases', 'rotate', 'mtls_alias', '--keystore', 'mtls_keystore', '--source', src, '--ca', 'RootCA', '--cert-file', 'my_gateway2.pem'])
    expect(two.code).toBe(2)
    expect(two.stderr).toContain('Give exactly one alias source, not --ca and --cert-file.')
    const noSource = await cli(['aliases', 'rotate', 'mtls_alias', '--keystore', 'mtls_keystore', '--ca', 'RootCA'])
    expect(noSource.code).toBe(2)
    expect(noSource.stderr).toContain('Missing required flag --source.')
    const ks = await cli(['keystores', 'rotate', 'mtls_truststore', '--source', src, '--cert-file', 'RootCA2.pem'])
    expect(ks.code).toBe(2)
    expect(ks.stderr).toContain('Missing required flag --new-keystore.')
  }, 60_000)

  it('keeps the file byte for byte: 4-space indentation, unusual key order, several target servers; the diff is exactly one value', async () => {
    const text = `[
    {
        "sSLInfo": {
            "trustStore": "mtls_truststore",
            "keyAlias": "mtls_alias",
            "clientAuthEnabled": true,
            "keyStore": "mtls_keystore",
            "enabled": true
        },
        "port": ${backendA.port},
        "name": "uses-it",
        "host": "127.0.0.1"
    },
    {
        "name": "other-alias",   "host": "127.0.0.1", "port": ${backendA.port},
        "sSLInfo": {"keyStore": "mtls_keystore", "enabled": true, "keyAlias": "b_alias", "clientAuthEnabled": true, "trustStore": "mtls_truststore"}
    },
    {
        "isEnabled": false,
        "host": "example.com",
        "name": "plain",
        "port": 80
    }
]
`
    const fmtSrc = writeArchive(path.join(dir, 'fmt'), 'fmt', text, [{name: 'fmtproxy', target: 'uses-it'}])
    const file = path.join(fmtSrc, 'main/apigee/environments/fmt/targetservers.json')
    fs.chmodSync(file, 0o640)
    const r = await ok(['aliases', 'rotate', 'mtls_alias', '--keystore', 'mtls_keystore', '--environment', 'fmt', '--source', fmtSrc, '--cert-file', 'my_gateway2.pem', '--key-file', 'my_gateway2.key', '--new-alias', 'gw2'])
    const after = fs.readFileSync(file, 'utf8')
    expect(after).toBe(text.replace('"keyAlias": "mtls_alias"', '"keyAlias": "gw2"'))
    expect(fs.statSync(file).mode & 0o777).toBe(0o640)
    const changed = r.stderr.split('\n').filter((l) => /^[-+]/.test(l) && !/^(---|\+\+\+) /.test(l))
    expect(changed).toEqual(['-            "keyAlias": "mtls_alias",', '+            "keyAlias": "gw2",'])
    expect(entriesBelow(path.join(dir, 'fmt')).filter((e) => e.includes('.tmp') || e.includes('.lock'))).toEqual([])
  }, 60_000)

  it('two rotations of different aliases of one keystore, on one source folder, at once: both land, the last deployment carries both', async () => {
    const e = ['--environment', 'cc']
    await ok(['aliases', 'add', 'cc_a', '--keystore', 'mtls_keystore', '--cert-file', 'my_gateway.pem', '--key-file', 'my_gateway.key', ...e])
    await ok(['aliases', 'add', 'cc_b', '--keystore', 'mtls_keystore', '--cert-file', 'my_gateway.pem', '--key-file', 'my_gateway.key', ...e])
    const ccSrc = writeArchive(
      path.join(dir, 'cc'),
      'cc',
      [target('cc1', backendA.port, 'cc_a', 'mtls_truststore'), target('cc2', backendA.port, 'cc_b', 'mtls_truststore')],
      [
        {name: 'ccone', target: 'cc1'},
        {name: 'cctwo', target: 'cc2'},
      ],
    )
    await ok(['archives', 'deploy', '--source', ccSrc, ...e])
    const [a, b] = await Promise.all([
      cli(['aliases', 'rotate', 'cc_a', '--keystore', 'mtls_keystore', '--source', ccSrc, '--ca', 'RootCA', '--delete-old', '--format', 'json', ...e]),
      cli(['aliases', 'rotate', 'cc_b', '--keystore', 'mtls_keystore', '--source', ccSrc, '--ca', 'RootCA', '--delete-old', '--format', 'json', ...e]),
    ])
    expect(a.code, a.stderr).toBe(0)
    expect(b.code, b.stderr).toBe(0)
    const newA = dated('cc_a', JSON.parse(a.stdout).newAlias)
    const newB = dated('cc_b', JSON.parse(b.stdout).newAlias)
    const file = fs.readFileSync(path.join(ccSrc, 'main/apigee/environments/cc/targetservers.json'), 'utf8')
    expect(file).toContain(`"keyAlias": "${newA}"`)
    expect(file).toContain(`"keyAlias": "${newB}"`)
    const deployments = [JSON.parse(a.stdout).archiveDeployment, JSON.parse(b.stdout).archiveDeployment]
    const rows = JSON.parse((await ok(['archives', 'list', '--format', 'json', ...e])).stdout)
    expect(rows).toHaveLength(3)
    expect(rows.slice(0, 2).map((r: {archiveId: string}) => r.archiveId).sort()).toEqual([...deployments].sort())
    // The latest deployment uses both new aliases (where-used reads its zip); both old ones are deleted.
    for (const [alias, server] of [[newA, 'cc1'], [newB, 'cc2']]) {
      const described = JSON.parse((await ok(['aliases', 'describe', alias, '--keystore', 'mtls_keystore', '--format', 'json', ...e])).stdout)
      expect(described.usedBy, alias).toEqual([expect.objectContaining({environment: 'cc', archiveDeployment: rows[0].archiveId, targetServer: server})])
    }
    expect(JSON.parse(a.stdout).oldDeleted && JSON.parse(b.stdout).oldDeleted).toBe(true)
    expect(fs.existsSync(path.join(ccSrc, '.mtlsctl-rotate.lock'))).toBe(false)
  }, 90_000)
})
