import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {rmTemp, runCli, tempDir} from '../helpers/cli.js'
import {openssl, seedStep1, snapshot} from '../helpers/pki.js'
import {TtySession, ttyUnavailable} from '../helpers/tty.js'

/**
 * Prompts on a real terminal (a tmux pane, test/helpers/tty.ts): what is asked, that secrets
 * stay masked, and the exit codes of "no" (1), Ctrl-C (130) and a missing value without a
 * terminal (2). Issue 11, items 12, 13 and 15.
 */
let dir: string
let home: string
const env = {MTLSCTL_ORGANIZATION: 'myorg', MTLSCTL_ENVIRONMENT: 'dev'}
const cli = (args: string[]) => runCli(args, {home, cwd: dir, env})
const sessions: TtySession[] = []
const tty = (args: string[]) => {
  const session = TtySession.start(args, {home, cwd: dir, env})
  sessions.push(session)
  return session
}
const PASSWORD = 's3cret-pass'
const unavailable = ttyUnavailable()
if (unavailable) console.warn(`Skipping the terminal tests: ${unavailable}.`)
const onTerminal = describe.skipIf(unavailable !== undefined)

beforeAll(async () => {
  dir = tempDir()
  home = path.join(dir, 'state')
  seedStep1(dir)
  fs.writeFileSync(path.join(dir, 'password.txt'), `${PASSWORD}\n`)
  for (const name of ['my_gateway', 'my_server']) {
    openssl(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', `${name}.key`, '-out', `${name}.enc.key`, '-passout', 'file:password.txt'], dir)
  }
  openssl(['pkcs12', '-export', '-in', 'my_gateway.pem', '-inkey', 'my_gateway.key', '-out', 'gateway.p12', '-passout', 'file:password.txt'], dir)
  expect((await runCli(['environments', 'create', 'dev', '--organization', 'myorg'], {home})).code).toBe(0)
  expect((await cli(['keystores', 'create', 'ks'])).code).toBe(0)
  expect((await cli(['ca', 'create', 'RootCA2', '--subject', '/CN=ca2', '--out-dir', 'ca2'])).code).toBe(0)
})
afterEach(() => {
  for (const s of sessions.splice(0)) s.kill()
})
afterAll(() => rmTemp(dir))

onTerminal('passwords of encrypted keys are asked on a terminal, masked (item 12)', () => {
  it('aliases add --key-file ENCRYPTED asks for the password, then stores the alias', async () => {
    const s = tty(['aliases', 'add', 'enc', '--keystore', 'ks', '--cert-file', 'my_gateway.pem', '--key-file', 'my_gateway.enc.key'])
    await s.waitFor('Password of my_gateway.enc.key:')
    s.type(PASSWORD)
    s.keys('Enter')
    const {code, screen} = await s.exit()
    expect(code, screen).toBe(0)
    expect(screen).toContain('Created alias [enc] (KEY_CERT) in keystore [ks].')
    expect(screen).toContain(`Password of my_gateway.enc.key: ${'*'.repeat(PASSWORD.length)}`)
    expect(screen).not.toContain(PASSWORD)
    expect(JSON.parse((await cli(['aliases', 'describe', 'enc', '--keystore', 'ks', '--format', 'json'])).stdout).type).toBe('KEY_CERT')
  })

  it('aliases add --p12-file asks for the PKCS#12 password', async () => {
    const s = tty(['aliases', 'add', 'p12', '--keystore', 'ks', '--p12-file', 'gateway.p12'])
    await s.waitFor('PKCS#12 password:')
    s.type(PASSWORD)
    s.keys('Enter')
    const {code, screen} = await s.exit()
    expect(code, screen).toBe(0)
    expect(screen).toContain('Created alias [p12] (KEY_CERT) in keystore [ks].')
    expect(screen).not.toContain(PASSWORD)
  })

  it('certs handshake asks for an encrypted server key; without a terminal it exits 2 naming the flag', async () => {
    const args = ['certs', 'handshake', '--ca-cert', 'RootCA.pem', '--server-cert', 'my_server.pem', '--server-key', 'my_server.enc.key', '--client', 'my_gateway', '--hostname', 'localhost']
    const piped = await cli(args)
    expect(piped.code).toBe(2)
    expect(piped.stderr).toBe(
      'ERROR: (mtlsctl.certs.handshake) Missing required flag --server-key-password-file.\nmy_server.enc.key is encrypted: give --server-key-password-file FILE (the password on its first line).\n',
    )
    const withFile = await cli([...args, '--server-key-password-file', 'password.txt'])
    expect(withFile.code, withFile.stderr).toBe(0)
    const s = tty(args)
    await s.waitFor('Password of my_server.enc.key:')
    s.type(PASSWORD)
    s.keys('Enter')
    const {code, screen} = await s.exit()
    expect(code, screen).toBe(0)
    expect(screen).toContain('Mutual TLS handshake succeeded on 127.0.0.1:')
  })

  it('certs verify --key and certs export: without a terminal, exit 2 naming --key-password-file', async () => {
    const verify = await cli(['certs', 'verify', 'my_server.pem', '--ca-cert', 'RootCA.pem', '--key', 'my_server.enc.key'])
    expect(verify.code).toBe(2)
    expect(verify.stderr).toBe(
      'ERROR: (mtlsctl.certs.verify) Missing required flag --key-password-file.\nmy_server.enc.key is encrypted: give --key-password-file FILE (the password on its first line).\n',
    )
    const exported = await cli(['certs', 'export', 'my_gateway', '--p12', 'out.p12'])
    expect(exported.code).toBe(2)
    expect(exported.stderr).toBe('ERROR: (mtlsctl.certs.export) Missing required flag --password-file.\nGive --password-file FILE (the password on its first line).\n')
    expect(fs.existsSync(path.join(dir, 'out.p12'))).toBe(false)
  })
})

onTerminal('the PKCS#12 export password is asked twice (item 15)', () => {
  it('a mismatch is said and asked again; the file opens with the password', async () => {
    const s = tty(['certs', 'export', 'my_gateway', '--p12', 'twice.p12'])
    await s.waitFor('PKCS#12 password:')
    s.type('first-try')
    s.keys('Enter')
    await s.waitFor('Confirm the password:')
    s.type('typo')
    s.keys('Enter')
    await s.waitFor('The passwords do not match: try again.')
    await s.waitFor(/try again\.\n.*PKCS#12 password:/)
    s.type(PASSWORD)
    s.keys('Enter')
    await s.waitFor(/Confirm the password:[^\n]*\n(?:.*\n)*.*Confirm the password:/)
    s.type(PASSWORD)
    s.keys('Enter')
    const {code, screen} = await s.exit()
    expect(code, screen).toBe(0)
    expect(screen).toContain('Wrote twice.p12 (0600)')
    expect(screen).not.toContain(PASSWORD)
    expect(openssl(['pkcs12', '-in', 'twice.p12', '-nokeys', '-passin', `pass:${PASSWORD}`], dir)).toContain('-----BEGIN CERTIFICATE-----')
  })

  it('three mismatches: exit 2, nothing written', async () => {
    const s = tty(['certs', 'export', 'my_gateway', '--p12', 'never.p12'])
    for (let i = 0; i < 3; i++) {
      await s.waitFor(new RegExp(`(?:PKCS#12 password:[\\s\\S]*){${i + 1}}`))
      s.type(`a${i}`)
      s.keys('Enter')
      await s.waitFor(new RegExp(`(?:Confirm the password:[\\s\\S]*){${i + 1}}`))
      s.type(`b${i}`)
      s.keys('Enter')
    }
    const {code, screen} = await s.exit()
    expect(code, screen).toBe(2)
    expect(screen).toContain('ERROR: (mtlsctl.certs.export) The passwords did not match (3 attempts).\nGive --password-file FILE (the password on its first line).')
    expect(fs.existsSync(path.join(dir, 'never.p12'))).toBe(false)
  })
})

onTerminal('confirmations and interruptions (items 13 and 15)', () => {
  it('"n" at a delete prompt: `Aborted by user.`, exit 1, nothing deleted', async () => {
    expect((await cli(['keystores', 'create', 'keep'])).code).toBe(0)
    expect((await cli(['aliases', 'add', 'a', '--keystore', 'keep', '--cert-file', 'RootCA.pem'])).code).toBe(0)
    const before = snapshot(home)
    for (const [args, prompt, path] of [
      [['keystores', 'delete', 'keep'], 'Keystore [keep] and its 1 alias(es) will be deleted. Do you want to continue? (Y/n)', 'keystores.delete'],
      [['aliases', 'delete', 'a', '--keystore', 'keep'], 'Alias [a] in keystore [keep] will be deleted. Do you want to continue? (Y/n)', 'aliases.delete'],
      [['environments', 'delete', 'dev'], 'Environment [organizations/myorg/environments/dev] and everything in it will be deleted. Do you want to continue? (Y/n)', 'environments.delete'],
    ] as const) {
      const s = tty([...args])
      await s.waitFor(prompt)
      s.type('n')
      s.keys('Enter')
      const {code, screen} = await s.exit()
      expect(code, screen).toBe(1)
      expect(screen.endsWith(`ERROR: (mtlsctl.${path}) Aborted by user.`), screen).toBe(true)
      expect(snapshot(home)).toEqual(before)
    }
    // The default stays yes: Enter alone deletes.
    const s = tty(['keystores', 'delete', 'keep'])
    await s.waitFor('Do you want to continue? (Y/n)')
    s.keys('Enter')
    const {code, screen} = await s.exit()
    expect(code, screen).toBe(0)
    expect(screen).toContain('Deleted keystore [keep].')
  })

  it('Ctrl-C at `Did you mean keystores list? (Y/n)` exits 130', async () => {
    const s = tty(['keystores', 'lst'])
    await s.waitFor('Did you mean keystores list? (Y/n)')
    s.keys('C-c')
    const {code, screen} = await s.exit()
    expect(code, screen).toBe(130)
    expect(screen).toContain('keystores lst is not a mtlsctl command.')
    // "n" there is still 127: no such command.
    const no = tty(['keystores', 'lst'])
    await no.waitFor('Did you mean keystores list? (Y/n)')
    no.type('n')
    no.keys('Enter')
    expect((await no.exit()).code).toBe(127)
  })

  it('Ctrl-C at a password prompt exits 130', async () => {
    const s = tty(['aliases', 'add', 'enc2', '--keystore', 'ks', '--cert-file', 'my_gateway.pem', '--key-file', 'my_gateway.enc.key'])
    await s.waitFor('Password of my_gateway.enc.key:')
    s.keys('C-c')
    const {code, screen} = await s.exit()
    expect(code, screen).toBe(130)
    expect(screen).toContain('ERROR: (mtlsctl.aliases.add) Interrupted.')
  })
})
