import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type ApiServer} from '../../src/emulator/index.js'
import {listAliases} from '../../src/core/aliases.js'
import {createEnvironment} from '../../src/core/environments.js'
import {createKeystore} from '../../src/core/keystores.js'
import {FileStore} from '../../src/core/store/index.js'
import {startServer} from '../helpers/api.js'
import {rmTemp, tempDir} from '../helpers/cli.js'
import {seedCertsFolder} from '../helpers/pki.js'

let dir: string
let certs: string
let root: string
let server: ApiServer

beforeAll(async () => {
  dir = tempDir()
  certs = await seedCertsFolder(dir)
  root = path.join(dir, 'state')
  const store = new FileStore(root)
  await createEnvironment(store, 'myorg', 'dev')
  await createKeystore(store, 'myorg', 'dev', 'mtls_keystore')
  server = await startServer(root)
})
afterAll(async () => {
  await server.close()
  rmTemp(dir)
})

describe('API server under concurrent writers', () => {
  it('200 concurrent alias creations (multipart, fetch): every one answered 200 and stored, none lost', async () => {
    const cert = fs.readFileSync(path.join(certs, 'my_gateway.pem'))
    const key = fs.readFileSync(path.join(certs, 'my_gateway.key'))
    const base = `${server.url}v1/organizations/myorg/environments/dev/keystores/mtls_keystore/aliases`
    const create = async (i: number) => {
      const form = new FormData()
      form.append('certFile', new Blob([cert]), 'my_gateway.pem')
      form.append('keyFile', new Blob([key]), 'my_gateway.key')
      const res = await fetch(`${base}?alias=alias_${i}&format=keycertfile`, {method: 'POST', body: form, headers: {authorization: 'Bearer x'}})
      return {status: res.status, body: (await res.json()) as {alias?: string}}
    }
    const results = await Promise.all(Array.from({length: 200}, (_, i) => create(i)))
    expect(results.filter((r) => r.status !== 200)).toEqual([])
    expect(results.map((r) => r.body.alias).sort()).toEqual(Array.from({length: 200}, (_, i) => `alias_${i}`).sort())
    const stored = await listAliases(new FileStore(root), 'myorg', 'dev', 'mtls_keystore')
    expect(stored.length).toBe(200)
    expect(stored.every((a) => a.type === 'KEY_CERT')).toBe(true)
    const keystore = (await (await fetch(`${server.url}v1/organizations/myorg/environments/dev/keystores/mtls_keystore`)).json()) as {aliases: string[]}
    expect(keystore.aliases.length).toBe(200)
  })

  it('the same alias created 20 times at once: one 200, nineteen 409 ALREADY_EXISTS', async () => {
    const cert = fs.readFileSync(path.join(certs, 'RootCA.pem'))
    const once = async () => {
      const form = new FormData()
      form.append('certFile', new Blob([cert]), 'RootCA.pem')
      const res = await fetch(`${server.url}v1/organizations/myorg/environments/dev/keystores/mtls_keystore/aliases?alias=rootca&format=keycertfile`, {method: 'POST', body: form})
      return res.status
    }
    const statuses = await Promise.all(Array.from({length: 20}, once))
    expect(statuses.filter((s) => s === 200).length).toBe(1)
    expect(statuses.filter((s) => s === 409).length).toBe(19)
  })
})
