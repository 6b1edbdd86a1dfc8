import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createArchiveDeployment, runArchiveDeployment} from '../../../src/core/archives/deployments.js'
import {zipArchive} from '../../../src/core/archives/source.js'
import {createEnvironment} from '../../../src/core/environments.js'
import {SnapshotLoader} from '../../../src/core/runtime/index.js'
import {FileStore} from '../../../src/core/store/index.js'
import {rmTemp, tempDir} from '../../helpers/cli.js'

/** A real store whose next archive reads fail, as a read can (EIO, EMFILE, a file being replaced). */
class FailingReads extends FileStore {
  failures = 0
  /** Archive reads, by deployment. */
  reads = new Map<string, number>()
  override async getBlob(name: string, part: string): Promise<Buffer | undefined> {
    if (part === 'archive.zip') this.reads.set(name, (this.reads.get(name) ?? 0) + 1)
    if (part === 'archive.zip' && this.failures > 0) {
      this.failures--
      throw new Error('EIO: i/o error, read')
    }
    return super.getBlob(name, part)
  }
}

let dir: string
let store: FailingReads

async function deploy(basepath: string): Promise<string> {
  const files = new Map([[`apiproxies/p/config.yaml`, Buffer.from(`basepath: ${basepath}\ntarget:\n  uri: http://127.0.0.1:1/\n`)]])
  const {deployment} = await createArchiveDeployment(store, 'myorg', 'dev', await zipArchive(files), {workerPid: process.pid})
  await runArchiveDeployment(store, 'myorg', deployment.name)
  return deployment.name
}

beforeAll(async () => {
  dir = tempDir()
  store = new FailingReads(path.join(dir, 'state'))
  await createEnvironment(store, 'myorg', 'dev')
})

afterAll(() => rmTemp(dir))

describe('the runtime reads what is deployed', () => {
  it('an archive that could not be read is read again at the next load, not remembered as broken until a restart', async () => {
    const name = await deploy('/one')
    store.reads.clear() // the deployment's own validation read it
    const said: string[] = []
    const loader = new SnapshotLoader(store, {onChange: (message) => said.push(message)})
    store.failures = 1
    expect((await loader.load()).environments).toEqual([])
    expect(said).toEqual([`Cannot serve ${name}: EIO: i/o error, read`])
    const snapshot = await loader.load()
    expect(snapshot.environments.map((e) => [e.deployment, e.proxies.map((p) => p.basepath)])).toEqual([[name, ['/one']]])
    expect(said[1]).toBe(`Serving myorg-dev: archive deployment ${name} (p at /one).`)
    // Served: parsed once, not read again at every load.
    await loader.load()
    expect(store.reads.get(name)).toBe(2)
  })

  it('a deployment that replaced another is served at the next load, and the one replaced is no longer kept', async () => {
    const loader = new SnapshotLoader(store)
    const first = (await loader.load()).environments[0].deployment
    const second = await deploy('/two')
    expect((await loader.load()).environments.map((e) => [e.deployment, e.proxies[0].basepath])).toEqual([[second, '/two']])
    expect([...loader['archives'].keys()]).toEqual([second])
    expect(first).not.toBe(second)
  })
})
