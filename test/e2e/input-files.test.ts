import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {BIN, cliEnv, rmTemp, runCli, runProcess, tempDir} from '../helpers/cli.js'
import {seedStep1, snapshot} from '../helpers/pki.js'

/**
 * Every user input file the CLI reads goes through input.ts's readInput: a device is refused
 * unread, a pipe is cut at its kind's limit, and the message names the file, the flag and the
 * limit (issue 11, item 4). Exit 1, the state folder unchanged.
 */
let dir: string
let home: string
const env = {MTLSCTL_ORGANIZATION: 'myorg', MTLSCTL_ENVIRONMENT: 'dev'}
const cli = (args: string[]) => runCli(args, {home, cwd: dir, env})
const SPECIAL = 'it is not a regular file (a device, socket or other special file).'

beforeAll(async () => {
  dir = tempDir()
  home = path.join(dir, 'state')
  seedStep1(dir)
  expect((await runCli(['environments', 'create', 'dev', '--organization', 'myorg', '--api-proxy-type', 'programmable'], {home})).code).toBe(0)
  expect((await cli(['keystores', 'create', 'ks'])).code).toBe(0)
  expect((await cli(['aliases', 'add', 'a', '--keystore', 'ks', '--cert-file', 'RootCA.pem'])).code).toBe(0)
})
afterAll(() => rmTemp(dir))

describe('input files: limits before reading', () => {
  it('a pipe passing the PEM limit is cut at 1 MiB; /dev/zero is refused unread', async () => {
    const before = snapshot(home)
    // An endless pipe (`yes |`, a shell pipe): read in chunks and refused as it passes 1 MiB.
    const piped = await runProcess('sh', ['-c', `yes AAAAAAAAAAAAAAAA | "${process.execPath}" "${BIN}" aliases add b --keystore ks --cert-file /dev/stdin`], {
      cwd: dir,
      env: cliEnv(home, env),
    })
    expect(piped.code).toBe(1)
    expect(piped.stderr).toBe(
      "Using Apigee organization 'myorg'\nERROR: (mtlsctl.aliases.add) INVALID_ARGUMENT: The certificate file /dev/stdin (--cert-file) is larger than the 1 MiB limit for a certificate file.\nCheck that /dev/stdin is the file you meant.\n",
    )
    const password = await runProcess('sh', ['-c', `yes | "${process.execPath}" "${BIN}" aliases add b --keystore ks --cert-file my_gateway.pem --key-file my_gateway.key --key-password-file /dev/stdin`], {
      cwd: dir,
      env: cliEnv(home, env),
    })
    expect(password.code).toBe(1)
    expect(password.stderr).toContain('INVALID_ARGUMENT: The password file /dev/stdin (--key-password-file) is larger than the 4 KiB limit for a password file.\n')
    const update = await cli(['aliases', 'update', 'a', '--keystore', 'ks', '--cert-file', '/dev/zero'])
    expect(update.code).toBe(1)
    expect(update.stderr).toContain(`ERROR: (mtlsctl.aliases.update) INVALID_ARGUMENT: Cannot read the certificate file /dev/zero (--cert-file): ${SPECIAL}\n`)
    const describe = await cli(['certs', 'describe', '/dev/zero'])
    expect(describe.code).toBe(1)
    expect(describe.stderr).toBe(`ERROR: (mtlsctl.certs.describe) INVALID_ARGUMENT: Cannot read the certificate file /dev/zero: ${SPECIAL}\n`)
    const handshake = await cli(['certs', 'handshake', '--ca-cert', 'RootCA.pem', '--server', 'my_server', '--client-cert', 'my_gateway.pem', '--client-key', '/dev/zero'])
    expect(handshake.code).toBe(1)
    expect(handshake.stderr).toBe(`ERROR: (mtlsctl.certs.handshake) INVALID_ARGUMENT: Cannot read the key file /dev/zero (--client-key): ${SPECIAL}\n`)
    expect(snapshot(home)).toEqual(before)
  })

  it('mesh install: the gossip key file (the password limit) and the CA files', async () => {
    const out = path.join(dir, 'mesh-out')
    const topology = path.join(dir, 'topology.yaml')
    fs.writeFileSync(
      topology,
      'datacenters:\n  - name: dc-1\n    nodes:\n' +
        [1, 2, 3, 4, 5].map((i) => `      - {ip: 10.0.0.${i}, components: [${i <= 3 ? 'zookeeper, cassandra' : 'router, message-processor'}]}`).join('\n') +
        '\n',
    )
    fs.writeFileSync(path.join(dir, 'long.key'), 'k'.repeat(5000))
    const mesh = (...args: string[]) => cli(['mesh', 'install', '--topology', topology, '--out-dir', out, ...args])
    const gossip = await mesh('--gossip-key-file', 'long.key')
    expect(gossip.code).toBe(1)
    expect(gossip.stderr).toContain(
      'ERROR: (mtlsctl.mesh.install) INVALID_ARGUMENT: The gossip key file long.key (--gossip-key-file) is larger than the 4 KiB limit for a gossip key file.\n',
    )
    const zero = await mesh('--gossip-key-file', '/dev/zero')
    expect(zero.stderr).toContain(`INVALID_ARGUMENT: Cannot read the gossip key file /dev/zero (--gossip-key-file): ${SPECIAL}\n`)
    const caKey = await mesh('--ca-cert', 'RootCA.pem', '--ca-key', '/dev/zero')
    expect(caKey.code).toBe(1)
    expect(caKey.stderr).toContain(`INVALID_ARGUMENT: Cannot read the key file /dev/zero (--ca-key): ${SPECIAL}\n`)
    expect(fs.existsSync(out)).toBe(false)
  })

  it('the config file is read within the document limit', async () => {
    const other = path.join(dir, 'state-config')
    fs.mkdirSync(other, {mode: 0o700})
    fs.writeFileSync(path.join(other, 'config.json'), `{"organization": "${'o'.repeat(5 * 1024 * 1024)}"}`, {mode: 0o600})
    const r = await runCli(['config', 'list'], {home: other, cwd: dir})
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      `ERROR: (mtlsctl.config.list) INVALID_ARGUMENT: The config file ${path.join(other, 'config.json')} is larger than the 4 MiB limit for a config file.\nCheck that ${path.join(other, 'config.json')} is the file you meant.\n`,
    )
  })
})
