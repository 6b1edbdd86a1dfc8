import {execFileSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {init, parse} from 'es-module-lexer'
import {describe, expect, it} from 'vitest'

import {keyAhead} from '../../src/prestart.js'
import {rmTemp, ROOT, runProcess, tempDir} from '../helpers/cli.js'

describe('start-up', () => {
  it('guesses the key `ca create` and `certs create` will make, and only RSA-2048', () => {
    expect(keyAhead(['ca', 'create', 'RootCA', '--subject', '/CN=my-ca'])).toBe('rsa-2048')
    expect(keyAhead(['certs', 'create', 'gw', '--ca', 'RootCA', '--key-type', 'rsa-2048'])).toBe('rsa-2048')
    expect(keyAhead(['certs', 'create', 'gw', '--key-type=rsa-2048'])).toBe('rsa-2048')
    // Other key types, other commands, help and flags after "--" begin nothing.
    expect(keyAhead(['certs', 'create', 'gw', '--key-type', 'ec-p256'])).toBeUndefined()
    expect(keyAhead(['ca', 'create', 'big', '--key-type=rsa-4096'])).toBeUndefined()
    expect(keyAhead(['ca', 'create', '--help'])).toBeUndefined()
    expect(keyAhead(['certs', 'sign', 'x.csr', '--ca', 'RootCA'])).toBeUndefined()
    expect(keyAhead(['aliases', 'add', 'a', '--keystore', 'ks'])).toBeUndefined()
    expect(keyAhead([])).toBeUndefined()
  })

  it('the built bundle loads with its V8 code cache (a rejected cache would only be slower)', () => {
    expect(fs.statSync(path.join(ROOT, 'dist/mtlsctl.cjs.cache')).size).toBeGreaterThan(100_000)
    const rejected = execFileSync(
      process.execPath,
      ['-e', "require('./bin/bundle.cjs').load(); process.stdout.write(String(globalThis[Symbol.for('mtlsctl.bundle')].script.cachedDataRejected))"],
      {cwd: ROOT, encoding: 'utf8'},
    )
    expect(rejected).toBe('false')
  })

  it('the bundle has no import() of its own: every one goes through bin/bundle.cjs', async () => {
    const source = fs.readFileSync(path.join(ROOT, 'dist/mtlsctl.cjs'), 'utf8')
    await init
    expect(parse(source)[0].filter((i) => i.d > -1)).toEqual([])
    expect(source).toContain('__mtlsctlImport("chalk")')
    // Independently of the lexer: every "import(" left is the text "import()" in a string.
    const left = [...source.matchAll(/(?<![\w$.])import\(/g)].map((m) => source.slice(m.index - 1, m.index + 9))
    expect(left.every((text) => /^["'`]import\(\)["'`]$/.test(text)), left.join(' | ')).toBe(true)
  })

  it('an unbuilt checkout says so, with the folder and the fix, and exits 1 (no stack trace)', async () => {
    const root = tempDir()
    try {
      fs.mkdirSync(path.join(root, 'bin'))
      fs.copyFileSync(path.join(ROOT, 'bin/run.js'), path.join(root, 'bin/run.js'))
      fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(root, 'package.json'))
      const r = await runProcess(process.execPath, [path.join(root, 'bin/run.js'), 'environments', 'list'], {cwd: root})
      expect(r.stderr).toBe(`ERROR: mtlsctl is not built: run \`npm run build\` in ${root}/\n`)
      expect(r.code).toBe(1)
      expect(r.stdout).toBe('')
    } finally {
      rmTemp(root)
    }
  })
})
