import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {build} from 'esbuild'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {addAlias, getAlias, listAliases} from '../../../src/core/aliases.js'
import {
  createArchiveDeployment,
  getApiProxy,
  listArchiveDeployments,
  nextRevision,
  runArchiveDeployment,
} from '../../../src/core/archives/deployments.js'
import {zipArchive} from '../../../src/core/archives/source.js'
import {createEnvironment} from '../../../src/core/environments.js'
import {createKeystore, getKeystore, listKeystores} from '../../../src/core/keystores.js'
import {FileStore} from '../../../src/core/store/index.js'
import {makeCa, makeCert, writePair} from '../../helpers/ca.js'
import {ROOT, rmTemp, tempDir} from '../../helpers/cli.js'
import {entriesBelow} from '../../helpers/openssl.js'

/**
 * The defence of issue 11: deploys, alias creation and keystore deletion commit atomically,
 * proven by SIGKILL at random points. A child process runs one kind of write through the
 * engine in a loop; it is killed at a random moment; then the engine must see every
 * deployment's revisions all or none, every alias whole or absent, and the next write must
 * leave no temporary file, no trash and no stray key in the state folder.
 */
const PROXIES = Array.from({length: 40}, (_, i) => `proxy${String(i).padStart(2, '0')}`)
const ROUNDS = 24
const MODES = ['deploy', 'alias', 'keystore'] as const

let dir: string
let home: string
let files: string
let writer: string
let store: FileStore

function archiveFiles(trustStore: string): Map<string, Buffer> {
  const map = new Map<string, Buffer>()
  const target = {name: 't', host: 'h', port: 443, sSLInfo: {enabled: true, trustStore}}
  map.set('environments/dev/targetservers.json', Buffer.from(JSON.stringify([target])))
  for (const api of PROXIES) {
    map.set(`apiproxies/${api}/config.yaml`, Buffer.from('operations:\n  - id: x\n    target:\n      target_server_id: t\n'))
  }
  return map
}

beforeAll(async () => {
  dir = tempDir()
  home = path.join(dir, 'state')
  files = path.join(dir, 'files')
  // Inside the project (node_modules/.cache), so the bundle's own require() of packages resolves.
  writer = path.join(ROOT, 'node_modules/.cache/mtlsctl-tests', `kill-writer-${process.pid}.mjs`)
  fs.mkdirSync(files)
  // The writer, bundled once from the engine's sources: it starts in a third of tsx's time.
  await build({
    entryPoints: [path.join(ROOT, 'test/fixtures/kill-writer.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: writer,
    logLevel: 'error',
    banner: {js: "import {createRequire as __createRequire} from 'node:module'; const require = __createRequire(import.meta.url);"},
  })
  store = new FileStore(home)
  const ca = await makeCa()
  writePair(files, 'gw', await makeCert(ca, 'gateway', {usage: 'client'}))
  fs.writeFileSync(path.join(files, 'archive.zip'), await zipArchive(archiveFiles('ts')))
  await createEnvironment(store, 'acme', 'dev')
  await createKeystore(store, 'acme', 'dev', 'ks')
  await createKeystore(store, 'acme', 'dev', 'ts')
  const cert = fs.readFileSync(path.join(files, 'gw.pem'))
  await addAlias(store, 'acme', 'dev', 'ts', 'ca', {format: 'keycertfile', cert, certFile: 'gw.pem'})
})
afterAll(() => {
  rmTemp(dir)
  fs.rmSync(writer, {force: true})
})

/** Runs the writer, kills it with SIGKILL `delayMs` after it is ready, resolves on its exit. */
async function killWriter(mode: string, delayMs: number): Promise<NodeJS.Signals | null> {
  const child = spawn(process.execPath, [writer, home, mode, files], {
    cwd: ROOT,
    env: {...process.env, MTLSCTL_OPERATION_LEASE_MS: '1'},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d))
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)))
  const ready = await Promise.race([new Promise<boolean>((resolve) => child.stdout.once('data', () => resolve(true))), exited.then(() => false)])
  if (!ready) throw new Error(`the writer exited before it was ready: ${stderr}`)
  // The random kill point: a random moment in the writer's loop (the wait chooses it, the exit
  // event, not a sleep, says when the writer is gone).
  await new Promise((resolve) => setTimeout(resolve, delayMs))
  child.kill('SIGKILL')
  const signal = await exited
  // The writer must have been killed, not have failed on its own.
  expect(stderr).toBe('')
  return signal
}

