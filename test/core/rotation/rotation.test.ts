import {spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import type {AliasSource} from '../../../src/core/alias-sources.js'
import {addAlias} from '../../../src/core/aliases.js'
import type {ApigeeApi} from '../../../src/core/apigee/api.js'
import {LocalApigee} from '../../../src/core/apigee/local.js'
import {encodePrivateKey} from '../../../src/core/ca/keys.js'
import {createEnvironment} from '../../../src/core/environments.js'
import {createKeystore} from '../../../src/core/keystores.js'
import type {Operation} from '../../../src/core/operations.js'
import {createReference} from '../../../src/core/references.js'
import {
  dateSuffix,
  editTargetServers,
  lockSourceFolder,
  planAliasRotation,
  renewalOf,
  rotateAlias,
  RotationFailed,
  SOURCE_LOCK,
  unifiedDiff,
} from '../../../src/core/rotation/index.js'
import {FileStore} from '../../../src/core/store/index.js'
import {makeCa, makeCert, type TestCert} from '../../helpers/ca.js'
import {rmTemp, tempDir} from '../../helpers/cli.js'
import {refusal} from '../../helpers/errors.js'
import {entriesBelow, snapshot} from '../../helpers/openssl.js'

describe('editTargetServers: byte-preserving rewrites', () => {
  const text = [
    '\uFEFF[\r',
    '    {"sSLInfo": {"keyAlias": "mtls\\u005falias", "keyStore": "ks", "enabled": true},  "name": "a"},\r',
    '    {\r',
    '        "name" : "b",\r',
    '        "sSLInfo" : { "keyStore":"ks" ,"keyAlias" :"mtls_alias" , "keyAlias": "last_wins" }\r',
    '    }\r',
    ']\r',
    '',
  ].join('\n')

  it('replaces only the named values: BOM, CRLF, spacing, escapes elsewhere and key order kept', async () => {
    const after = await editTargetServers(text, [{index: 0, field: 'keyAlias', to: 'new_alias'}], 'f.json')
    expect(after).toBe(text.replace('"mtls\\u005falias"', '"new_alias"'))
  })

  it('a repeated key: the last one, the one JSON.parse keeps, is the one changed', async () => {
    const after = await editTargetServers(text, [{index: 1, field: 'keyAlias', to: 'x'}], 'f.json')
    expect(after).toBe(text.replace('"last_wins"', '"x"'))
    expect(JSON.parse(after.slice(1))[1].sSLInfo.keyAlias).toBe('x')
  })

  it('refuses an edit of a value that is not there, changing nothing', async () => {
    await refusal(editTargetServers(text, [{index: 0, field: 'trustStore', to: 'x'}], 'f.json'), 'INTERNAL')
  })

  it('the diff: file headers and one hunk with three lines of context', async () => {
    const before = '[\n  1,\n  2,\n  3,\n  4,\n  5\n]\n'
    expect(await unifiedDiff('x/t.json', before, before.replace('3', '9'))).toBe(
      '--- a/x/t.json\n+++ b/x/t.json\n@@ -1,7 +1,7 @@\n [\n   1,\n   2,\n-  3,\n+  9,\n   4,\n   5\n ]\n',
    )
  })
})

describe('renewalOf: what the renewed certificate keeps', () => {
  it('keeps the subject (its DER), SANs, key type and usage; the validity length by default', async () => {
    const ca = await makeCa('ca')
    const cert = await makeCert(ca, 'gw', {usage: 'client', sans: 'DNS:gw.example.com,IP:10.0.0.1', notBefore: new Date(Date.now() - 86_400_000), notAfter: new Date(Date.now() + 89 * 86_400_000)})
    const spec = await renewalOf(cert.pem, 'the alias')
    expect(spec.subjectDer.equals(cert.certificate.subjectDer)).toBe(true)
    expect(spec.renewal).toMatchObject({subject: 'CN=gw', sans: ['DNS:gw.example.com', 'IP:10.0.0.1'], keyType: 'ec-p256', usage: 'client', days: 90, notes: []})
    expect((await renewalOf(cert.pem, 'the alias', {days: 30, keyType: 'rsa-3072'})).renewal).toMatchObject({days: 30, keyType: 'rsa-3072'})
  })

  it('a certificate for both usages stays for both', async () => {
    const ca = await makeCa('ca')
    expect((await renewalOf((await makeCert(ca, 'gw', {usage: 'both'})).pem, 'a')).renewal.usage).toBe('both')
  })
})

describe('rotation engine (local engine)', () => {
  let dir: string
  let store: FileStore
  let api: LocalApigee
  let gateway: TestCert
  let gateway2: TestCert
  let source: string
  let file: string
  const keycert = (c: TestCert, name: string): AliasSource => ({
    format: 'keycertfile',
    cert: Buffer.from(c.pem),
    certFile: `${name}.pem`,
    key: Buffer.from(encodePrivateKey(c.privateKey)),
    keyFile: `${name}.key`,
  })
  const targets = [
    {name: 'direct', host: 'a', port: 443, sSLInfo: {enabled: true, clientAuthEnabled: true, keyStore: 'ks', keyAlias: 'gw', trustStore: 'ts'}},
    {name: 'viaref', host: 'b', port: 443, sSLInfo: {enabled: true, clientAuthEnabled: true, keyStore: 'ref://ks_ref', keyAlias: 'gw', trustStore: 'ts'}},
    {name: 'other', host: 'c', port: 443, sSLInfo: {enabled: true, clientAuthEnabled: true, keyStore: 'ks', keyAlias: 'other', trustStore: 'ts'}},
  ]

  beforeEach(async () => {
    dir = tempDir('mtlsctl-rotation-')
    store = new FileStore(path.join(dir, 'state'))
    api = new LocalApigee(store)
    const ca = await makeCa('ca')
    gateway = await makeCert(ca, 'gw', {usage: 'client'})
    gateway2 = await makeCert(ca, 'gw2', {usage: 'client'})
    await createEnvironment(store, 'o', 'dev')
    for (const ks of ['ks', 'ts']) await createKeystore(store, 'o', 'dev', ks)
    await addAlias(store, 'o', 'dev', 'ks', 'gw', keycert(gateway, 'gw'))
    await addAlias(store, 'o', 'dev', 'ks', 'other', keycert(gateway, 'gw'))
    await addAlias(store, 'o', 'dev', 'ts', 'ca', {format: 'keycertfile', cert: Buffer.from(ca.pem), certFile: 'ca.pem'})
    await createReference(store, 'o', 'dev', 'ks_ref', {refers: 'ks', resourceType: 'KeyStore'})
    source = path.join(dir, 'src')
    const root = path.join(source, 'main/apigee')
    fs.mkdirSync(path.join(root, 'environments/dev'), {recursive: true})
    fs.mkdirSync(path.join(root, 'environments/prod'), {recursive: true})
    fs.mkdirSync(path.join(root, 'apiproxies/p'), {recursive: true})
    file = path.join(root, 'environments/dev/targetservers.json')
    fs.writeFileSync(file, JSON.stringify(targets, null, 2))
    fs.writeFileSync(path.join(root, 'environments/prod/targetservers.json'), JSON.stringify([targets[0]]))
    fs.writeFileSync(path.join(root, 'apiproxies/p/config.yaml'), 'operations:\n  - target: {target_server_id: direct}\n  - target: {target_server_id: viaref}\n  - target: {target_server_id: other}\n')
  })

  afterEach(() => rmTemp(dir))

  // One fixed instant for the plan and the expectations: the -YYYYMMDD suffix cannot change between them.
  const now = new Date()
  const request = (extra: object = {}) => ({org: 'o', env: 'dev', source, keystore: 'ks', alias: 'gw', from: {kind: 'source' as const, source: keycert(gateway2, 'gw2')}, now, ...extra})

  it('plans: the target servers naming the alias (directly or through a reference to its keystore), the reference kept, other environments left alone', async () => {
    const {plan} = await planAliasRotation(api, request())
    const newAlias = `gw-${dateSuffix(now)}`
    expect(plan.newAlias).toBe(newAlias)
    expect(plan.targetServers).toEqual([
      {targetServer: 'direct', field: 'keyAlias', from: 'gw', to: newAlias},
      {targetServer: 'viaref', field: 'keyAlias', from: 'gw', to: newAlias, reference: 'ks_ref'},
    ])
    expect(plan.leftAlone).toEqual([expect.objectContaining({file: 'main/apigee/environments/prod/targetservers.json', targetServer: 'direct'})])
    expect(plan.notes.join(' ')).toContain('keep it: the reference still names the same keystore')
    expect(plan.problems).toEqual([])
    expect(plan.deployment.proxies).toEqual([{name: 'p', revision: 1}])
  })

  it('refuses a default name already taken (ALREADY_EXISTS naming --new-alias), and a source where nothing names the alias', async () => {
    await addAlias(store, 'o', 'dev', 'ks', `gw-${dateSuffix(now)}`, keycert(gateway2, 'gw2'))
    expect((await refusal(planAliasRotation(api, request()), 'ALREADY_EXISTS')).hint).toContain('--new-alias')
    await addAlias(store, 'o', 'dev', 'ks', 'unused', keycert(gateway2, 'gw2'))
    const none = await refusal(planAliasRotation(api, request({alias: 'unused', newAlias: 'n'})), 'FAILED_PRECONDITION')
    expect(none.message).toContain('No target server in main/apigee/environments/dev/targetservers.json names alias "unused" of keystore "ks"')
  })

  it('a deployment that fails after the alias was made: the source folder untouched, the new alias reported and kept', async () => {
    const failing: ApigeeApi = Object.assign(Object.create(api), {
      deployArchive: async (): Promise<Operation> => ({
        name: 'organizations/o/operations/00000000-0000-4000-8000-000000000000',
        metadata: {'@type': 'type.googleapis.com/google.cloud.apigee.v1.OperationMetadata', operationType: 'INSERT', state: 'FINISHED', targetResourceName: 'x'},
        done: true,
        error: {code: 3, message: 'generic::invalid_argument: the backend said no'},
      }),
    })
    const before = snapshot(source)
    const entries = entriesBelow(source).sort()
    const error = (await rotateAlias(failing, request({newAlias: 'gw_next'})).catch((e: unknown) => e)) as RotationFailed
    expect(error).toBeInstanceOf(RotationFailed)
    expect(error.stage).toBe('deploy')
    expect(error.made).toEqual([{kind: 'alias', name: 'gw_next', keystore: 'ks'}])
    expect((error.reason as Error).message).toBe('generic::invalid_argument: the backend said no')
    expect(snapshot(source)).toEqual(before)
    expect(entriesBelow(source).sort()).toEqual(entries)
    expect((await api.getAlias('o', 'dev', 'ks', 'gw_next')).type).toBe('KEY_CERT')
  })

  it('a file changed while the rotation ran is not overwritten: the change to make is given instead', async () => {
    const editing: ApigeeApi = Object.assign(Object.create(api), {
      deployArchive: async (...args: Parameters<ApigeeApi['deployArchive']>) => {
        fs.appendFileSync(file, '\n')
        return api.deployArchive(...args)
      },
    })
    const error = (await rotateAlias(editing, request({newAlias: 'gw_next'})).catch((e: unknown) => e)) as RotationFailed
    expect(error.stage).toBe('write')
    expect((error.reason as Error).message).toContain('changed while the rotation ran: it was not written')
    expect((error.reason as Error).message).toContain('+      "keyAlias": "gw_next"')
    expect(fs.readFileSync(file, 'utf8')).toBe(`${JSON.stringify(targets, null, 2)}\n`)
  })

  it('rotates, writes the file atomically (mode kept), and with deleteOld deletes the old alias once unused', async () => {
    fs.chmodSync(file, 0o600)
    const result = await rotateAlias(api, request({newAlias: 'gw_next', deleteOld: true}))
    expect(result).toMatchObject({newAlias: 'gw_next', targetServers: ['direct', 'viaref'], oldDeleted: true})
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).map((t: {sSLInfo: {keyAlias: string}}) => t.sSLInfo.keyAlias)).toEqual(['gw_next', 'gw_next', 'other'])
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    await refusal(api.getAlias('o', 'dev', 'ks', 'gw'), 'NOT_FOUND')
    expect(fs.readdirSync(path.dirname(file))).toEqual(['targetservers.json'])
    expect(fs.existsSync(path.join(source, SOURCE_LOCK))).toBe(false)
  })
})

describe('lockSourceFolder', () => {
  let dir: string
  beforeEach(() => {
    dir = tempDir('mtlsctl-source-lock-')
  })
  afterEach(() => rmTemp(dir))

  it('a second taker waits for the first to release it, and is told who holds it', async () => {
    const release = await lockSourceFolder(dir)
    const told: number[] = []
    let second = false
    const waiting = lockSourceFolder(dir, {onWait: (h) => told.push(h.pid)}).then((r) => {
      second = true
      return r
    })
    await new Promise((r) => setImmediate(r))
    expect(second).toBe(false)
    release()
    ;(await waiting)()
    expect(told).toEqual([process.pid])
    expect(fs.readdirSync(dir)).toEqual([])
  })

  it("a dead owner's lock is taken over", async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {encoding: 'utf8'}).stdout
    fs.writeFileSync(path.join(dir, SOURCE_LOCK), `${dead}\n${os.hostname()}\ntoken\n`)
    const release = await lockSourceFolder(dir, {timeoutMs: 2000})
    expect(fs.readFileSync(path.join(dir, SOURCE_LOCK), 'utf8')).toContain(`${process.pid}\n`)
    release()
    expect(fs.readdirSync(dir)).toEqual([])
  })
})
