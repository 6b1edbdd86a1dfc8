import {spawn} from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {createEnvironment, getEnvironment, listEnvironments} from '../../../src/core/environments.js'
import {MtlsError} from '../../../src/core/errors.js'
import {FileStore} from '../../../src/core/store/index.js'
import {ROOT, rmTemp, runCli, tempDir} from '../../helpers/cli.js'

let dir: string
let store: FileStore
beforeEach(() => {
  dir = tempDir()
  store = new FileStore(path.join(dir, 'state'))
})
afterEach(() => rmTemp(dir))

/** Every document in the store parses; returns how many there are. */
function checkReadable(root: string): number {
  let docs = 0
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, {withFileTypes: true})) {
      const full = path.join(d, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (entry.name.endsWith('.json') && !entry.name.startsWith('.')) {
        JSON.parse(fs.readFileSync(full, 'utf8'))
        docs++
      }
    }
  }
  if (fs.existsSync(root)) walk(root)
  return docs
}

describe('FileStore', () => {
  it('lays resources out by resource name, documents and blobs 0600, folders 0700', async () => {
    await store.create('organizations/acme', {name: 'acme'})
    await store.create('organizations/acme/environments/dev/keystores/ks/aliases/a1', {alias: 'a1'}, {
      'key.pem': {data: 'secret', secret: true},
    })
    const root = store.location
    expect(fs.statSync(root).mode & 0o777).toBe(0o700)
    const key = path.join(root, 'organizations/acme/environments/dev/keystores/ks/aliases/a1/key.pem')
    expect(fs.statSync(key).mode & 0o777).toBe(0o600)
    expect(fs.statSync(path.join(root, 'organizations/acme.json')).mode & 0o777).toBe(0o600)
    expect(fs.statSync(path.join(root, 'organizations/acme/environments')).mode & 0o777).toBe(0o700)
    expect(await store.getBlob('organizations/acme/environments/dev/keystores/ks/aliases/a1', 'key.pem')).toEqual(Buffer.from('secret'))
    expect(await store.ids('organizations/acme/environments/dev/keystores/ks/aliases')).toEqual(['a1'])
  })

  it('create is all or nothing and refuses an existing name', async () => {
    expect(await store.create('organizations/acme', {name: 'acme'})).toBe(true)
    expect(await store.create('organizations/acme', {name: 'other'})).toBe(false)
    expect(await store.get('organizations/acme')).toEqual({name: 'acme'})
  })

  it('delete removes the document, its blobs and its children; a re-created name starts empty', async () => {
    await store.create('organizations/acme/environments/dev', {name: 'dev'})
    await store.create('organizations/acme/environments/dev/keystores/ks', {name: 'ks'}, {'x.pem': {data: 'x'}})
    expect(await store.delete('organizations/acme/environments/dev')).toBe(true)
    expect(await store.get('organizations/acme/environments/dev/keystores/ks')).toBeUndefined()
    expect(await store.delete('organizations/acme/environments/dev')).toBe(false)
    // Leftover children of an interrupted delete are cleared by the next create.
    fs.mkdirSync(path.join(store.location, 'organizations/acme/environments/dev/keystores'), {recursive: true})
    fs.writeFileSync(path.join(store.location, 'organizations/acme/environments/dev/keystores/old.json'), '{}')
    await store.create('organizations/acme/environments/dev', {name: 'dev'})
    expect(await store.ids('organizations/acme/environments/dev/keystores')).toEqual([])
  })

  it('replace changes the document and blobs together, leaving nothing staged; an intent cannot move a file out of the trash or out of the state folder', async () => {
    await store.create('organizations/acme/environments/dev/keystores/ks/aliases/a', {v: 1}, {'cert.pem': {data: 'old'}})
    await store.replace('organizations/acme/environments/dev/keystores/ks/aliases/a', {v: 2}, {'cert.pem': {data: 'new'}})
    expect(await store.get('organizations/acme/environments/dev/keystores/ks/aliases/a')).toEqual({v: 2})
    expect((await store.getBlob('organizations/acme/environments/dev/keystores/ks/aliases/a', 'cert.pem'))?.toString()).toBe('new')
    expect(fs.readdirSync(path.join(store.location, '.trash'))).toEqual([])
    // A crafted intent of a dead process: settled (and removed) at the next lock, its moves refused.
    const outside = path.join(dir, 'outside.txt')
    fs.writeFileSync(outside, 'x')
    fs.writeFileSync(path.join(store.location, '.trash', '4194305-0a.staged'), 'y')
    const moves = [
      {from: '../outside.txt', to: 'organizations/stolen.txt'},
      {from: '.trash/4194305-0a.staged', to: '../escaped.txt'},
    ]
    fs.writeFileSync(path.join(store.location, '.trash', '4194305-0b.intent'), JSON.stringify({name: 'organizations/acme/environments/dev/keystores/ks/aliases/a', moves}))
    fs.writeFileSync(path.join(store.location, '.trash', '4194305-0c.intent'), 'null')
    await store.create('organizations/other', {name: 'other'})
    expect(await store.get('organizations/acme/environments/dev/keystores/ks/aliases/a')).toEqual({v: 2})
    expect(fs.existsSync(outside)).toBe(true)
    expect(fs.existsSync(path.join(store.location, 'organizations/stolen.txt'))).toBe(false)
    expect(fs.existsSync(path.join(dir, 'escaped.txt'))).toBe(false)
    expect(fs.readdirSync(path.join(store.location, '.trash'))).toEqual([])
  })

  // Dead processes' pids: above any pid_max (2^22), so never alive.
  const DEAD = 4194305
  const OTHER_DEAD = 4194306
  const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex')

  it("a replace's intent found after a newer write (pid reuse, a shared volume) is not applied over it", async () => {
    const name = 'organizations/acme/environments/dev/keystores/ks/aliases/a'
    await store.create(name, {v: 1}, {'cert.pem': {data: 'current'}})
    const trash = path.join(store.location, '.trash')
    fs.mkdirSync(trash, {recursive: true})
    fs.writeFileSync(path.join(trash, `${DEAD}-0a.staged`), 'older')
    const moves = [{from: `.trash/${DEAD}-0a.staged`, to: `${name}/cert.pem`}]
    fs.writeFileSync(path.join(trash, `${DEAD}-0b.intent`), JSON.stringify({name, before: sha256('{"v": 0}'), after: sha256('{"v": 0.5}'), moves}))
    await store.create('organizations/other', {name: 'other'})
    expect((await store.getBlob(name, 'cert.pem'))?.toString()).toBe('current')
    expect(fs.readdirSync(trash)).toEqual([])
  })

  it('an intent that cannot be settled now stays for the next write, and stops nothing else: the trash of others is emptied', async () => {
    const name = 'organizations/acme/environments/dev/keystores/ks/aliases/b'
    await store.create(name, {v: 1})
    const docText = fs.readFileSync(path.join(store.location, `${name}.json`), 'utf8')
    // Where the alias's blobs would go is a file: the move cannot happen (ENOTDIR/EEXIST).
    fs.writeFileSync(path.join(store.location, name), 'not a folder')
    const trash = path.join(store.location, '.trash')
    fs.mkdirSync(path.join(trash, `${OTHER_DEAD}-0c`, 'aliases', 'x'), {recursive: true})
    fs.writeFileSync(path.join(trash, `${OTHER_DEAD}-0c`, 'aliases', 'x', 'key.pem'), 'secret')
    fs.writeFileSync(path.join(trash, `${DEAD}-0a.staged`), 'new')
    const moves = [{from: `.trash/${DEAD}-0a.staged`, to: `${name}/cert.pem`}]
    fs.writeFileSync(path.join(trash, `${DEAD}-0b.intent`), JSON.stringify({name, before: sha256(docText), after: sha256('x'), moves}))
    await store.create('organizations/other', {name: 'other'})
    expect(fs.readdirSync(trash).sort()).toEqual([`${DEAD}-0a.staged`, `${DEAD}-0b.intent`])
    // Once the way is clear, the next write finishes it.
    fs.rmSync(path.join(store.location, name))
    await store.create('organizations/third', {name: 'third'})
    expect((await store.getBlob(name, 'cert.pem'))?.toString()).toBe('new')
    expect(fs.readdirSync(trash)).toEqual([])
  })

  it('refuses names that would leave the state folder', async () => {
    for (const name of ['../x', 'organizations/../../etc', 'organizations//x', '/etc/passwd', 'organizations/.hidden']) {
      await expect(store.put(name, {})).rejects.toThrow(MtlsError)
      await expect(store.get(name)).rejects.toMatchObject({status: 'INVALID_ARGUMENT'})
    }
  })

  it('reports a corrupted document as DATA_LOSS naming the file', async () => {
    await createEnvironment(store, 'acme', 'dev')
    fs.writeFileSync(path.join(store.location, 'organizations/acme/environments/dev.json'), '{broken')
    await expect(getEnvironment(store, 'acme', 'dev')).rejects.toMatchObject({
      status: 'DATA_LOSS',
      message: expect.stringContaining('organizations/acme/environments/dev.json is not valid JSON'),
    })
  })

  it('withLock serialises concurrent callers of one store in one process, and is re-entrant', async () => {
    await store.put('organizations/counter', {n: 0})
    await Promise.all(
      Array.from({length: 20}, () =>
        store.withLock(async () => {
          const {n} = (await store.get<{n: number}>('organizations/counter'))!
          await new Promise((resolve) => setImmediate(resolve))
          await store.withLock(async () => store.put('organizations/counter', {n: n + 1}))
        }),
      ),
    )
    expect(await store.get('organizations/counter')).toEqual({n: 20})
  })

  it('serialises read-modify-write inside one process', async () => {
    await Promise.all(Array.from({length: 20}, (_, i) => createEnvironment(store, 'acme', `e${i}`)))
    expect((await listEnvironments(store, 'acme')).map((e) => e.name)).toHaveLength(20)
  })

  it('50 concurrent mtlsctl processes all create their environment', async () => {
    const home = path.join(dir, 'state')
    const results = await Promise.all(
      Array.from({length: 50}, (_, i) => runCli(['environments', 'create', `env${i}`, '--organization', 'acme', '--format', 'value(name)'], {home})),
    )
    for (const [i, r] of results.entries()) {
      expect(r.stderr).toBe(`Created environment [env${i}] in organization [acme].\n`)
      expect(r.code).toBe(0)
    }
    const names = (await listEnvironments(store, 'acme')).map((e) => e.name).sort()
    expect(names).toEqual(Array.from({length: 50}, (_, i) => `env${i}`).sort())
    expect(checkReadable(home)).toBe(51)
    expect(fs.existsSync(path.join(home, '.lock'))).toBe(false)
  }, 120_000)

  it('a writer killed with SIGKILL at random points never leaves an unreadable store', async () => {
    const home = path.join(dir, 'state')
    for (let round = 0; round < 24; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/fixtures/store-writer.ts'), home], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()))
      // The kill point is random: somewhere in the first 60 ms of writing.
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 60)))
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
      checkReadable(home)
      const envs = await listEnvironments(new FileStore(home), 'acme')
      for (const env of envs) expect(env.description).toHaveLength(64 * 1024)
    }
    // The lock a killed writer held is stale after 10 s at most; the store stays usable.
    const r = await runCli(['environments', 'list', '--organization', 'acme', '--format', 'value(name)'], {home})
    expect(r.code).toBe(0)
  }, 120_000)
})
