import {execFileSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {describe, expect, it} from 'vitest'

import {ROOT} from './helpers/cli.js'

function sources(dir: string): string[] {
  return fs.readdirSync(dir, {withFileTypes: true, recursive: true})
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name))
}

const staticImports = (file: string) =>
  [...fs.readFileSync(file, 'utf8').matchAll(/^\s*import\s+(?!type\b)[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1])

describe('architecture', () => {
  it('the engine (src/core) imports no oclif, chalk or inquirer', () => {
    const offenders: string[] = []
    for (const file of sources(path.join(ROOT, 'src/core'))) {
      const text = fs.readFileSync(file, 'utf8')
      for (const m of text.matchAll(/(?:from\s+|import\(\s*)['"]([^'"]+)['"]/g)) {
        if (/^(@oclif\/|chalk$|@inquirer\/|inquirer$)/.test(m[1])) offenders.push(`${path.relative(ROOT, file)}: ${m[1]}`)
      }
      for (const m of text.matchAll(/from\s+['"](\.\.?\/[^'"]+)['"]/g)) {
        const target = path.resolve(path.dirname(file), m[1])
        if (!target.startsWith(path.join(ROOT, 'src/core'))) offenders.push(`${path.relative(ROOT, file)}: ${m[1]}`)
      }
    }
    expect(offenders).toEqual([])
  })

  it('heavy modules are imported lazily, never at the top of a module', () => {
    const heavy = /^(node-forge|archiver|yaml|js-yaml|jsonc-parser|diff|@inquirer\/prompts|busboy|ajv|@kubernetes-models\/.*|kubernetes-models(\/.*)?|google-auth-library|https-proxy-agent|http-proxy-agent)$/
    const offenders = sources(path.join(ROOT, 'src')).flatMap((file) =>
      staticImports(file).filter((m) => heavy.test(m)).map((m) => `${path.relative(ROOT, file)}: ${m}`),
    )
    expect(offenders).toEqual([])
  })

  it('commands are thin: no command reaches into the store or the file system itself', () => {
    const offenders = sources(path.join(ROOT, 'src/commands')).filter((file) =>
      staticImports(file).some((m) => /core\/store\/file-store|^node:fs$/.test(m)),
    )
    expect(offenders.map((f) => path.relative(ROOT, f))).toEqual([])
  })

  it('every command module is registered in src/index.ts', () => {
    const index = fs.readFileSync(path.join(ROOT, 'src/index.ts'), 'utf8')
    for (const file of sources(path.join(ROOT, 'src/commands'))) {
      const rel = path.relative(path.join(ROOT, 'src'), file).replace(/\.ts$/, '.js')
      expect(index, rel).toContain(`'./${rel}'`)
    }
  })

  it('oclif.manifest.json is committed and current (npm run build regenerates it)', () => {
    // The test command builds first, so dist/ and the working copy's manifest reflect src/.
    // What matters is that the manifest committed (or staged) in git is that same manifest.
    const staged = execFileSync('git', ['show', ':oclif.manifest.json'], {cwd: ROOT, encoding: 'utf8'})
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/oclif/bin/run.js'), 'manifest'], {
      cwd: ROOT,
      stdio: 'pipe',
      env: {...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true'},
    })
    const regenerated = fs.readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')
    expect(JSON.parse(regenerated), 'run `npm run build` and commit oclif.manifest.json').toEqual(JSON.parse(staged))
  })
})
