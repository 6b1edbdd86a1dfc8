import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {createArchiveDeployment, getApiProxy, runArchiveDeployment, validateArchiveFiles} from '../../../src/core/archives/deployments.js'
import {parseJsonFile, parseYamlFile} from '../../../src/core/archives/parse.js'
import {readSource, unzipArchive, zipArchive} from '../../../src/core/archives/source.js'
import {createEnvironment} from '../../../src/core/environments.js'
import {createOperation, getOperation, holdOperation, waitOperation} from '../../../src/core/operations.js'
import {FileStore} from '../../../src/core/store/index.js'
import {rmTemp, tempDir} from '../../helpers/cli.js'

let dir: string
let store: FileStore
beforeEach(async () => {
  dir = tempDir()
  store = new FileStore(path.join(dir, 'state'))
  await createEnvironment(store, 'o', 'dev')
})
afterEach(() => rmTemp(dir))

const day = 86_400_000
const info = (from: number, to: number) => ({certInfo: [{validFrom: String(from), expiryDate: String(to)}]})
async function alias(ks: string, id: string, type: 'CERT' | 'KEY_CERT', from = Date.now() - day, to = Date.now() + day) {
  await store.create(`organizations/o/environments/dev/keystores/${ks}`, {name: ks})
  await store.create(`organizations/o/environments/dev/keystores/${ks}/aliases/${id}`, {alias: id, type, certsInfo: info(from, to)})
}

function files(targets: unknown, proxies: Record<string, string[]>): Map<string, Buffer> {
  const map = new Map<string, Buffer>()
  map.set('environments/dev/targetservers.json', Buffer.from(JSON.stringify(targets)))
  for (const [api, ids] of Object.entries(proxies)) {
    map.set(`apiproxies/${api}/config.yaml`, Buffer.from(`operations:\n${ids.map((id) => `  - id: x\n    target:\n      target_server_id: ${id}\n`).join('')}`))
  }
  return map
}
const tls = (ssl: object) => ({name: 't', host: 'h', port: 1, sSLInfo: {enabled: true, ...ssl}})
const prefix = 'generic::invalid_argument: proxy "organizations/o/apis/a/revisions/1" contains reference(s) to invalid target server(s): target server "t" contains invalid TLS settings: '

