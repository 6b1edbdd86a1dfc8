import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {addAlias, getAlias} from '../../../src/core/aliases.js'
import {
  createArchiveDeployment,
  getApiProxy,
  getArchiveDeployment,
  nextRevision,
  runArchiveDeployment,
} from '../../../src/core/archives/deployments.js'
import {zipArchive} from '../../../src/core/archives/source.js'
import {createEnvironment} from '../../../src/core/environments.js'
import {createKeystore, getKeystore} from '../../../src/core/keystores.js'
import {getOperation} from '../../../src/core/operations.js'
import {FileStore} from '../../../src/core/store/index.js'
import {makeCa, makeCert, writePair} from '../../helpers/ca.js'
import {ROOT, rmTemp, tempDir} from '../../helpers/cli.js'
import {refusal} from '../../helpers/errors.js'

/**
 * The kill points that matter, hit exactly: a child process runs one engine call and SIGKILLs
 * itself right before or after one file system call (test/fixtures/kill-at.ts).
 */
const PROXIES = ['alpha', 'beta', 'gamma']
let dir: string
let home: string
let store: FileStore

beforeEach(async () => {
  dir = tempDir()
  home = path.join(dir, 'state')
  store = new FileStore(home)
  writePair(dir, 'gw', await makeCert(await makeCa(), 'gateway', {usage: 'client'}))
  await createEnvironment(store, 'acme', 'dev')
  await createKeystore(store, 'acme', 'dev', 'ts')
  await addAlias(store, 'acme', 'dev', 'ts', 'ca', {format: 'keycertfile', cert: fs.readFileSync(path.join(dir, 'gw.pem')), certFile: 'gw.pem'})
})
afterEach(() => {
  delete process.env.MTLSCTL_OPERATION_LEASE_MS
  rmTemp(dir)
})

function killAt(point: Record<string, string>, args: string[]): Promise<{code: number | null; signal: NodeJS.Signals | null; stderr: string}> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/fixtures/kill-at.ts'), home, ...args], {
    cwd: ROOT,
    env: {...process.env, ...point},
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d))
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({code, signal, stderr})))
}

async function deployment(): Promise<{name: string; uuid: string}> {
  const files = new Map<string, Buffer>()
  files.set('environments/dev/targetservers.json', Buffer.from(JSON.stringify([{name: 't', host: 'h', port: 443, sSLInfo: {enabled: true, trustStore: 'ts'}}])))
  for (const api of PROXIES) files.set(`apiproxies/${api}/config.yaml`, Buffer.from('operations:\n  - id: x\n    target:\n      target_server_id: t\n'))
  const {deployment, operation} = await createArchiveDeployment(store, 'acme', 'dev', await zipArchive(files), {workerPid: 999_999})
  return {name: deployment.name, uuid: operation.name.split('/').pop() as string}
}

const rawOperation = (uuid: string) => JSON.parse(fs.readFileSync(path.join(home, `organizations/acme/operations/${uuid}.json`), 'utf8'))
const revisions = async () => Promise.all(PROXIES.map(async (api) => (await getApiProxy(store, 'acme', api))?.revision ?? []))

