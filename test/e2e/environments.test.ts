import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {rmTemp, runCli, tempDir} from '../helpers/cli.js'

let home: string
beforeEach(() => {
  home = path.join(tempDir(), 'state')
})
afterEach(() => rmTemp(path.dirname(home)))

describe('environments (built CLI)', () => {
  it('creates an environment, lists it as JSON, and makes the state folder 0700', async () => {
    const created = await runCli(['environments', 'create', 'dev', '--organization', 'acme'], {home})
    expect(created.code).toBe(0)
    expect(created.stderr).toBe('Created environment [dev] in organization [acme].\n')
    expect(created.stdout).toMatch(/^NAME\s+API_PROXY_TYPE\s+DEPLOYMENT_TYPE\s+STATE\ndev\s+CONFIGURABLE\s+ARCHIVE\s+ACTIVE\n$/)
    expect(fs.statSync(home).mode & 0o777).toBe(0o700)

    const listed = await runCli(['environments', 'list', '--organization', 'acme', '--format', 'json'], {home})
    expect(listed.code).toBe(0)
    expect(listed.stderr).toBe('')
    const envs = JSON.parse(listed.stdout)
    expect(envs).toHaveLength(1)
    expect(envs[0]).toMatchObject({name: 'dev', apiProxyType: 'CONFIGURABLE', deploymentType: 'ARCHIVE', state: 'ACTIVE'})
  })

  it('takes the proxy and deployment types', async () => {
    const r = await runCli(
      ['environments', 'create', 'prog', '--organization', 'acme', '--api-proxy-type', 'programmable', '--deployment-type', 'proxy', '--format', 'value(apiProxyType,deploymentType)'],
      {home},
    )
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('PROGRAMMABLE\tPROXY\n')
  })

  it('--format projects only own data fields: __proto__, constructor, toString give empty cells (issue 11, item 15)', async () => {
    await runCli(['environments', 'create', 'dev', '--organization', 'acme'], {home})
    const table = await runCli(['environments', 'list', '--organization', 'acme', '--format', 'table(__proto__.toString,constructor,name,name.length)'], {home})
    expect(table).toMatchObject({code: 0, stdout: 'TO_STRING  CONSTRUCTOR  NAME  LENGTH\n                        dev\n'})
    const value = await runCli(['environments', 'describe', 'dev', '--organization', 'acme', '--format', 'value(toString,__proto__,name,hasOwnProperty)'], {home})
    expect(value).toMatchObject({code: 0, stdout: '\t\tdev\t\n'})
    const csv = await runCli(['environments', 'list', '--organization', 'acme', '--format', 'csv(name,constructor.name,__proto__.constructor)'], {home})
    expect(csv).toMatchObject({code: 0, stdout: 'name,constructor.name,__proto__.constructor\ndev,,\n'})
  })

  it('renders every --format on list and describe', async () => {
    await runCli(['environments', 'create', 'dev', '--organization', 'acme'], {home})
    await runCli(['environments', 'create', 'prod', '--organization', 'acme'], {home})
    const list = (format: string) => runCli(['environments', 'list', '--organization', 'acme', '--format', format], {home})
    expect((await list('value(name)')).stdout).toBe('dev\nprod\n')
    expect((await list('csv(name,state)')).stdout).toBe('name,state\ndev,ACTIVE\nprod,ACTIVE\n')
    expect((await list('table(name,apiProxyType)')).stdout).toBe('NAME  API_PROXY_TYPE\ndev   CONFIGURABLE\nprod  CONFIGURABLE\n')
    const yaml = (await list('yaml')).stdout
    expect(yaml).toMatch(/^---\napiProxyType: CONFIGURABLE\n[\s\S]*name: dev\n[\s\S]*---\n[\s\S]*name: prod\n/)

    const describe = (format: string) =>
      runCli(['environments', 'describe', 'dev', '--organization', 'acme', '--format', format], {home})
    expect(JSON.parse((await describe('json')).stdout)).toMatchObject({name: 'dev', state: 'ACTIVE'})
    expect((await describe('yaml')).stdout).toMatch(/^apiProxyType: CONFIGURABLE\ncreatedAt: '\d+'\ndeploymentType: ARCHIVE\nlastModifiedAt: '\d+'\nname: dev\nstate: ACTIVE\n$/)
    expect((await describe('value(name,state)')).stdout).toBe('dev\tACTIVE\n')
    expect((await describe('table(name,state)')).stdout).toBe('NAME  STATE\ndev   ACTIVE\n')
    expect((await describe('csv(name,deploymentType)')).stdout).toBe('name,deploymentType\ndev,ARCHIVE\n')
  })

  it('refuses a duplicate with ALREADY_EXISTS and exit 1, store unchanged', async () => {
    await runCli(['environments', 'create', 'dev', '--organization', 'acme'], {home})
    const before = fs.readFileSync(path.join(home, 'organizations/acme/environments/dev.json'), 'utf8')
    const r = await runCli(['environments', 'create', 'dev', '--organization', 'acme', '--api-proxy-type', 'programmable'], {home})
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(
      'ERROR: (mtlsctl.environments.create) ALREADY_EXISTS: Environment "organizations/acme/environments/dev" already exists.\n',
    )
    expect(fs.readFileSync(path.join(home, 'organizations/acme/environments/dev.json'), 'utf8')).toBe(before)
  })

  it('NOT_FOUND names the full resource and the fix; --format json still exits 1', async () => {
    const r = await runCli(['environments', 'describe', 'nope', '--organization', 'acme', '--format', 'json'], {home})
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(
      'ERROR: (mtlsctl.environments.describe) NOT_FOUND: Environment "organizations/acme/environments/nope" not found.\n' +
        'Create it with: mtlsctl environments create nope --organization acme\n',
    )
  })

  it('refuses bad names with INVALID_ARGUMENT naming the pattern', async () => {
    const r = await runCli(['environments', 'create', '../../etc', '--organization', 'acme'], {home})
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('INVALID_ARGUMENT: Invalid environment name "../../etc": it must match the pattern [a-z][a-z0-9-]{0,62}')
    expect(fs.existsSync(path.join(home, 'organizations/acme/environments'))).toBe(false)
  })

  it('missing required input without a TTY exits 2 naming the flag or argument', async () => {
    const noOrg = await runCli(['environments', 'list'], {home})
    expect(noOrg.code).toBe(2)
    expect(noOrg.stdout).toBe('')
    expect(noOrg.stderr).toBe(
      'ERROR: (mtlsctl.environments.list) Missing required flag --organization.\n' +
        'Give --organization ORG, set MTLSCTL_ORGANIZATION, or run `mtlsctl config set organization ORG`.\n',
    )
    const noEnv = await runCli(['environments', 'create', '--organization', 'acme'], {home})
    expect(noEnv.code).toBe(2)
    expect(noEnv.stderr).toBe('ERROR: (mtlsctl.environments.create) Missing required argument ENV.\n')
    const quiet = await runCli(['environments', 'create', '--organization', 'acme', '--quiet'], {home})
    expect(quiet.code).toBe(2)
  })

  it('usage errors exit 2 without a stack trace', async () => {
    const r = await runCli(['environments', 'list', '--organization', 'acme', '--bogus'], {home})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^ERROR: \(mtlsctl\.environments\.list\) Nonexistent flag: --bogus/)
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/)
    const badFormat = await runCli(['environments', 'list', '--organization', 'acme', '--format', 'xml'], {home})
    expect(badFormat.code).toBe(2)
    expect(badFormat.stderr).toContain('Invalid --format "xml"')
    const badType = await runCli(['environments', 'create', 'x', '--organization', 'acme', '--api-proxy-type', 'weird'], {home})
    expect(badType.code).toBe(2)
  })

  it('deletes with --quiet', async () => {
    await runCli(['environments', 'create', 'dev', '--organization', 'acme'], {home})
    const r = await runCli(['environments', 'delete', 'dev', '--organization', 'acme', '--quiet'], {home})
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('Deleted environment [dev].\n')
    const listed = await runCli(['environments', 'list', '--organization', 'acme', '--format', 'json'], {home})
    expect(JSON.parse(listed.stdout)).toEqual([])
  })

  it('shows a stack trace only at --verbosity=debug', async () => {
    const r = await runCli(['environments', 'describe', 'nope', '--organization', 'acme', '--verbosity', 'debug'], {home})
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/MtlsError: Environment/)
  })
})