describe('archive validation (engine)', () => {
  it('passes a complete configuration and ignores target servers without TLS', async () => {
    await alias('ks', 'key', 'KEY_CERT')
    await alias('ts', 'ca', 'CERT')
    const r = await validateArchiveFiles(store, 'o', 'dev', files([tls({clientAuthEnabled: true, keyStore: 'ks', keyAlias: 'key', trustStore: 'ts'}), {name: 'plain', host: 'h', port: 80}], {a: ['t', 'plain']}))
    expect(r).toEqual({proxies: [{name: 'a', revision: 1}], problems: [], message: ''})
  })

  it('a certificate-only key alias lacks only the private key', async () => {
    await alias('ks', 'ca', 'CERT')
    const r = await validateArchiveFiles(store, 'o', 'dev', files([tls({clientAuthEnabled: true, keyStore: 'ks', keyAlias: 'ca'})], {a: ['t']}))
    expect(r.message).toBe(`${prefix}missing required private key for "alias \\"organizations/o/environments/dev/keystores/ks/aliases/ca\\""`)
  })

  it('names expired and not-yet-valid certificates, key alias before truststore', async () => {
    await alias('ks', 'key', 'KEY_CERT', Date.now() - 2 * day, Date.now() - day)
    await alias('ts', 'ca', 'CERT', Date.now() + day, Date.now() + 2 * day)
    const r = await validateArchiveFiles(store, 'o', 'dev', files([tls({clientAuthEnabled: true, keyStore: 'ks', keyAlias: 'key', trustStore: 'ts'})], {a: ['t']}))
    expect(r.message).toBe(
      `${prefix}keystore "organizations/o/environments/dev/keystores/ks" contains an invalid certificate within alias "organizations/o/environments/dev/keystores/ks/aliases/key": certificate has expired; ` +
        'truststore "organizations/o/environments/dev/keystores/ts" contains an invalid certificate within alias "organizations/o/environments/dev/keystores/ts/aliases/ca": certificate is not yet valid',
    )
  })

  it('an empty truststore holds no certificate; clientAuth needs keyStore and keyAlias', async () => {
    await store.create('organizations/o/environments/dev/keystores/empty', {name: 'empty'})
    const r = await validateArchiveFiles(store, 'o', 'dev', files([tls({clientAuthEnabled: true, keyStore: 'x', trustStore: 'empty'})], {a: ['t']}))
    expect(r.message).toBe(`${prefix}clientAuthEnabled requires both keyStore and keyAlias; missing required certificate(s) for truststore "organizations/o/environments/dev/keystores/empty"`)
  })

  it('orders several proxies and target servers by name, deployments.json choosing the proxies', async () => {
    const targets = [tls({trustStore: 'nope'}), {...tls({trustStore: 'gone'}), name: 's'}]
    const f = files(targets, {b: ['t'], a: ['t', 's'], c: ['t']})
    f.set('environments/dev/deployments.json', Buffer.from(JSON.stringify({proxies: [{name: 'b'}, {name: 'a'}]})))
    const r = await validateArchiveFiles(store, 'o', 'dev', f)
    expect(r.proxies.map((p) => p.name)).toEqual(['a', 'b'])
    expect(r.message).toBe(
      'generic::invalid_argument: proxy "organizations/o/apis/a/revisions/1" contains reference(s) to invalid target server(s): ' +
        'target server "s" contains invalid TLS settings: missing required certificate(s) for truststore "organizations/o/environments/dev/keystores/gone"; ' +
        'target server "t" contains invalid TLS settings: missing required certificate(s) for truststore "organizations/o/environments/dev/keystores/nope"; ' +
        'proxy "organizations/o/apis/b/revisions/1" contains reference(s) to invalid target server(s): target server "t" contains invalid TLS settings: missing required certificate(s) for truststore "organizations/o/environments/dev/keystores/nope"',
    )
  })

  it('an environment folder that is not --environment is a problem', async () => {
    const f = new Map([['environments/prod/targetservers.json', Buffer.from('[]')]])
    const r = await validateArchiveFiles(store, 'o', 'dev', f)
    expect(r.message).toBe('generic::invalid_argument: archive has no environments/dev folder for environment "organizations/o/environments/dev" (it has: prod)')
  })

  it('a deployment runs as an operation; success records the revision', async () => {
    await alias('ts', 'ca', 'CERT')
    const zip = await zipArchive(files([tls({trustStore: 'ts'})], {a: ['t']}))
    const {deployment, operation} = await createArchiveDeployment(store, 'o', 'dev', zip, {workerPid: process.pid})
    expect(operation.metadata).toMatchObject({state: 'IN_PROGRESS', operationType: 'INSERT', targetResourceName: deployment.name})
    const done = await runArchiveDeployment(store, 'o', deployment.name)
    expect(done).toMatchObject({done: true, metadata: {state: 'FINISHED'}})
    expect(done.error).toBeUndefined()
    expect(await getApiProxy(store, 'o', 'a')).toEqual({name: 'a', revision: ['1'], latestRevisionId: '1'})
  })
})