async function checkInvariants(round: number): Promise<number> {
  // Deployments: all or none. Every proxy of the archive has the same revisions, revisions
  // count the deployments listed as Deployed, and none is left In Progress.
  const latest = await Promise.all(PROXIES.map(async (api) => Number((await getApiProxy(store, 'acme', api))?.latestRevisionId ?? 0)))
  expect(new Set(latest).size, `round ${round}: revisions per proxy ${[...new Set(latest)].join(', ')}`).toBe(1)
  const deployed = latest[0]
  const rows = await listArchiveDeployments(store, 'acme', 'dev')
  expect(rows.filter((r) => r.operationStatus === 'In Progress')).toEqual([])
  expect(rows.filter((r) => r.operationStatus === 'Deployed')).toHaveLength(deployed)
  expect((await getApiProxy(store, 'acme', PROXIES[0]))?.revision ?? []).toEqual(Array.from({length: deployed}, (_, i) => String(i + 1)))
  expect(await nextRevision(store, 'acme', PROXIES[7])).toBe(deployed + 1)

  // Aliases: whole (document, cert.pem, and key.pem for a key alias) or absent.
  for (const ks of await listKeystores(store, 'acme', 'dev')) {
    for (const id of (await getKeystore(store, 'acme', 'dev', ks)).aliases) {
      const alias = await getAlias(store, 'acme', 'dev', ks, id)
      const name = `organizations/acme/environments/dev/keystores/${ks}/aliases/${id}`
      expect(await store.getBlob(name, 'cert.pem'), name).toBeDefined()
      expect((await store.getBlob(name, 'key.pem')) !== undefined, name).toBe(alias.type === 'KEY_CERT')
    }
    await listAliases(store, 'acme', 'dev', ks)
  }

  // The next write settles what the killed writer left.
  await createKeystore(store, 'acme', 'dev', `probe${round}`)
  const left = entriesBelow(home)
  expect(left.filter((f) => path.basename(f).startsWith('.tmp-'))).toEqual([])
  expect(left.filter((f) => f.startsWith(`.tmp${path.sep}`) || f.startsWith(`.trash${path.sep}`))).toEqual([])
  expect(left.filter((f) => f === '.lock' || f.startsWith('.lock'))).toEqual([])
  // No blob (no key) outside a whole resource: every resource folder above it has its document.
  for (const file of left.filter((f) => /\.(pem|zip)$/.test(f))) {
    const parts = file.split(path.sep)
    for (let depth = 2; depth < parts.length; depth += 2) {
      const resource = path.join(home, ...parts.slice(0, depth))
      expect(fs.existsSync(`${resource}.json`), `${file}: ${parts.slice(0, depth).join('/')} has no document`).toBe(true)
    }
  }
  return deployed
}

describe('SIGKILL at random points (deploys, alias creation, keystore deletion)', () => {
  it(`leaves every deployment all or none and every alias whole or absent, in ${ROUNDS} kills`, async () => {
    const signals: Array<NodeJS.Signals | null> = []
    let deployed = 0
    for (let round = 0; round < ROUNDS; round++) {
      const mode = MODES[round % MODES.length]
      signals.push(await killWriter(mode, 40 + Math.floor(Math.random() * 200)))
      deployed = await checkInvariants(round)
    }
    expect(signals).toEqual(Array.from({length: ROUNDS}, () => 'SIGKILL'))
    // The writers deployed (some of the kills fell after a commit) and created aliases.
    expect(deployed).toBeGreaterThan(0)
    expect((await getKeystore(store, 'acme', 'dev', 'ks')).aliases.length).toBeGreaterThan(0)

    // The next failure names one past the last successful deployment.
    const zip = await zipArchive(archiveFiles('missing'))
    const {deployment} = await createArchiveDeployment(store, 'acme', 'dev', zip, {workerPid: process.pid})
    const failed = await runArchiveDeployment(store, 'acme', deployment.name)
    expect(failed.error?.message).toMatch(
      new RegExp(`^generic::invalid_argument: proxy "organizations/acme/apis/proxy00/revisions/${deployed + 1}" contains reference\\(s\\) to invalid target server\\(s\\)`),
    )
  }, 120_000)
})
