import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, beforeAll, beforeEach, expect, it} from 'vitest'

import {backendSuite} from '../helpers/backends.js'
import {rmTemp, tempDir} from '../helpers/cli.js'
import {certWithValidity, openssl, seedStep1, snapshot} from '../helpers/pki.js'

/**
 * Keystores, aliases and references, run twice with the same assertions: on the local engine,
 * and in remote mode against `mtlsctl emulator start` on another state folder.
 */
let dir: string
const env = {MTLSCTL_ORGANIZATION: 'myorg', MTLSCTL_ENVIRONMENT: 'dev'}

beforeAll(async () => {
  dir = tempDir()
  seedStep1(dir)
  const day = 86_400_000
  await certWithValidity(dir, 'expired', new Date(Date.now() - 30 * day), new Date(Date.now() - day))
  await certWithValidity(dir, 'future', new Date(Date.now() + 10 * day), new Date(Date.now() + 30 * day))
  await certWithValidity(dir, 'soon', new Date(Date.now() - day), new Date(Date.now() + 10 * day))
  fs.writeFileSync(path.join(dir, 'password.txt'), 's3cret-pass\n')
  fs.writeFileSync(path.join(dir, 'wrong.txt'), 'not-it\n')
  openssl(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-v2prf', 'hmacWithSHA256', '-in', 'my_gateway.key', '-out', 'gateway.enc.key', '-passout', 'file:password.txt'], dir)
  fs.writeFileSync(path.join(dir, 'combined.pem'), fs.readFileSync(path.join(dir, 'my_gateway.key'), 'utf8') + fs.readFileSync(path.join(dir, 'my_gateway.pem'), 'utf8'))
  fs.writeFileSync(path.join(dir, 'chain.pem'), fs.readFileSync(path.join(dir, 'my_gateway.pem'), 'utf8') + fs.readFileSync(path.join(dir, 'RootCA.pem'), 'utf8'))
  fs.writeFileSync(path.join(dir, 'reversed.pem'), fs.readFileSync(path.join(dir, 'RootCA.pem'), 'utf8') + fs.readFileSync(path.join(dir, 'my_server.pem'), 'utf8'))
  fs.writeFileSync(path.join(dir, 'broken.pem'), '-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n')
  openssl(['pkcs12', '-export', '-in', 'my_gateway.pem', '-inkey', 'my_gateway.key', '-certfile', 'RootCA.pem', '-out', 'gateway.p12', '-passout', 'file:password.txt'], dir)
})
afterAll(() => rmTemp(dir))

const opensslDateMs = (file: string, which: 'startdate' | 'enddate') =>
  String(Date.parse(openssl(['x509', '-in', file, '-noout', `-${which}`], dir).split('=')[1].trim()))

backendSuite('aliases (built CLI): the seed\'s Step 2', (b) => {
  let home: string
  const cli = (args: string[]) => b.cli(args, {cwd: dir, env})

  beforeEach(async () => {
    home = await b.setup()
    expect((await b.local(['environments', 'create', 'dev', '--organization', 'myorg'])).code).toBe(0)
    expect((await cli(['keystores', 'create', 'mtls_keystore'])).code).toBe(0)
    expect((await cli(['keystores', 'create', 'mtls_truststore'])).code).toBe(0)
  })

  it('stores a key+cert alias and a certificate-only alias with Apigee\'s Alias shape', async () => {
    const keyCert = await cli(['aliases', 'add', 'mtls_alias', '--keystore', 'mtls_keystore', '--cert-file', 'my_gateway.pem', '--key-file', 'my_gateway.key', '--format', 'json'])
    expect(keyCert.code).toBe(0)
    expect(keyCert.stderr).toBe("Using Apigee organization 'myorg'\nCreated alias [mtls_alias] (KEY_CERT) in keystore [mtls_keystore].\n")
    const certOnly = await cli(['aliases', 'add', 'mtls_ca', '--keystore', 'mtls_truststore', '--cert-file', 'RootCA.pem'])
    expect(certOnly.code).toBe(0)

    const described = await cli(['aliases', 'describe', 'mtls_alias', '--keystore', 'mtls_keystore', '--format', 'json'])
    const alias = JSON.parse(described.stdout)
    // Apigee's Alias, plus usedBy: the target servers of the latest deployment that present it (none yet).
    expect(Object.keys(alias).sort()).toEqual(['alias', 'certsInfo', 'type', 'usedBy'])
    expect(alias).toEqual({
      alias: 'mtls_alias',
      type: 'KEY_CERT',
      certsInfo: {
        certInfo: [
          {
            version: 1, // `openssl x509 -req` without extensions makes a v1 certificate
            subject: 'CN=gateway',
            issuer: 'CN=my-ca',
            expiryDate: opensslDateMs('my_gateway.pem', 'enddate'),
            validFrom: opensslDateMs('my_gateway.pem', 'startdate'),
            isValid: 'Yes',
            subjectAlternativeNames: [],
            sigAlgName: 'SHA256-RSA',
            publicKey: 'RSA Public Key, 2048 bits',
            basicConstraints: 'CA:FALSE',
            serialNumber: '01',
          },
        ],
      },
      usedBy: [],
    })
    const ca = JSON.parse((await cli(['aliases', 'describe', 'mtls_ca', '--keystore', 'mtls_truststore', '--format', 'json'])).stdout)
    expect(ca.type).toBe('CERT')
    const serial = openssl(['x509', '-in', 'RootCA.pem', '-noout', '-serial'], dir).split('=')[1].trim().toLowerCase()
    expect(ca.certsInfo.certInfo[0]).toMatchObject({version: 3, basicConstraints: 'CA:TRUE', subject: 'CN=my-ca', serialNumber: serial.match(/../g)!.join(':')})

    // The default describe is gcloud-style YAML: sorted keys, quoted int64 strings.
    const yaml = (await cli(['aliases', 'describe', 'mtls_alias', '--keystore', 'mtls_keystore'])).stdout
    expect(yaml).toMatch(/^alias: mtls_alias\ncertsInfo:\n  certInfo:\n  - basicConstraints: CA:FALSE\n    expiryDate: '\d{13}'\n    isValid: Yes\n/)

    const listed = await cli(['aliases', 'list', '--keystore', 'mtls_keystore', '--format', 'value(alias,type)'])
    expect(listed.stdout).toBe('mtls_alias\tKEY_CERT\n')
    const ks = await cli(['keystores', 'describe', 'mtls_keystore'])
    expect(ks.stdout).toMatch(/EXPIRATION STATUS\nmtls_alias\s+KEY_CERT\s+CN=gateway\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+Yes\n\nUsed by: no target server of the latest deployment\.\n$/)
    const key = path.join(home, 'organizations/myorg/environments/dev/keystores/mtls_keystore/aliases/mtls_alias/key.pem')
    expect(fs.statSync(key).mode & 0o777).toBe(0o600)
  })

  it('accepts an encrypted key with its password, a combined PEM, a chain and a PKCS#12 file', async () => {
    expect((await cli(['aliases', 'add', 'enc', '--keystore', 'mtls_keystore', '--cert-file', 'my_gateway.pem', '--key-file', 'gateway.enc.key', '--key-password-file', 'password.txt'])).code).toBe(0)
    expect((await cli(['aliases', 'add', 'combined', '--keystore', 'mtls_keystore', '--cert-file', 'combined.pem', '--format', 'value(type)'])).stdout).toBe('KEY_CERT\n')
    const chain = await cli(['aliases', 'add', 'chain', '--keystore', 'mtls_keystore', '--cert-file', 'chain.pem', '--key-file', 'my_gateway.key', '--format', 'json'])
    expect(JSON.parse(chain.stdout).certsInfo.certInfo.map((c: {subject: string}) => c.subject)).toEqual(['CN=gateway', 'CN=my-ca'])
    const p12 = await cli(['aliases', 'add', 'p12', '--keystore', 'mtls_keystore', '--p12-file', 'gateway.p12', '--p12-password-file', 'password.txt', '--format', 'json'])
    expect(p12.code).toBe(0)
    expect(JSON.parse(p12.stdout)).toMatchObject({type: 'KEY_CERT', certsInfo: {certInfo: [{subject: 'CN=gateway'}, {subject: 'CN=my-ca'}]}})
    const self = await cli(['aliases', 'add', 'self', '--keystore', 'mtls_keystore', '--self-signed', '--subject', '/CN=self.example', '--san', 'DNS:self.example', '--format', 'json'])
    expect(JSON.parse(self.stdout).certsInfo.certInfo[0]).toMatchObject({subject: 'CN=self.example', issuer: 'CN=self.example', subjectAlternativeNames: ['self.example']})
  })

  it('refuses bad input with a clear error, exit code, and the store unchanged', async () => {
    await cli(['aliases', 'add', 'taken', '--keystore', 'mtls_keystore', '--cert-file', 'my_gateway.pem', '--key-file', 'my_gateway.key'])
    const before = snapshot(home)
    const cases: Array<[string[], number, string]> = [
      [['--cert-file', 'my_gateway.pem', '--key-file', 'my_server.key'], 1, 'INVALID_ARGUMENT: The private key in my_server.key does not match the certificate in my_gateway.pem.'],
      [['--cert-file', 'my_gateway.pem', '--key-file', 'gateway.enc.key', '--key-password-file', 'wrong.txt'], 1, 'INVALID_ARGUMENT: Wrong password for the private key in gateway.enc.key.'],
      [['--cert-file', 'broken.pem'], 1, 'INVALID_ARGUMENT: broken.pem holds a malformed PEM CERTIFICATE block (bad base64).'],
      [['--cert-file', 'my_gateway.key'], 1, 'INVALID_ARGUMENT: my_gateway.key holds no PEM certificate ("-----BEGIN CERTIFICATE-----").'],
      [['--cert-file', 'missing.pem'], 1, 'INVALID_ARGUMENT: Cannot read the certificate file missing.pem (--cert-file): no such file.'],
      [['--cert-file', 'expired.pem', '--key-file', 'expired.key'], 1, 'INVALID_ARGUMENT: Certificate has expired: the certificate in expired.pem expired on'],
      [['--cert-file', 'future.pem'], 1, 'INVALID_ARGUMENT: Certificate is not yet valid: the certificate in future.pem is valid from'],
      [['--cert-file', 'reversed.pem'], 1, 'INVALID_ARGUMENT: The certificate chain in reversed.pem is out of order: certificate 2 did not issue certificate 1.'],
      [['--p12-file', 'gateway.p12', '--p12-password-file', 'wrong.txt'], 1, 'INVALID_ARGUMENT: Cannot open the PKCS#12 file gateway.p12: wrong password, or not a PKCS#12 file.'],
      [['--cert-file', 'my_gateway.pem', '--self-signed', '--subject', '/CN=x'], 2, 'Give exactly one alias source, not --cert-file and --self-signed.'],
      [[], 2, 'Missing the alias source: give one of --cert-file, --p12-file, --self-signed or --ca.'],
    ]
    for (const [args, code, message] of cases) {
      const r = await cli(['aliases', 'add', 'new_alias', '--keystore', 'mtls_keystore', ...args])
      expect(r.code, args.join(' ')).toBe(code)
      expect(r.stderr, args.join(' ')).toContain(`ERROR: (mtlsctl.aliases.add) ${message}`)
      expect(r.stdout).toBe('')
      expect(snapshot(home)).toEqual(before)
    }
    const dup = await cli(['aliases', 'add', 'taken', '--keystore', 'mtls_keystore', '--cert-file', 'RootCA.pem'])
    expect(dup.code).toBe(1)
    expect(dup.stderr).toContain('ALREADY_EXISTS: Alias "organizations/myorg/environments/dev/keystores/mtls_keystore/aliases/taken" already exists.')
    const noKs = await cli(['aliases', 'add', 'a', '--keystore', 'nope', '--cert-file', 'RootCA.pem'])
    expect(noKs.code).toBe(1)
    expect(noKs.stderr).toContain('NOT_FOUND: Keystore "organizations/myorg/environments/dev/keystores/nope" not found.')
    const noEnv = await b.cli(['aliases', 'add', 'a', '--keystore', 'ks', '--cert-file', 'RootCA.pem', '--environment', 'prod'], {cwd: dir, env: {MTLSCTL_ORGANIZATION: 'myorg'}})
    expect(noEnv.stderr).toContain('NOT_FOUND: Environment "organizations/myorg/environments/prod" not found.')
    const badName = await cli(['aliases', 'add', 'bad name', '--keystore', 'mtls_keystore', '--cert-file', 'RootCA.pem'])
    expect(badName.code).toBe(1)
    expect(badName.stderr).toContain('INVALID_ARGUMENT: Invalid alias name "bad name": it must match the pattern [\\w.-]{1,255}')
    const escape = await cli(['aliases', 'describe', '..', '--keystore', 'mtls_keystore'])
    expect(escape.stderr).toContain('INVALID_ARGUMENT: Invalid alias name ".."')
    // Remotely refused before any request (a URL would resolve `..` to the keystore's).
    if (b.emulator) expect(b.emulator.stderr()).not.toMatch(/ \/v1\/\S*\/ \d{3} /)
    expect(snapshot(home)).toEqual(before)

    const ignored = await cli(['aliases', 'add', 'expired', '--keystore', 'mtls_truststore', '--cert-file', 'expired.pem', '--ignore-expiry-validation', '--format', 'value(certsInfo.certInfo.0.isValid)'])
    expect(ignored).toMatchObject({code: 0, stdout: 'No\n'})
  })

  it('input files are read within their limit, and a chain is at most 10 distinct certificates (issue 11, item 4)', async () => {
    const root = fs.readFileSync(path.join(dir, 'RootCA.pem'), 'utf8')
    fs.writeFileSync(path.join(dir, 'big.pem'), root.repeat(Math.ceil((2 * 1024 * 1024) / root.length))) // ~2 MB of PEM
    fs.writeFileSync(path.join(dir, 'long-password.txt'), 'x'.repeat(4 * 1024 + 1))
    fs.writeFileSync(path.join(dir, 'eleven.pem'), root.repeat(11))
    fs.writeFileSync(path.join(dir, 'twice.pem'), fs.readFileSync(path.join(dir, 'chain.pem'), 'utf8') + root)
    const before = snapshot(home)
    const special = 'it is not a regular file (a device, socket or other special file).'
    const cases: Array<[string[], number, string]> = [
      [['--cert-file', '/dev/zero'], 1, `INVALID_ARGUMENT: Cannot read the certificate file /dev/zero (--cert-file): ${special}\n`],
      [['--cert-file', 'my_gateway.pem', '--key-file', '/dev/zero'], 1, `INVALID_ARGUMENT: Cannot read the key file /dev/zero (--key-file): ${special}\n`],
      [['--cert-file', 'my_gateway.pem', '--key-file', 'gateway.enc.key', '--key-password-file', '/dev/zero'], 1, `INVALID_ARGUMENT: Cannot read the password file /dev/zero (--key-password-file): ${special}\n`],
      [['--p12-file', '/dev/zero', '--p12-password-file', 'password.txt'], 1, `INVALID_ARGUMENT: Cannot read the PKCS#12 file /dev/zero (--p12-file): ${special}\n`],
      [['--p12-file', 'gateway.p12', '--p12-password-file', '/dev/zero'], 1, `INVALID_ARGUMENT: Cannot read the password file /dev/zero (--p12-password-file): ${special}\n`],
      [['--cert-file', 'big.pem'], 1, 'INVALID_ARGUMENT: The certificate file big.pem (--cert-file) is larger than the 1 MiB limit for a certificate file.\nCheck that big.pem is the file you meant.\n'],
      [['--cert-file', 'my_gateway.pem', '--key-file', 'gateway.enc.key', '--key-password-file', 'long-password.txt'], 1, 'INVALID_ARGUMENT: The password file long-password.txt (--key-password-file) is larger than the 4 KiB limit for a password file.\n'],
      [['--cert-file', 'eleven.pem'], 1, "INVALID_ARGUMENT: eleven.pem holds 11 certificates: a certificate chain holds at most 10 (the leaf, then each issuer once).\nKeep the leaf and the CAs that issued it; Apigee's runtime refuses a longer chain.\n"],
      [['--cert-file', 'twice.pem', '--key-file', 'my_gateway.key'], 1, "INVALID_ARGUMENT: The certificate chain in twice.pem holds the same certificate twice: certificate 3 repeats certificate 2.\n"],
    ]
    for (const [args, code, message] of cases) {
      const r = await cli(['aliases', 'add', 'new_alias', '--keystore', 'mtls_keystore', ...args])
      expect(r.code, args.join(' ')).toBe(code)
      expect(r.stderr, args.join(' ')).toContain(`ERROR: (mtlsctl.aliases.add) ${message}`)
      expect(r.stdout).toBe('')
    }
    // The root given twice (it issues itself, so the order check alone let it through) is refused.
    const rootTwice = await cli(['aliases', 'add', 'new_alias', '--keystore', 'mtls_truststore', '--cert-file', 'twice.pem'])
    expect(rootTwice.stderr).toContain('holds the same certificate twice: certificate 3 repeats certificate 2.')
    expect(snapshot(home)).toEqual(before)
    // A chain within the limits is still stored.
    const ok = await cli(['aliases', 'add', 'chain', '--keystore', 'mtls_keystore', '--cert-file', 'chain.pem', '--key-file', 'my_gateway.key'])
    expect(ok.code).toBe(0)
  })

  it('an encrypted key without --key-password-file: exit 2 naming the flag when there is no terminal (issue 11, item 12)', async () => {
    const before = snapshot(home)
    for (const args of [
      ['--cert-file', 'my_gateway.pem', '--key-file', 'gateway.enc.key'],
      ['--cert-file', 'my_gateway.pem', '--key-file', 'gateway.enc.key', '--quiet'],
    ]) {
      const r = await cli(['aliases', 'add', 'enc', '--keystore', 'mtls_keystore', ...args])
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr).toBe(
        "Using Apigee organization 'myorg'\nERROR: (mtlsctl.aliases.add) Missing required flag --key-password-file.\ngateway.enc.key is encrypted: give --key-password-file FILE (the password on its first line).\n",
      )
    }
    const p12 = await cli(['aliases', 'add', 'p12', '--keystore', 'mtls_keystore', '--p12-file', 'gateway.p12'])
    expect(p12.code).toBe(2)
    expect(p12.stderr).toBe(
      "Using Apigee organization 'myorg'\nERROR: (mtlsctl.aliases.add) Missing required flag --p12-password-file.\nGive --p12-password-file FILE (the password on its first line).\n",
    )
    expect(snapshot(home)).toEqual(before)
  })

  it('configurable environments refuse alias and reference updates with Apigee\'s exact texts', async () => {
    await cli(['aliases', 'add', 'mtls_alias', '--keystore', 'mtls_keystore', '--cert-file', 'my_gateway.pem', '--key-file', 'my_gateway.key'])
    await cli(['references', 'create', 'mtls_ref', '--refers', 'mtls_keystore'])
    const before = snapshot(home)
    const alias = await cli(['aliases', 'update', 'mtls_alias', '--keystore', 'mtls_keystore', '--cert-file', 'my_gateway.pem'])
    expect(alias.code).toBe(1)
    expect(alias.stderr).toBe(
      "Using Apigee organization 'myorg'\nERROR: (mtlsctl.aliases.update) FAILED_PRECONDITION: Alias updates are currently disabled for configurable proxy environments. To update the certificate, create a new alias and reference it within a new archive deployment.\n",
    )
    const ref = await cli(['references', 'update', 'mtls_ref', '--refers', 'mtls_truststore'])
    expect(ref.code).toBe(1)
    expect(ref.stderr).toBe(
      "Using Apigee organization 'myorg'\nERROR: (mtlsctl.references.update) FAILED_PRECONDITION: Reference updates are currently disabled for configurable proxy environments. To update the reference, create a new reference and reference it within a new archive deployment.\n",
    )
    expect(snapshot(home)).toEqual(before)
  })

  it('programmable environments allow updates; the stored key must match the new certificate', async () => {
    const progEnv = {MTLSCTL_ORGANIZATION: 'myorg', MTLSCTL_ENVIRONMENT: 'prog'}
    const prog = (args: string[]) => b.cli(args, {cwd: dir, env: progEnv})
    expect((await b.local(['environments', 'create', 'prog', '--api-proxy-type', 'programmable'], {env: progEnv})).code).toBe(0)
    await prog(['keystores', 'create', 'ks'])
    await prog(['aliases', 'add', 'a', '--keystore', 'ks', '--cert-file', 'my_gateway.pem', '--key-file', 'my_gateway.key'])
    const mismatch = await prog(['aliases', 'update', 'a', '--keystore', 'ks', '--cert-file', 'my_server.pem'])
    expect(mismatch.code).toBe(1)
    expect(mismatch.stderr).toContain('does not match the certificate in my_server.pem')
    const ok = await prog(['aliases', 'update', 'a', '--keystore', 'ks', '--cert-file', 'chain.pem', '--format', 'value(certsInfo.certInfo.1.subject)'])
    expect(ok).toMatchObject({code: 0, stdout: 'CN=my-ca\n'})
    await prog(['keystores', 'create', 'ks2'])
    await prog(['references', 'create', 'r', '--refers', 'ks'])
    const updated = await prog(['references', 'update', 'r', '--refers', 'ks2', '--resource-type', 'TrustStore', '--format', 'json'])
    expect(JSON.parse(updated.stdout)).toEqual({name: 'r', resourceType: 'TrustStore', refers: 'ks2'})
  })

  it('makes a CSR for a key+cert alias that openssl verifies, and lists expiring certificates', async () => {
    await cli(['aliases', 'add', 'mtls_alias', '--keystore', 'mtls_keystore', '--cert-file', 'my_gateway.pem', '--key-file', 'my_gateway.key'])
    await cli(['aliases', 'add', 'soon', '--keystore', 'mtls_truststore', '--cert-file', 'soon.pem'])
    const out = path.join(path.dirname(home), 'alias.csr') // per test: --out refuses to overwrite
    const csr = await cli(['aliases', 'csr', 'mtls_alias', '--keystore', 'mtls_keystore', '--out', out])
    expect(csr.code).toBe(0)
    expect(openssl(['req', '-in', out, '-noout', '-verify', '-subject'], dir)).toContain('subject=CN = gateway')
    const certOnly = await cli(['aliases', 'csr', 'soon', '--keystore', 'mtls_truststore'])
    expect(certOnly.code).toBe(1)
    const soon = await cli(['aliases', 'list', '--expiring-within', '30d', '--format', 'value(keystore,alias,isValid)'])
    expect(soon.stdout).toBe('mtls_truststore\tsoon\tYes\n')
    const table = await cli(['aliases', 'list', '--expiring-within', '400d'])
    expect(table.stdout.split('\n')[0]).toMatch(/^ENVIRONMENT\s+KEYSTORE\s+ALIAS\s+SUBJECT\s+EXPIRES\s+DAYS LEFT\s+VALID\s+BREAKS$/)
    // Nothing deployed: nothing breaks; --exit-code says whether anything expires (15) or not (0).
    expect(table.stdout).toMatch(/\ndev\s+mtls_truststore\s+soon\s+CN=\S+\s+\S+\s+\d+\s+Yes\s*\n/)
    expect((await cli(['aliases', 'list', '--expiring-within', '30d', '--exit-code', '--format', 'value(alias)'])).code).toBe(15)
    expect(await cli(['aliases', 'list', '--expiring-within', '1h', '--exit-code'])).toMatchObject({code: 0, stdout: ''})
  })

  it('never prints key material, whatever the command or format', async () => {
    const outputs: string[] = []
    const run = async (args: string[]) => {
      const r = await cli(args)
      outputs.push(r.stdout, r.stderr)
      return r
    }
    await run(['aliases', 'add', 'mtls_alias', '--keystore', 'mtls_keystore', '--cert-file', 'combined.pem', '--verbosity', 'debug'])
    await run(['aliases', 'add', 'x', '--keystore', 'mtls_keystore', '--cert-file', 'my_gateway.pem', '--key-file', 'gateway.enc.key', '--key-password-file', 'wrong.txt', '--verbosity', 'debug'])
    for (const format of ['json', 'yaml', 'csv(alias,type)', 'table(alias)', 'value(alias)']) {
      await run(['aliases', 'describe', 'mtls_alias', '--keystore', 'mtls_keystore', '--format', format])
      await run(['aliases', 'list', '--keystore', 'mtls_keystore', '--format', format])
      await run(['keystores', 'describe', 'mtls_keystore', '--format', format])
    }
    await run(['aliases', 'csr', 'mtls_alias', '--keystore', 'mtls_keystore'])
    const keyBody = fs.readFileSync(path.join(dir, 'my_gateway.key'), 'utf8').split('\n').filter((l) => l && !l.startsWith('-----'))
    // Remotely, the emulator's request log too.
    const all = [...outputs, b.emulator?.stderr() ?? ''].join('\n')
    expect(all).not.toMatch(/PRIVATE KEY/)
    for (const line of keyBody) expect(all).not.toContain(line)
    expect(all).not.toContain('s3cret-pass')
    expect(all).not.toContain('not-it')
    if (b.token) expect(all).not.toContain(b.token)
  })

  // Local only: the store's lock under 50 writer processes (the emulator's side of it: 120 concurrent API creations in emulator.test.ts).
  if (b.kind === 'local') it('50 concurrent `aliases add` into one keystore: 50 aliases', async () => {
    const results = await Promise.all(
      Array.from({length: 50}, (_, i) => cli(['aliases', 'add', `a${i}`, '--keystore', 'mtls_truststore', '--cert-file', 'RootCA.pem', '--format', 'value(alias)'])),
    )
    for (const r of results) expect(r.code).toBe(0)
    const listed = await cli(['aliases', 'list', '--keystore', 'mtls_truststore', '--format', 'value(alias)'])
    expect(listed.stdout.trim().split('\n').sort()).toEqual(Array.from({length: 50}, (_, i) => `a${i}`).sort())
  }, 120_000)

  it('deleting a keystore with aliases removes everything it holds', async () => {
    await cli(['aliases', 'add', 'mtls_alias', '--keystore', 'mtls_keystore', '--cert-file', 'my_gateway.pem', '--key-file', 'my_gateway.key'])
    const r = await cli(['keystores', 'delete', 'mtls_keystore', '--quiet'])
    expect(r).toMatchObject({code: 0, stdout: ''})
    expect(fs.existsSync(path.join(home, 'organizations/myorg/environments/dev/keystores/mtls_keystore'))).toBe(false)
    expect((await cli(['keystores', 'list', '--format', 'value(name)'])).stdout).toBe('mtls_truststore\n')
    const again = await cli(['keystores', 'create', 'mtls_keystore'])
    expect(again.code).toBe(0)
    expect((await cli(['aliases', 'list', '--keystore', 'mtls_keystore', '--format', 'json'])).stdout).toBe('[]\n')
  })

  it('keystores: create, list, describe, delete; duplicates, missing ones and bad names refused in the same words', async () => {
    const ks = (args: string[]) => cli(['keystores', ...args])
    expect(await ks(['create', 'third', '--format', 'json'])).toMatchObject({code: 0, stdout: '{\n  "name": "third",\n  "aliases": []\n}\n'})
    expect((await ks(['list'])).stdout).toBe('mtls_keystore\nmtls_truststore\nthird\n')
    const before = snapshot(home)
    const refusals: Array<[string[], string, string?]> = [
      [['create', 'third'], 'ALREADY_EXISTS: Keystore "organizations/myorg/environments/dev/keystores/third" already exists.'],
      [['describe', 'nope'], 'NOT_FOUND: Keystore "organizations/myorg/environments/dev/keystores/nope" not found.', 'Create it with: mtlsctl keystores create nope --organization myorg --environment dev'],
      [['delete', 'nope', '--quiet'], 'NOT_FOUND: Keystore "organizations/myorg/environments/dev/keystores/nope" not found.', 'Create it with: mtlsctl keystores create nope --organization myorg --environment dev'],
      [['create', 'bad name'], 'INVALID_ARGUMENT: Invalid keystore name "bad name": it must match the pattern [\\w.-]{1,255} (letters, digits, "_", "." and "-"; not starting with "."; no whitespace or "/").'],
      [['delete', '..', '--quiet'], 'INVALID_ARGUMENT: Invalid keystore name "..": it must match the pattern [\\w.-]{1,255} (letters, digits, "_", "." and "-"; not starting with "."; no whitespace or "/").'],
    ]
    for (const [args, message, hint] of refusals) {
      const r = await ks(args)
      expect(r.code, args.join(' ')).toBe(1)
      expect(r.stdout).toBe('')
      // The engine's hint line is its own: it does not travel over HTTP.
      const hintLine = hint && b.kind === 'local' ? `${hint}\n` : ''
      expect(r.stderr, args.join(' ')).toBe(`Using Apigee organization 'myorg'\nERROR: (mtlsctl.keystores.${args[0]}) ${message}\n${hintLine}`)
    }
    expect(snapshot(home)).toEqual(before)
    expect(await ks(['delete', 'third', '--quiet'])).toMatchObject({code: 0, stdout: ''})
    expect((await ks(['list', '--format', 'value(name)'])).stdout).toBe('mtls_keystore\nmtls_truststore\n')
  })

  it('an alias issued by the local CA (--ca): the CA stays in this machine\'s state folder, the alias goes to the backend', async () => {
    const caDir = path.dirname(home)
    expect((await cli(['ca', 'create', 'test-ca', '--subject', '/CN=test-ca', '--out-dir', caDir])).code).toBe(0)
    const r = await cli(['aliases', 'add', 'from_ca', '--keystore', 'mtls_keystore', '--ca', 'test-ca', '--subject', '/CN=client.example', '--san', 'DNS:client.example', '--format', 'json'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toBe("Using Apigee organization 'myorg'\nCreated alias [from_ca] (KEY_CERT) in keystore [mtls_keystore].\n")
    const created = JSON.parse(r.stdout)
    expect(created).toMatchObject({alias: 'from_ca', type: 'KEY_CERT', certsInfo: {certInfo: [{subject: 'CN=client.example', issuer: 'CN=test-ca', subjectAlternativeNames: ['client.example']}, {subject: 'CN=test-ca', basicConstraints: 'CA:TRUE'}]}})
    expect(JSON.parse((await cli(['aliases', 'describe', 'from_ca', '--keystore', 'mtls_keystore', '--format', 'json'])).stdout)).toEqual({...created, usedBy: []})
    const stored = path.join(home, 'organizations/myorg/environments/dev/keystores/mtls_keystore/aliases/from_ca/key.pem')
    expect(fs.statSync(stored).mode & 0o777).toBe(0o600)
    // The CA's key never reaches the backend's state folder when that is not this machine's.
    const caKey = fs.readFileSync(path.join(caDir, 'test-ca.key'), 'base64')
    if (b.kind === 'remote') expect(Object.values(snapshot(home)).some((v) => v.endsWith(caKey))).toBe(false)
  })

  it('references: create, list, describe, delete; the target must exist', async () => {
    expect((await cli(['references', 'create', 'r1', '--refers', 'mtls_keystore', '--format', 'json'])).stdout).toBe(
      '{\n  "name": "r1",\n  "resourceType": "KeyStore",\n  "refers": "mtls_keystore"\n}\n',
    )
    const missing = await cli(['references', 'create', 'r2', '--refers', 'nope'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('INVALID_ARGUMENT: Reference target "organizations/myorg/environments/dev/keystores/nope" does not exist.')
    expect((await cli(['references', 'list', '--format', 'value(name,refers)'])).stdout).toBe('r1\tmtls_keystore\n')
    expect((await cli(['references', 'describe', 'r1', '--format', 'value(resourceType)'])).stdout).toBe('KeyStore\n')
    expect((await cli(['references', 'delete', 'r1'])).code).toBe(0)
    expect((await cli(['references', 'describe', 'r1'])).stderr).toContain('NOT_FOUND: Reference "organizations/myorg/environments/dev/references/r1" not found.')
  })
})