describe('operations (engine)', () => {
  it('an operation whose lease ran out finishes with INTERNAL', async () => {
    process.env.MTLSCTL_OPERATION_LEASE_MS = '1'
    try {
      const op = await createOperation(store, 'o', 'INSERT', 'organizations/o/environments/dev/archiveDeployments/x', {pid: 999_999})
      const uuid = op.name.split('/').pop() as string
      await waitOperation(store, 'o', uuid, {initialDelayMs: 5})
      const finished = await getOperation(store, 'o', uuid)
      expect(finished.error).toEqual({code: 13, message: 'The process working on this operation (pid 999999) stopped before finishing it.'})
      expect(await holdOperation(store, op.name)).toBe(false)
    } finally {
      delete process.env.MTLSCTL_OPERATION_LEASE_MS
    }
  })

  it('a deployment that fails on something nothing anticipated: INTERNAL, and no file system path in the operation', async () => {
    const {deployment} = await createArchiveDeployment(store, 'o', 'dev', await zipArchive(files([], {})), {workerPid: process.pid})
    // A store whose archive read fails as no code path expects: a plain error, then a system error.
    const failing = (error: Error) =>
      Object.assign(new FileStore(store.location), {
        getBlob: async () => {
          throw error
        },
      })
    const plain = await runArchiveDeployment(failing(new Error(`cannot map '/home/John Doe/.mtlsctl/organizations/o/archive.zip' at /dev/shm/x`)), 'o', deployment.name)
    expect(plain.error).toEqual({code: 13, message: "cannot map '[path]' at [path]"})
    const {deployment: second} = await createArchiveDeployment(store, 'o', 'dev', await zipArchive(files([], {})), {workerPid: process.pid})
    const system = Object.assign(new Error(`EACCES: permission denied, open '/home/u/.mtlsctl/x'`), {code: 'EACCES', syscall: 'open'})
    expect((await runArchiveDeployment(failing(system), 'o', second.name)).error).toEqual({code: 13, message: 'A file system operation failed (open): permission denied.'})
  })

  it('wait gives up at its deadline with DEADLINE_EXCEEDED', async () => {
    const op = await createOperation(store, 'o', 'INSERT', 't', {pid: process.pid})
    await expect(waitOperation(store, 'o', op.name.split('/').pop() as string, {timeoutMs: 30, initialDelayMs: 5})).rejects.toMatchObject({status: 'DEADLINE_EXCEEDED'})
  })
})

describe('archive sources and parsing (engine)', () => {
  it('keeps the archive root only, skips hidden files and unknown extensions, and round-trips a zip', async () => {
    const root = path.join(dir, 'src/src/main/apigee')
    fs.mkdirSync(path.join(root, 'apiproxies/a'), {recursive: true})
    fs.mkdirSync(path.join(root, '.git'), {recursive: true})
    fs.writeFileSync(path.join(root, 'apiproxies/a/config.yaml'), 'operations: []\n')
    fs.writeFileSync(path.join(root, 'apiproxies/a/notes.txt'), 'x')
    fs.writeFileSync(path.join(root, 'apiproxies/a/.secret.json'), '{}')
    fs.writeFileSync(path.join(root, '.git/config.json'), '{}')
    fs.writeFileSync(path.join(dir, 'src/outside.json'), '{}')
    const found = readSource(path.join(dir, 'src'))
    expect([...found.keys()]).toEqual(['apiproxies/a/config.yaml'])
    const back = await unzipArchive(await zipArchive(found), 'x.zip')
    expect(back.get('apiproxies/a/config.yaml')?.toString()).toBe('operations: []\n')
  })

  it('JSON and YAML errors give file, line and column', async () => {
    expect(() => parseJsonFile('[\n  {"a": 1,\n  }\n]', 'f.json')).toThrow('Invalid JSON in f.json at line 3, column 3: Expected double-quoted property name (a trailing comma before it?).')
    expect(() => parseJsonFile('[1,', 'f.json')).toThrow('Invalid JSON in f.json at line 1, column 4: Unexpected end of input.')
    await expect(parseYamlFile('a: [1,\nb: 2\n', 'c.yaml')).rejects.toThrow(/^Invalid YAML in c.yaml at line \d+, column \d+: /)
    await expect(parseYamlFile('a: [1,\nb: 2\n', 'c.yaml')).rejects.toThrow(
      'Invalid YAML in c.yaml at line 3, column 1: unexpected end of the stream within a flow collection.',
    )
    await expect(parseYamlFile('a: 1\na: 2\n', 'd.yaml')).rejects.toThrow('Invalid YAML in d.yaml at line 2, column 1: duplicated mapping key.')
    // The core schema: no timestamps, and an empty document is null.
    expect(await parseYamlFile('at: 2024-01-01\non: yes\n', 'e.yaml')).toEqual({at: '2024-01-01', on: 'yes'})
    expect(await parseYamlFile('', 'f.yaml')).toBeNull()
  })
})
