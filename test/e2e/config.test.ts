import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {rmTemp, runCli, tempDir} from '../helpers/cli.js'

let dir: string
let home: string
beforeEach(() => {
  dir = tempDir()
  home = path.join(dir, 'state')
})
afterEach(() => rmTemp(dir))

describe('config (built CLI)', () => {
  it('set, get, list and unset a property', async () => {
    const set = await runCli(['config', 'set', 'organization', 'acme'], {home})
    expect(set).toMatchObject({code: 0, stdout: '', stderr: 'Updated property [organization].\n'})
    expect(fs.statSync(path.join(home, 'config.json')).mode & 0o777).toBe(0o600)
    expect((await runCli(['config', 'get', 'organization'], {home})).stdout).toBe('acme\n')
    const list = await runCli(['config', 'list', '--format', 'json'], {home})
    expect(JSON.parse(list.stdout)).toContainEqual({property: 'organization', value: 'acme', source: 'config', envVar: 'MTLSCTL_ORGANIZATION'})
    expect((await runCli(['config', 'unset', 'organization'], {home})).code).toBe(0)
    const unset = await runCli(['config', 'get', 'organization'], {home})
    expect(unset).toMatchObject({code: 0, stdout: '', stderr: '(unset)\n'})
  })

  it('refuses unknown properties and bad verbosity values', async () => {
    const unknown = await runCli(['config', 'set', 'colour', 'red'], {home})
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/^ERROR: \(mtlsctl\.config\.set\) Expected colour to be one of: organization, environment, format, verbosity/)
    const bad = await runCli(['config', 'set', 'verbosity', 'loud'], {home})
    expect(bad.code).toBe(1)
    expect(bad.stderr).toBe('ERROR: (mtlsctl.config.set) INVALID_ARGUMENT: Invalid verbosity "loud": use one of debug, info, warning, error, none.\n')
  })

  it('precedence: flag, then environment variable, then config file', async () => {
    for (const org of ['fromconfig', 'fromenv', 'fromflag']) {
      await runCli(['environments', 'create', 'dev', '--organization', org], {home})
    }
    await runCli(['config', 'set', 'organization', 'fromconfig'], {home})
    const list = (args: string[], env?: Record<string, string>) =>
      runCli(['environments', 'list', '--format', 'value(name)', ...args], {home, env})

    const fromConfig = await list([])
    expect(fromConfig.stderr).toBe("Using Apigee organization 'fromconfig'\n")
    expect(fromConfig.stdout).toBe('dev\n')
    const fromEnv = await list([], {MTLSCTL_ORGANIZATION: 'fromenv'})
    expect(fromEnv.stderr).toBe("Using Apigee organization 'fromenv'\n")
    const fromFlag = await list(['--organization', 'fromflag'], {MTLSCTL_ORGANIZATION: 'fromenv'})
    expect(fromFlag.stderr).toBe('')
    expect((await runCli(['config', 'get', 'organization', '--format', 'value(source)'], {home, env: {MTLSCTL_ORGANIZATION: 'x'}})).stdout).toBe('env\n')
  })

  it('format and verbosity come from config too', async () => {
    await runCli(['environments', 'create', 'dev', '--organization', 'acme'], {home})
    await runCli(['config', 'set', 'format', 'value(name)'], {home})
    await runCli(['config', 'set', 'verbosity', 'error'], {home})
    await runCli(['config', 'set', 'organization', 'acme'], {home})
    const r = await runCli(['environments', 'list'], {home})
    expect(r).toMatchObject({code: 0, stdout: 'dev\n', stderr: ''})
    const json = await runCli(['environments', 'list', '--format', 'json', '--verbosity', 'warning'], {home})
    expect(JSON.parse(json.stdout)[0].name).toBe('dev')
    expect(json.stderr).toBe("Using Apigee organization 'acme'\n")
  })

  it('a corrupted config file is a clear error naming the file', async () => {
    fs.mkdirSync(home, {recursive: true})
    fs.writeFileSync(path.join(home, 'config.json'), '{nope')
    const r = await runCli(['config', 'list'], {home})
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`INVALID_ARGUMENT: The config file ${path.join(home, 'config.json')} is not valid JSON.`)
  })
})
