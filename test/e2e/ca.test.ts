import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {rmTemp, runCli, tempDir} from '../helpers/cli.js'
import {mode, openssl, snapshot} from '../helpers/openssl.js'

let root: string
let home: string
let work: string
beforeEach(() => {
  root = tempDir()
  home = path.join(root, 'state')
  work = path.join(root, 'work')
  fs.mkdirSync(work)
})
afterEach(() => rmTemp(root))

const cli = (args: string[]) => runCli(args, {home, cwd: work})
const noKeyMaterial = (r: {stdout: string; stderr: string}) => {
  expect(r.stdout + r.stderr).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----|MII[A-Za-z0-9+/]{20}/)
}

describe('ca create / list / describe (built CLI)', () => {
  it('writes NAME.key (0600) and NAME.pem, registers the CA, and openssl accepts it', async () => {
    const r = await cli(['ca', 'create', 'RootCA', '--subject', '/CN=my-ca'])
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/^Created CA \[RootCA\] \(CN=my-ca, valid until \d{4}-\d\d-\d\dT[\d:.]+Z\)\.\nWrote RootCA\.key \(private key, 0600\) and RootCA\.pem\.\n$/)
    expect(r.stdout).toMatch(/^NAME\s+SUBJECT\s+NOT_AFTER\s+CERT_FILE\nRootCA\s+CN=my-ca\s+\S+\s+.*RootCA\.pem\n$/)
    noKeyMaterial(r)
    expect(fs.readdirSync(work).sort()).toEqual(['RootCA.key', 'RootCA.pem'])
    expect(mode(path.join(work, 'RootCA.key'))).toBe(0o600)
    expect(openssl(['verify', '-CAfile', 'RootCA.pem', 'RootCA.pem'], work).stdout).toBe('RootCA.pem: OK\n')
    const text = openssl(['x509', '-in', 'RootCA.pem', '-noout', '-text'], work).stdout
    expect(text).toContain('Signature Algorithm: sha256WithRSAEncryption')
    expect(text).toContain('Public-Key: (2048 bit)')
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE\n/)
    expect(text).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign\n/)
    const days = openssl(['x509', '-in', 'RootCA.pem', '-noout', '-checkend', String(364 * 86400)], work)
    expect(days.stdout).toBe('Certificate will not expire\n')

    const listed = await cli(['ca', 'list', '--format', 'json'])
    const cas = JSON.parse(listed.stdout)
    expect(cas).toHaveLength(1)
    expect(cas[0]).toMatchObject({name: 'RootCA', subject: 'CN=my-ca', keyFile: path.join(work, 'RootCA.key'), keyEncrypted: false, publicKey: 'RSA Public Key, 2048 bits'})
    expect(cas[0].certificate).toBe(fs.readFileSync(path.join(work, 'RootCA.pem'), 'utf8'))
    // The store holds the key's path, never the key.
    const stored = fs.readFileSync(path.join(home, 'cas', 'RootCA.json'), 'utf8')
    expect(stored).not.toContain('PRIVATE KEY')
    expect(fs.readdirSync(path.join(home, 'cas'))).toEqual(['RootCA.json'])

    const described = await cli(['ca', 'describe', 'RootCA', '--format', 'value(name,subject,keyEncrypted)'])
    expect(described.stdout).toBe('RootCA\tCN=my-ca\tFalse\n')
    expect((await cli(['ca', 'list'])).stdout).toMatch(/^NAME\s+SUBJECT\s+NOT_AFTER\s+KEY_ENCRYPTED\s+CERT_FILE\nRootCA\s+CN=my-ca\s/)
  })

  it('ec-p256, --path-len, --days, --out-dir and an encrypted key that openssl opens with the password', async () => {
    fs.writeFileSync(path.join(work, 'pw.txt'), 'ca secret\nsecond line ignored\n')
    const r = await cli(['ca', 'create', 'mesh-ca', '--subject', '/O=Acme/CN=mesh-ca', '--key-type', 'ec-p256', '--path-len', '0', '--days', '1825', '--out-dir', 'pki/ca', '--key-password-file', 'pw.txt'])
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('Wrote pki/ca/mesh-ca.key (private key, 0600, encrypted) and pki/ca/mesh-ca.pem.')
    noKeyMaterial(r)
    const dir = path.join(work, 'pki/ca')
    expect(mode(path.join(dir, 'mesh-ca.key'))).toBe(0o600)
    expect(fs.readFileSync(path.join(dir, 'mesh-ca.key'), 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/)
    expect(openssl(['pkey', '-in', 'mesh-ca.key', '-passin', 'pass:ca secret', '-noout'], dir).code).toBe(0)
    expect(openssl(['pkey', '-in', 'mesh-ca.key', '-passin', 'pass:wrong', '-noout'], dir).code).not.toBe(0)
    const text = openssl(['x509', '-in', 'mesh-ca.pem', '-noout', '-text'], dir).stdout
    expect(text).toContain('Signature Algorithm: ecdsa-with-SHA256')
    expect(text).toContain('ASN1 OID: prime256v1')
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0\n/)
    expect(text).toContain('Subject: O = Acme, CN = mesh-ca')
    expect(openssl(['x509', '-in', 'mesh-ca.pem', '-noout', '-checkend', String(1824 * 86400)], dir).stdout).toBe('Certificate will not expire\n')
    const described = JSON.parse((await cli(['ca', 'describe', 'mesh-ca', '--format', 'json'])).stdout)
    expect(described).toMatchObject({keyEncrypted: true, pathLen: 0, publicKey: 'EC Public Key, 256 bits', subject: 'CN=mesh-ca, O=Acme'})
  })

  it('never overwrites without --force: a registered name, or an existing file', async () => {
    expect((await cli(['ca', 'create', 'RootCA', '--subject', '/CN=my-ca'])).code).toBe(0)
    const before = snapshot(root)
    const again = await cli(['ca', 'create', 'RootCA', '--subject', '/CN=other'])
    expect(again.code).toBe(1)
    expect(again.stdout).toBe('')
    expect(again.stderr).toBe(
      'ERROR: (mtlsctl.ca.create) ALREADY_EXISTS: CA "RootCA" is already registered.\nGive --force to replace it (and its files), or choose another name.\n',
    )
    expect(snapshot(root)).toEqual(before)

    fs.writeFileSync(path.join(work, 'Other.pem'), 'mine\n')
    const clash = await cli(['ca', 'create', 'Other', '--subject', '/CN=other'])
    expect(clash.code).toBe(1)
    expect(clash.stderr).toBe(
      `ERROR: (mtlsctl.ca.create) ALREADY_EXISTS: ${path.join(work, 'Other.pem')} already exists.\nGive --force to overwrite it, or choose another name or folder.\n`,
    )
    expect(fs.existsSync(path.join(work, 'Other.key'))).toBe(false)
    expect(fs.readFileSync(path.join(work, 'Other.pem'), 'utf8')).toBe('mine\n')
    expect(JSON.parse((await cli(['ca', 'list', '--format', 'json'])).stdout).map((c: {name: string}) => c.name)).toEqual(['RootCA'])

    const forced = await cli(['ca', 'create', 'RootCA', '--subject', '/CN=replaced', '--force'])
    expect(forced.code).toBe(0)
    expect(openssl(['x509', '-in', 'RootCA.pem', '-noout', '-subject'], work).stdout).toBe('subject=CN = replaced\n')
    expect(mode(path.join(work, 'RootCA.key'))).toBe(0o600)
    expect(JSON.parse((await cli(['ca', 'describe', 'RootCA', '--format', 'json'])).stdout).subject).toBe('CN=replaced')
  })

  it('a bad flag value: the message alone on stderr, exit 2 (issue 11, item 13)', async () => {
    const r = await cli(['ca', 'create', 'X', '--subject', '/CN=x', '--days', '-5'])
    expect(r).toEqual({code: 2, stdout: '', stderr: 'ERROR: (mtlsctl.ca.create) Invalid --days -5: a certificate must be valid for at least 1 day.\n'})
  })

  it('bad input gets a clear error and writes nothing', async () => {
    fs.writeFileSync(path.join(work, 'empty.txt'), '\n')
    const cases: Array<[string[], number, string]> = [
      // A bad flag value is a usage error (exit 2), with the engine's message (issue 11, item 13).
      [['ca', 'create', 'X', '--subject', 'CN=x'], 2, 'ERROR: (mtlsctl.ca.create) Invalid subject "CN=x": it must start with "/" and hold at least one TYPE=value.\n'],
      [['ca', 'create', 'X', '--subject', '/CN=x/BOGUS=1'], 2, 'ERROR: (mtlsctl.ca.create) Invalid subject "/CN=x/BOGUS=1": unknown attribute "BOGUS".'],
      [['ca', 'create', 'X', '--subject', '/CN=x', '--days', '0'], 2, 'ERROR: (mtlsctl.ca.create) Invalid --days 0: a certificate must be valid for at least 1 day.\n'],
      [['ca', 'create', 'X', '--subject', '/CN=x', '--days', '-5'], 2, 'ERROR: (mtlsctl.ca.create) Invalid --days -5: a certificate must be valid for at least 1 day.\n'],
      [['ca', 'create', 'X', '--subject', '/CN=x', '--path-len', '-1'], 2, 'ERROR: (mtlsctl.ca.create) Invalid --path-len "-1": use a whole number, 0 or more.\n'],
      [['ca', 'create', '../x', '--subject', '/CN=x'], 1, 'INVALID_ARGUMENT: Invalid ca name "../x"'],
      [['ca', 'create', 'X', '--subject', '/CN=x', '--key-password-file', 'nope.txt'], 1, 'INVALID_ARGUMENT: Cannot read the password file nope.txt (--key-password-file): no such file.'],
      [['ca', 'create', 'X', '--subject', '/CN=x', '--key-password-file', 'empty.txt'], 1, 'INVALID_ARGUMENT: The password file empty.txt (--key-password-file) is empty'],
      [['ca', 'create', 'X', '--subject', '/CN=x', '--key-type', 'dsa'], 2, 'Expected --key-type=dsa to be one of: rsa-2048, rsa-3072, rsa-4096, ec-p256'],
      [['ca', 'create', 'X'], 2, 'Missing required flag --subject.'],
    ]
    const before = snapshot(root)
    for (const [args, code, message] of cases) {
      const r = await cli(args)
      expect(r.code, args.join(' ')).toBe(code)
      expect(r.stdout).toBe('')
      expect(r.stderr).toContain(message)
      expect(snapshot(root), args.join(' ')).toEqual(before)
    }
  })

  it('describe of an unknown CA is NOT_FOUND with the fix', async () => {
    const r = await cli(['ca', 'describe', 'nope'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      "ERROR: (mtlsctl.ca.describe) NOT_FOUND: CA \"nope\" not found.\nCreate it with: mtlsctl ca create nope --subject '/CN=nope', or give its files with --ca-cert FILE --ca-key FILE.\n",
    )
  })
})
