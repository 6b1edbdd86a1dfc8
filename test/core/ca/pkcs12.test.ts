import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createPkcs12, generateKey} from '../../../src/core/ca/index.js'
import {rmTemp, tempDir} from '../../helpers/cli.js'
import {makeCa, makeCert} from '../../helpers/ca.js'
import {openssl} from '../../helpers/openssl.js'

let dir: string
beforeAll(() => {
  dir = tempDir()
  fs.writeFileSync(path.join(dir, 'pw.txt'), 'p12 pass\n')
})
afterAll(() => rmTemp(dir))

describe('PKCS#12', () => {
  it.each(['rsa-2048', 'ec-p256'] as const)('%s: openssl pkcs12 -info reads key and chain with the password', async (keyType) => {
    const ca = await makeCa('p12-ca', {keyType})
    const leaf = await makeCert(ca, 'p12-leaf', {keyType, usage: 'client'})
    const p12 = await createPkcs12({privateKey: leaf.privateKey, chain: [leaf.certificate, ca.certificate], password: 'p12 pass', friendlyName: 'gw'})
    fs.writeFileSync(path.join(dir, `${keyType}.p12`), p12)

    const info = openssl(['pkcs12', '-info', '-in', `${keyType}.p12`, '-passin', 'file:pw.txt', '-nodes'], dir)
    expect(info.code).toBe(0)
    expect(info.stderr).toContain('MAC: sha256, Iteration 2048')
    expect(info.stderr).toContain('Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256')
    expect(info.stdout).toContain('friendlyName: gw')
    expect(info.stdout.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2)
    expect(info.stdout).toContain('subject=CN = p12-leaf')
    expect(info.stdout).toContain('subject=CN = p12-ca')
    // The key openssl extracts is the leaf's key.
    const keyPem = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n/.exec(info.stdout)![0]
    expect(crypto.createPublicKey(keyPem).export({type: 'spki', format: 'der'})).toEqual(
      crypto.createPublicKey(leaf.privateKey).export({type: 'spki', format: 'der'}),
    )

    const wrong = openssl(['pkcs12', '-info', '-in', `${keyType}.p12`, '-passin', 'pass:nope', '-noout'], dir)
    expect(wrong.code).not.toBe(0)
    expect(wrong.stderr).toMatch(/mac verify error/i)
  })

  it('needs a password and a matching key', async () => {
    const ca = await makeCa()
    const leaf = await makeCert(ca, 'x')
    await expect(createPkcs12({privateKey: leaf.privateKey, chain: [leaf.certificate], password: ''})).rejects.toThrow(/needs a password/)
    await expect(createPkcs12({privateKey: generateKey('ec-p256'), chain: [leaf.certificate], password: 'x'})).rejects.toThrow(/key values mismatch/)
  })
})