describe('a process killed at the commit point of a deployment', () => {
  it('right after it: the deployment is Deployed, every proxy at revision 1 (the operation document is finished by the next reader)', async () => {
    const {name, uuid} = await deployment()
    const killed = await killAt({KILL_AFTER: 'rename:apiRevisions.json'}, ['deploy', name])
    expect(killed).toEqual({code: null, signal: 'SIGKILL', stderr: ''})
    // Killed between the commit and the operation's own document: it still says IN_PROGRESS...
    expect(rawOperation(uuid)).toMatchObject({metadata: {state: 'IN_PROGRESS'}})
    expect(rawOperation(uuid).done).toBeUndefined()
    // ...but its outcome is committed: every reader sees it finished, with its response.
    const operation = await getOperation(store, 'acme', uuid)
    expect(operation).toMatchObject({done: true, metadata: {state: 'FINISHED'}, response: {name}})
    expect(operation.error).toBeUndefined()
    expect(rawOperation(uuid)).toMatchObject({done: true, metadata: {state: 'FINISHED'}})
    expect((await getArchiveDeployment(store, 'acme', 'dev', name.split('/').pop() as string)).operationStatus).toBe('Deployed')
    expect(await revisions()).toEqual([['1'], ['1'], ['1']])
    expect(await nextRevision(store, 'acme', 'beta')).toBe(2)
  })

  it('right before it: no revision at all; the operation fails with INTERNAL once its lease runs out', async () => {
    process.env.MTLSCTL_OPERATION_LEASE_MS = '1'
    const {name, uuid} = await deployment()
    const killed = await killAt({KILL_BEFORE: 'rename:apiRevisions.json'}, ['deploy', name])
    expect(killed).toEqual({code: null, signal: 'SIGKILL', stderr: ''})
    const operation = await getOperation(store, 'acme', uuid)
    expect(operation.error).toEqual({code: 13, message: 'The process working on this operation (pid 999999) stopped before finishing it.'})
    expect(await revisions()).toEqual([[], [], []])
    // The next deployment creates revision 1 of every proxy.
    const next = await deployment()
    expect((await runArchiveDeployment(store, 'acme', next.name)).error).toBeUndefined()
    expect(await revisions()).toEqual([['1'], ['1'], ['1']])
  })

  it('a worker whose lease ran out (finished with INTERNAL by a reader) commits nothing', async () => {
    process.env.MTLSCTL_OPERATION_LEASE_MS = '1'
    const {name, uuid} = await deployment()
    expect((await getOperation(store, 'acme', uuid)).error?.code).toBe(13)
    const late = await runArchiveDeployment(store, 'acme', name)
    expect(late.error).toEqual({code: 13, message: 'The process working on this operation (pid 999999) stopped before finishing it.'})
    expect(await revisions()).toEqual([[], [], []])
    expect(await nextRevision(store, 'acme', 'alpha')).toBe(1)
  })
})

describe('an alias certificate update killed half-way (PROGRAMMABLE environments)', () => {
  const certFile = (ks: string, alias: string) => fs.readFileSync(path.join(home, `organizations/acme/environments/prog/keystores/${ks}/aliases/${alias}/cert.pem`), 'utf8')
  const trash = () => (fs.existsSync(path.join(home, '.trash')) ? fs.readdirSync(path.join(home, '.trash')) : [])
  let next: string

  beforeEach(async () => {
    await createEnvironment(store, 'acme', 'prog', {apiProxyType: 'programmable'})
    await createKeystore(store, 'acme', 'prog', 'ts')
    await addAlias(store, 'acme', 'prog', 'ts', 'ca', {format: 'keycertfile', cert: fs.readFileSync(path.join(dir, 'gw.pem')), certFile: 'gw.pem'})
    writePair(dir, 'next', await makeCert(await makeCa('next-ca'), 'next-gateway', {usage: 'client'}))
    next = fs.readFileSync(path.join(dir, 'next.pem'), 'utf8')
  })

  const update = (point: Record<string, string>) => killAt(point, ['update-alias-cert', 'prog', 'ts', 'ca', path.join(dir, 'next.pem')])
  const subject = async () => (await getAlias(store, 'acme', 'prog', 'ts', 'ca')).certsInfo.certInfo[0].subject

  it('after the new certificate is in place, before its document: the next write finishes it (certificate and document both new)', async () => {
    const killed = await update({KILL_AFTER: 'rename:aliases/ca/cert.pem'})
    expect(killed).toEqual({code: null, signal: 'SIGKILL', stderr: ''})
    // The half-way state: the new certificate, described by the old document.
    expect(certFile('ts', 'ca')).toBe(next)
    expect(await subject()).toBe('CN=gateway')
    await createKeystore(store, 'acme', 'prog', 'later')
    expect(await subject()).toBe('CN=next-gateway')
    expect(certFile('ts', 'ca')).toBe(next)
    expect(trash()).toEqual([])
  })

  it('before anything is moved: the next write finishes it all the same (the change was recorded)', async () => {
    const killed = await update({KILL_BEFORE: 'rename:aliases/ca/cert.pem'})
    expect(killed.signal).toBe('SIGKILL')
    expect(await subject()).toBe('CN=gateway')
    await createKeystore(store, 'acme', 'prog', 'later')
    expect(await subject()).toBe('CN=next-gateway')
    expect(certFile('ts', 'ca')).toBe(next)
    expect(trash()).toEqual([])
  })
})

