import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {addAlias, deleteAlias, getAlias, aliasCertificate, listAliases} from '../../../src/core/aliases.js'
import {createEnvironment} from '../../../src/core/environments.js'
import {createKeystore, deleteKeystore, getKeystore, listKeystores} from '../../../src/core/keystores.js'
import {FileStore} from '../../../src/core/store/index.js'
import {json, request, startServer} from '../../helpers/api.js'
import {makeCa, makeCert} from '../../helpers/ca.js'
import {rmTemp, tempDir} from '../../helpers/cli.js'
import {entriesBelow} from '../../helpers/openssl.js'
import {refusal} from '../../helpers/errors.js'

/**
 * Issue 11, item 8: every id the name rule allows ([\w.-]{1,255}, Apigee's limit) is storable.
 * `NAME.json` does not fit in a file name (255 bytes) for ids of 251-255 characters: those
 * keep their document in their own folder, and ids() still returns the real id.
 */
const LONG = `${'k'.repeat(250)}.a-_9` // 255 characters
const LONG_ALIAS = `${'a'.repeat(251)}-key` // 255
const EDGE = 'e'.repeat(251) // the first length that needs the folder

let dir: string
let store: FileStore
beforeEach(async () => {
  dir = tempDir()
  store = new FileStore(path.join(dir, 'state'))
  await createEnvironment(store, 'acme', 'dev')
})
afterEach(() => rmTemp(dir))

async function keyAndCert(): Promise<{cert: Buffer; key: Buffer}> {
  const ca = await makeCa()
  const leaf = await makeCert(ca, 'gateway', {usage: 'client'})
  return {cert: Buffer.from(leaf.pem), key: Buffer.from(leaf.privateKey.export({type: 'pkcs8', format: 'pem'}) as string)}
}

describe('ids of 251-255 characters (engine)', () => {
  it('a keystore and an alias of 255 characters are created, listed, described and deleted, leaving nothing', async () => {
    expect(LONG).toHaveLength(255)
    expect(LONG_ALIAS).toHaveLength(255)
    const {cert, key} = await keyAndCert()
    await createKeystore(store, 'acme', 'dev', LONG)
    await createKeystore(store, 'acme', 'dev', EDGE)
    await createKeystore(store, 'acme', 'dev', 'short')
    expect(await listKeystores(store, 'acme', 'dev')).toEqual([EDGE, LONG, 'short'].sort())
    const alias = await addAlias(store, 'acme', 'dev', LONG, LONG_ALIAS, {format: 'keycertfile', cert, certFile: 'gw.pem', key, keyFile: 'gw.key'})
    expect(alias).toMatchObject({alias: LONG_ALIAS, type: 'KEY_CERT'})
    await addAlias(store, 'acme', 'dev', LONG, 'plain', {format: 'keycertfile', cert, certFile: 'gw.pem'})
    expect(await getKeystore(store, 'acme', 'dev', LONG)).toEqual({name: LONG, aliases: [LONG_ALIAS, 'plain'].sort()})
    expect((await listAliases(store, 'acme', 'dev', LONG)).map((a) => a.alias)).toEqual([LONG_ALIAS, 'plain'].sort())
    expect(await getAlias(store, 'acme', 'dev', LONG, LONG_ALIAS)).toEqual(alias)
    expect(await aliasCertificate(store, 'acme', 'dev', LONG, LONG_ALIAS)).toBe(cert.toString())
    // A second create of the same long name is refused like any other.
    expect((await refusal(createKeystore(store, 'acme', 'dev', LONG), 'ALREADY_EXISTS')).message).toBe(
      `Keystore "organizations/acme/environments/dev/keystores/${LONG}" already exists.`,
    )

    await deleteAlias(store, 'acme', 'dev', LONG, LONG_ALIAS)
    expect(await getKeystore(store, 'acme', 'dev', LONG)).toEqual({name: LONG, aliases: ['plain']})
    await addAlias(store, 'acme', 'dev', LONG, LONG_ALIAS, {format: 'keycertfile', cert, certFile: 'gw.pem', key, keyFile: 'gw.key'})
    await deleteKeystore(store, 'acme', 'dev', LONG)
    await deleteKeystore(store, 'acme', 'dev', EDGE)
    expect(await listKeystores(store, 'acme', 'dev')).toEqual(['short'])
    // Nothing of them is left: no orphan cert.pem or key.pem, no trash, no temporary file.
    expect(entriesBelow(store.location).filter((f) => f.includes('kkkkk') || f.includes('eeeee') || /\.pem$/.test(f) || f.startsWith(`.trash${path.sep}`) || f.startsWith(`.tmp${path.sep}`))).toEqual([])
  })

  it('an id ending in .json is listed once, whatever its folder holds', async () => {
    await createKeystore(store, 'acme', 'dev', 'x.json')
    await addAlias(store, 'acme', 'dev', 'x.json', 'a', {format: 'keycertfile', cert: (await keyAndCert()).cert, certFile: 'gw.pem'})
    // Its folder `x.json/` is not a document of a keystore "x".
    expect(await listKeystores(store, 'acme', 'dev')).toEqual(['x.json'])
  })

  it('a file system error is INTERNAL naming the resource, never a path of the state folder', async () => {
    // A file where the keystores folder belongs.
    fs.writeFileSync(path.join(store.location, 'organizations/acme/environments/dev'), 'in the way')
    const error = await refusal(createKeystore(store, 'acme', 'dev', 'ks'), 'INTERNAL')
    expect(error.message).toBe('Could not create "organizations/acme/environments/dev/keystores/ks" in the state folder: a file stands where a folder is expected (ENOTDIR).')
    expect(error.hint).toBe('Check that the state folder (MTLSCTL_HOME, else ~/.mtlsctl) is writable, on a local disk, and has free space.')
    expect(error.message).not.toContain(dir)
  })
})

describe('ids of 255 characters through the API', () => {
  it('a keystore of 255 characters is created and read back (it was a 500 with the state path)', async () => {
    const server = await startServer(store.location)
    try {
      const base = '/v1/organizations/acme/environments/dev/keystores'
      const created = await request(server.url, 'POST', base, json({name: LONG}))
      expect(created.status).toBe(200)
      expect(created.json()).toEqual({name: LONG, aliases: []})
      const got = await request(server.url, 'GET', `${base}/${LONG}`)
      expect(got.status).toBe(200)
      expect((await request(server.url, 'GET', base)).json()).toEqual([LONG])
      expect((await request(server.url, 'DELETE', `${base}/${LONG}`)).status).toBe(200)
      expect((await request(server.url, 'GET', `${base}/${LONG}`)).status).toBe(404)
    } finally {
      await server.close()
    }
  })
})
