import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {makeCa, makeCert, writePair} from '../helpers/ca.js'
import {rmTemp, runCli, tempDir} from '../helpers/cli.js'

/**
 * Issue 11, item 8, as a user meets it: names of 251-255 characters pass the name rule, so
 * the CLI must store them (it failed with `INTERNAL: ENAMETOOLONG` and the full state path,
 * leaving an orphan `aliases/NAME/cert.pem`).
 */
const KEYSTORE = `${'k'.repeat(250)}.a-_9`
const ALIAS = `${'a'.repeat(251)}-key`

let dir: string
let home: string
const env = {MTLSCTL_ORGANIZATION: 'myorg', MTLSCTL_ENVIRONMENT: 'dev'}
const cli = (args: string[]) => runCli(args, {home, cwd: dir, env})

beforeAll(async () => {
  dir = tempDir()
  home = path.join(dir, 'state')
  writePair(dir, 'gw', await makeCert(await makeCa(), 'gateway', {usage: 'client'}))
  expect((await runCli(['environments', 'create', 'dev', '--organization', 'myorg'], {home})).code).toBe(0)
})
afterAll(() => rmTemp(dir))

describe('names of 255 characters (built CLI)', () => {
  it('keystores create, aliases add, list, describe and delete them, leaving no orphan', async () => {
    expect(KEYSTORE).toHaveLength(255)
    expect(ALIAS).toHaveLength(255)
    const created = await cli(['keystores', 'create', KEYSTORE])
    expect(created.stderr).toBe(`Using Apigee organization 'myorg'\nCreated keystore [${KEYSTORE}].\n`)
    expect(created.code).toBe(0)
    const added = await cli(['aliases', 'add', ALIAS, '--keystore', KEYSTORE, '--cert-file', 'gw.pem', '--key-file', 'gw.key', '--format', 'value(alias,type)'])
    expect(added.stderr).toBe(`Using Apigee organization 'myorg'\nCreated alias [${ALIAS}] (KEY_CERT) in keystore [${KEYSTORE}].\n`)
    expect(added.stdout).toBe(`${ALIAS}\tKEY_CERT\n`)
    expect(added.code).toBe(0)

    expect((await cli(['keystores', 'list', '--format', 'value(name)'])).stdout).toBe(`${KEYSTORE}\n`)
    expect((await cli(['aliases', 'list', '--keystore', KEYSTORE, '--format', 'value(alias)'])).stdout).toBe(`${ALIAS}\n`)
    const described = await cli(['aliases', 'describe', ALIAS, '--keystore', KEYSTORE, '--format', 'json'])
    expect(JSON.parse(described.stdout)).toMatchObject({alias: ALIAS, type: 'KEY_CERT', certsInfo: {certInfo: [{subject: 'CN=gateway'}]}})
    expect(described.code).toBe(0)

    const deletedAlias = await cli(['aliases', 'delete', ALIAS, '--keystore', KEYSTORE, '--quiet'])
    expect(deletedAlias.stderr).toBe(`Using Apigee organization 'myorg'\nDeleted alias [${ALIAS}].\n`)
    expect(deletedAlias.code).toBe(0)
    expect((await cli(['aliases', 'add', ALIAS, '--keystore', KEYSTORE, '--cert-file', 'gw.pem'])).code).toBe(0)
    const deletedKeystore = await cli(['keystores', 'delete', KEYSTORE, '--quiet'])
    expect(deletedKeystore.stderr).toBe(`Using Apigee organization 'myorg'\nDeleted keystore [${KEYSTORE}].\n`)
    expect(deletedKeystore.code).toBe(0)
    expect((await cli(['keystores', 'list', '--format', 'value(name)'])).stdout).toBe('')

    // No orphan: nothing named after them, no certificate or key anywhere in the state folder.
    const left = fs.readdirSync(home, {recursive: true}).map(String)
    expect(left.filter((f) => f.includes('kkkkkkkk') || f.includes('aaaaaaaa') || f.endsWith('.pem'))).toEqual([])
  }, 60_000)
})
