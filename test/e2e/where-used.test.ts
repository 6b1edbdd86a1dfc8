import * as path from 'node:path'
import {afterAll, beforeAll, beforeEach, expect, it} from 'vitest'

import {backendSuite} from '../helpers/backends.js'
import {ROOT, rmTemp, tempDir} from '../helpers/cli.js'
import {seedStep1} from '../helpers/pki.js'

/**
 * Where used (issue 14): the target servers of each environment's latest successful deployment
 * that use an alias or keystore, in describe, in delete refusals and in the expiry list. On both
 * backends: remotely the deployment's zip comes back through :generateDownloadUrl.
 */
let dir: string
const flags = ['--organization', 'myorg', '--environment', 'dev']
const VALID = path.join(ROOT, 'examples/archives/valid/src')

beforeAll(() => {
  dir = tempDir()
  seedStep1(dir)
})
afterAll(() => rmTemp(dir))

backendSuite('where used (built CLI)', (b) => {
  const cli = (args: string[]) => b.cli(args, {cwd: dir})
  let archive: string

  beforeEach(async () => {
    await b.setup()
    expect((await b.local(['environments', 'create', 'dev', '--organization', 'myorg'])).code).toBe(0)
    expect((await b.local(['environments', 'create', 'prod', '--organization', 'myorg'])).code).toBe(0)
    for (const args of [
      ['keystores', 'create', 'mtls_keystore', ...flags],
      ['keystores', 'create', 'mtls_truststore', ...flags],
      ['keystores', 'create', 'spare', ...flags],
      ['aliases', 'add', 'mtls_alias', '--keystore', 'mtls_keystore', '--cert-file', 'my_gateway.pem', '--key-file', 'my_gateway.key', ...flags],
      ['aliases', 'add', 'unused', '--keystore', 'mtls_keystore', '--cert-file', 'my_gateway.pem', '--key-file', 'my_gateway.key', ...flags],
      ['aliases', 'add', 'mtls_ca', '--keystore', 'mtls_truststore', '--cert-file', 'RootCA.pem', ...flags],
      ['archives', 'deploy', '--source', VALID, ...flags],
    ]) {
      const r = await cli(args)
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0)
    }
    archive = (await cli(['archives', 'list', ...flags, '--format', 'value(archiveId)'])).stdout.trim()
    expect(archive).toMatch(/^[a-z0-9]{18}$/)
  })

  it('aliases describe and keystores describe name the deployed target servers that use them', async () => {
    const used = JSON.parse((await cli(['aliases', 'describe', 'mtls_alias', '--keystore', 'mtls_keystore', ...flags, '--format', 'json'])).stdout)
    expect(used.usedBy).toEqual([{environment: 'dev', archiveDeployment: archive, proxy: 'helloworld', targetServer: 'mymtlstarget'}])
    const unused = JSON.parse((await cli(['aliases', 'describe', 'unused', '--keystore', 'mtls_keystore', ...flags, '--format', 'json'])).stdout)
    expect(unused.usedBy).toEqual([])

    const truststore = await cli(['keystores', 'describe', 'mtls_truststore', ...flags])
    expect(truststore.code).toBe(0)
    expect(truststore.stdout).toContain(
      `\nUsed by:\nENVIRONMENT  ARCHIVE DEPLOYMENT  PROXY       TARGET SERVER  AS\ndev          ${archive}  helloworld  mymtlstarget   truststore\n`,
    )
    const keystore = JSON.parse((await cli(['keystores', 'describe', 'mtls_keystore', ...flags, '--format', 'json'])).stdout)
    expect(keystore.usedBy).toEqual([{environment: 'dev', archiveDeployment: archive, proxy: 'helloworld', targetServer: 'mymtlstarget', as: 'client certificate'}])
    expect((await cli(['keystores', 'describe', 'spare', ...flags])).stdout).toContain('\nUsed by: no target server of the latest deployment.\n')
  })

  it('deleting an alias or keystore in use is refused naming its users, unless --force', async () => {
    const alias = await cli(['aliases', 'delete', 'mtls_alias', '--keystore', 'mtls_keystore', ...flags, '--quiet'])
    expect(alias.code).toBe(1)
    expect(alias.stderr).toBe(
      `ERROR: (mtlsctl.aliases.delete) FAILED_PRECONDITION: Alias "organizations/myorg/environments/dev/keystores/mtls_keystore/aliases/mtls_alias" is used by 1 target server(s) of the latest deployment:\n` +
        `  environment dev, archive deployment ${archive}, proxy helloworld, target server mymtlstarget\n` +
        'Rotate it first (mtlsctl aliases rotate mtls_alias --keystore mtls_keystore --source DIR ...), or pass --force to delete it anyway.\n',
    )
    const keystore = await cli(['keystores', 'delete', 'mtls_truststore', ...flags, '--quiet'])
    expect(keystore.code).toBe(1)
    expect(keystore.stderr).toBe(
      `ERROR: (mtlsctl.keystores.delete) FAILED_PRECONDITION: Keystore "organizations/myorg/environments/dev/keystores/mtls_truststore" is used by 1 target server(s) of the latest deployment:\n` +
        `  environment dev, archive deployment ${archive}, proxy helloworld, target server mymtlstarget\n` +
        'Rotate it first (mtlsctl keystores rotate mtls_truststore --new-keystore NAME --source DIR ...), or pass --force to delete it anyway.\n',
    )
    // Both still there; an unused one goes without --force.
    expect((await cli(['aliases', 'list', '--keystore', 'mtls_keystore', ...flags, '--format', 'value(alias)'])).stdout).toBe('mtls_alias\nunused\n')
    expect((await cli(['aliases', 'delete', 'unused', '--keystore', 'mtls_keystore', ...flags, '--quiet'])).code).toBe(0)
    expect((await cli(['keystores', 'delete', 'spare', ...flags, '--quiet'])).code).toBe(0)

    expect((await cli(['aliases', 'delete', 'mtls_alias', '--keystore', 'mtls_keystore', ...flags, '--quiet', '--force'])).code).toBe(0)
    expect((await cli(['keystores', 'delete', 'mtls_truststore', ...flags, '--quiet', '--force'])).code).toBe(0)
    expect((await cli(['keystores', 'list', ...flags])).stdout).toBe('mtls_keystore\n')
  })

  it('aliases list --expiring-within names the target servers that break, across environments; --exit-code', async () => {
    const rows = JSON.parse((await cli(['aliases', 'list', '--expiring-within', '400d', '--organization', 'myorg', '--format', 'json'])).stdout)
    expect(rows.map((r: {environment: string; keystore: string; alias: string; targetServers: string[]}) => [r.environment, r.keystore, r.alias, r.targetServers])).toEqual(
      expect.arrayContaining([
        ['dev', 'mtls_keystore', 'mtls_alias', ['helloworld/mymtlstarget']],
        ['dev', 'mtls_keystore', 'unused', []],
        ['dev', 'mtls_truststore', 'mtls_ca', ['helloworld/mymtlstarget']],
      ]),
    )
    expect(rows).toHaveLength(3)
    const alerting = await cli(['aliases', 'list', '--expiring-within', '400d', '--organization', 'myorg', '--exit-code', '--format', 'value(alias)'])
    expect(alerting.code).toBe(15)
    const quiet = await cli(['aliases', 'list', '--expiring-within', '1d', '--organization', 'myorg', '--exit-code'])
    expect(quiet).toMatchObject({code: 0, stdout: ''})
  })
})