describe('leftovers of killed processes are cleared by the next write', () => {
  const live = (rel: string) => fs.existsSync(path.join(home, 'organizations/acme/environments/dev', rel))
  const trash = () => (fs.existsSync(path.join(home, '.trash')) ? fs.readdirSync(path.join(home, '.trash')) : [])
  const tmp = () => (fs.existsSync(path.join(home, '.tmp')) ? fs.readdirSync(path.join(home, '.tmp')) : [])

  it('keystores delete killed after removing the document: its aliases\' keys go at the next write', async () => {
    const source = {format: 'keycertfile' as const, cert: fs.readFileSync(path.join(dir, 'gw.pem')), certFile: 'gw.pem', key: fs.readFileSync(path.join(dir, 'gw.key')), keyFile: 'gw.key'}
    await createKeystore(store, 'acme', 'dev', 'k')
    await addAlias(store, 'acme', 'dev', 'k', 'a', source)
    const killed = await killAt({KILL_AFTER: 'unlink:keystores/k.json'}, ['delete-keystore', 'k'])
    expect(killed.signal).toBe('SIGKILL')
    // The state issue 11 found: the keystore is gone, its alias's private key still in the live tree.
    await refusal(getKeystore(store, 'acme', 'dev', 'k'), 'NOT_FOUND')
    expect(live('keystores/k/aliases/a/key.pem')).toBe(true)
    await createKeystore(store, 'acme', 'dev', 'next')
    expect(live('keystores/k')).toBe(false)
    expect(trash()).toEqual([])
    expect(tmp()).toEqual([])
  })

  it('aliases add killed after writing the key, before the document: no alias, and the key goes at the next write', async () => {
    await createKeystore(store, 'acme', 'dev', 'k')
    const killed = await killAt({KILL_AFTER: 'rename:aliases/a/key.pem'}, ['add-alias', 'k', 'a', path.join(dir, 'gw.pem'), path.join(dir, 'gw.key')])
    expect(killed.signal).toBe('SIGKILL')
    await refusal(getAlias(store, 'acme', 'dev', 'k', 'a'), 'NOT_FOUND')
    expect(live('keystores/k/aliases/a/key.pem')).toBe(true)
    await createKeystore(store, 'acme', 'dev', 'next')
    expect(live('keystores/k/aliases/a')).toBe(false)
    expect((await getKeystore(store, 'acme', 'dev', 'k')).aliases).toEqual([])
    expect(trash()).toEqual([])
  })

  it('a temporary file of a killed writer goes at the next write; a live process\'s stays', async () => {
    await createKeystore(store, 'acme', 'dev', 'k')
    const killed = await killAt({KILL_BEFORE: 'rename:aliases/a/cert.pem'}, ['add-alias', 'k', 'a', path.join(dir, 'gw.pem'), path.join(dir, 'gw.key')])
    expect(killed.signal).toBe('SIGKILL')
    expect(tmp()).toHaveLength(1)
    fs.writeFileSync(path.join(home, '.tmp', `${process.pid}-inflight`), '')
    await createKeystore(store, 'acme', 'dev', 'next')
    expect(tmp()).toEqual([`${process.pid}-inflight`])
    expect(trash()).toEqual([])
  })
})
