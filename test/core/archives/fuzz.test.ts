import * as fs from 'node:fs'
import * as path from 'node:path'
import * as zlib from 'node:zlib'
import fc from 'fast-check'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {validateArchiveFiles} from '../../../src/core/archives/deployments.js'
import {findJsonError, parseJsonFile, parseYamlFile} from '../../../src/core/archives/parse.js'
import {unzipArchive, zipArchive} from '../../../src/core/archives/source.js'
import {createEnvironment} from '../../../src/core/environments.js'
import {MtlsError} from '../../../src/core/errors.js'
import {planMesh} from '../../../src/core/mesh/plan.js'
import {FileStore} from '../../../src/core/store/index.js'
import {rmTemp, tempDir} from '../../helpers/cli.js'
import {craftZip, deflatedEntry} from '../../helpers/zip.js'

/**
 * The archive and topology readers under generated input (issue 11's fuzz defence): every
 * input parses or is refused with an MtlsError that is not INTERNAL, with a message of
 * bounded length; nothing crashes, hangs or allocates without bound. Each property is bounded
 * by a number of runs and a time budget, so the file stays well under 20 s on a loaded machine.
 */

const BUDGET = {interruptAfterTimeLimit: 2_000, markInterruptAsFailure: false} as const
const MAX_MESSAGE = 20_000

let dir: string
let store: FileStore
let rssBefore: number
beforeAll(async () => {
  dir = tempDir('mtlsctl-fuzz-')
  store = new FileStore(path.join(dir, 'state'))
  await createEnvironment(store, 'o', 'dev')
  rssBefore = process.memoryUsage().rss
})
afterAll(() => {
  rmTemp(dir)
  // No run kept (or needed) anything near what a bomb would inflate to.
  expect(process.memoryUsage().rss - rssBefore).toBeLessThan(1024 * 1024 * 1024)
})

/** Runs `work`: a value, or an MtlsError that is not INTERNAL, with a bounded message. */
async function parsesOrRefuses(work: () => unknown): Promise<void> {
  try {
    await work()
  } catch (error) {
    if (!(error instanceof MtlsError)) throw new Error(`not an MtlsError: ${String(error).slice(0, 300)}`)
    expect(error.status).not.toBe('INTERNAL')
    expect(error.message.length).toBeLessThan(MAX_MESSAGE)
  }
}

/** Text made of JSON and YAML pieces, so generated documents are often nearly valid. */
const pieces = fc.constantFrom(
  '{', '}', '[', ']', ',', ':', ': ', '"', "'", '\\', '\\u', '-', '- ', '0', '1e', '.5', 'true', 'null', 'nul',
  '\n', '\n  ', '  ', '\t', '#', '&a ', '*a', '&b ', '*b', '<<: ', '!!str ', '!!binary ', '? ', '|', '>', '---\n', '...',
  'a', 'operations', 'target_server_id', 'name', 'port', '\ufeff', '\u0000', '\u2028', 'é', '😀',
)
const docText = fc.oneof(
  fc.string({maxLength: 200}),
  fc.string({unit: 'binary', maxLength: 200}),
  fc.array(pieces, {maxLength: 80}).map((p) => p.join('')),
  fc.jsonValue({maxDepth: 4}).map((v) => JSON.stringify(v)),
)

describe('fuzz: JSON and YAML documents', () => {
  it('parseJsonFile: a value or INVALID_ARGUMENT; positions agree with JSON.parse', async () => {
    await fc.assert(
      fc.asyncProperty(docText, async (text) => {
        const body = text.replace(/^\ufeff/, '')
        let valid = true
        try {
          JSON.parse(body)
        } catch (error) {
          valid = false
          // Where V8 gives a position, ours is the same; where it gives none, ours is still real.
          const at = /at position (\d+)/.exec((error as Error).message)
          if (at) expect(findJsonError(body)?.offset).toBe(Number(at[1]))
        }
        expect(findJsonError(body) === undefined).toBe(valid)
        await parsesOrRefuses(() => parseJsonFile(text, 'f.json'))
      }),
      {numRuns: 400, ...BUDGET},
    )
  })

  it('parseYamlFile: a value or INVALID_ARGUMENT, quickly', async () => {
    await fc.assert(
      fc.asyncProperty(docText, async (text) => {
        const start = performance.now()
        await parsesOrRefuses(() => parseYamlFile(text, 'f.yaml'))
        expect(performance.now() - start).toBeLessThan(1_000)
      }),
      {numRuns: 400, ...BUDGET},
    )
  })

  it('nested YAML aliases are bounded however they are combined', async () => {
    const aliases = fc.array(fc.integer({min: 1, max: 12}), {minLength: 1, maxLength: 12}).map((widths) => {
      const lines = ['l0: &l0 [x]']
      widths.forEach((w, i) => lines.push(`l${i + 1}: &l${i + 1} [${Array(w).fill(`*l${i}`).join(', ')}]`))
      return lines.join('\n')
    })
    await fc.assert(
      fc.asyncProperty(aliases, async (text) => {
        const start = performance.now()
        await parsesOrRefuses(() => parseYamlFile(text, 'f.yaml'))
        expect(performance.now() - start).toBeLessThan(1_000)
      }),
      {numRuns: 200, ...BUDGET},
    )
  })
})

describe('fuzz: zip entries', () => {
  const name = fc.oneof(
    fc.constantFrom('src/main/apigee/a.json', 'src/main/apigee/apiproxies/a/config.yaml', 'src/main/apigee/../../x.json', '../x', '/etc/x', 'C:/x', 'src\\main\\apigee\\a.json', 'src/main/apigee/', 'x/y'),
    fc.string({maxLength: 40}).map((s) => `src/main/apigee/${s}`),
    fc.string({unit: 'binary', maxLength: 40}),
  )
  const entry = fc.record({
    name,
    content: fc.uint8Array({maxLength: 200}),
    method: fc.constantFrom(0, 8, 8, 12),
    lie: fc.oneof(fc.constant(0), fc.integer({min: -100, max: 100}), fc.constant(2 ** 31), fc.constant(0xffffffff)),
    badCrc: fc.boolean(),
    flags: fc.constantFrom(0, 0, 1, 8),
  })

  it('crafted zips: their files or INVALID_ARGUMENT, never more than declared', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(entry, {maxLength: 6}), async (entries) => {
        const zip = craftZip(
          entries.map((e) => {
            const data = Buffer.from(e.content)
            const stored = e.method === 0 ? data : zlib.deflateRawSync(data)
            return {name: e.name, data: stored, method: e.method as 0 | 8, size: Math.max(0, Math.min(0xffffffff, data.length + e.lie)), crc: e.badCrc ? 1 : zlib.crc32(data), flags: e.flags}
          }),
        )
        await parsesOrRefuses(() => unzipArchive(zip, 'f.zip'))
      }),
      {numRuns: 300, ...BUDGET},
    )
  })

  it('random bytes, and a valid zip truncated or with bytes flipped', async () => {
    const valid = await zipArchive(new Map([['apiproxies/a/config.yaml', Buffer.from('operations: []\n')], ['environments/dev/deployments.json', Buffer.from('{}')]]))
    const damaged = fc.record({cut: fc.nat({max: valid.length}), flips: fc.array(fc.tuple(fc.nat({max: valid.length - 1}), fc.integer({min: 1, max: 255})), {maxLength: 4})}).map(({cut, flips}) => {
      const copy = Buffer.from(valid)
      for (const [at, x] of flips) copy[at] ^= x
      return flips.length > 0 ? copy : copy.subarray(0, cut)
    })
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({maxLength: 300}).map((b) => Buffer.from(b)), damaged), async (zip) => {
        await parsesOrRefuses(() => unzipArchive(zip, 'f.zip'))
      }),
      {numRuns: 400, ...BUDGET},
    )
  })

  it('a traversal name is never accepted as an archive file', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom('..', '.', 'a', 'src', 'main', 'apigee', ''), {minLength: 1, maxLength: 8}), async (parts) => {
        const entryName = `src/main/apigee/${parts.join('/')}.json`
        try {
          const files = await unzipArchive(craftZip([deflatedEntry(entryName, '{}')]), 'f.zip')
          for (const rel of files.keys()) expect(path.posix.normalize(`src/main/apigee/${rel}`).startsWith('src/main/apigee/')).toBe(true)
        } catch (error) {
          expect(error).toBeInstanceOf(MtlsError)
          expect((error as MtlsError).status).toBe('INVALID_ARGUMENT')
        }
      }),
      {numRuns: 200, ...BUDGET},
    )
  })
})

describe('fuzz: archive document shapes', () => {
  const value = fc.oneof(fc.jsonValue({maxDepth: 2}), fc.constant(undefined))
  const tls = fc.record(
    {enabled: fc.oneof(fc.boolean(), value), clientAuthEnabled: fc.oneof(fc.boolean(), value), keyStore: fc.oneof(fc.constantFrom('ks', 'ref://r', 'ref://', '..'), value), keyAlias: fc.oneof(fc.constant('key'), value), trustStore: fc.oneof(fc.constant('ks'), value), protocols: value},
    {requiredKeys: []},
  )
  const target = fc.record({name: fc.oneof(fc.constantFrom('t', 'u'), value), host: fc.oneof(fc.constant('h'), value), port: fc.oneof(fc.integer({min: -5, max: 70_000}), value), sSLInfo: fc.oneof(tls, value)}, {requiredKeys: []})
  const targets = fc.oneof(fc.array(fc.oneof(target, value), {maxLength: 4}), value)
  const op = fc.record({id: value, target: fc.oneof(fc.record({target_server_id: fc.oneof(fc.constantFrom('t', 'u'), value)}, {requiredKeys: []}), value), http_match: value}, {requiredKeys: []})
  const config = fc.oneof(fc.record({operations: fc.oneof(fc.array(fc.oneof(op, value), {maxLength: 4}), value), target: value, basepath: value}, {requiredKeys: []}), value)
  const deployments = fc.oneof(fc.record({proxies: fc.oneof(fc.array(fc.oneof(fc.record({name: fc.oneof(fc.constantFrom('a', 'b', '../x'), value)}), value), {maxLength: 3}), value)}, {requiredKeys: []}), value)
  const serialise = (v: unknown) => (v === undefined ? undefined : JSON.stringify(v))

  beforeAll(async () => {
    await store.create('organizations/o/environments/dev/keystores/ks', {name: 'ks'})
    await store.create('organizations/o/environments/dev/keystores/ks/aliases/key', {alias: 'key', type: 'KEY_CERT', certsInfo: {certInfo: [{validFrom: '0', expiryDate: String(Date.now() + 1e9)}]}})
  })

  it('validateArchive: a result (problems, never INTERNAL) for any config.yaml, deployments.json and targetservers.json', async () => {
    await fc.assert(
      fc.asyncProperty(config, deployments, targets, fc.boolean(), async (c, d, t, yamlText) => {
        const files = new Map<string, Buffer>()
        const set = (p: string, text: string | undefined) => text !== undefined && files.set(p, Buffer.from(text))
        set('apiproxies/a/config.yaml', yamlText && c !== undefined ? (await import('js-yaml')).dump(c) : serialise(c))
        set('environments/dev/deployments.json', serialise(d))
        set('environments/dev/targetservers.json', serialise(t))
        await parsesOrRefuses(async () => {
          const r = await validateArchiveFiles(store, 'o', 'dev', files)
          expect(r.message.length).toBeLessThan(MAX_MESSAGE)
        })
      }),
      {numRuns: 300, ...BUDGET},
    )
  })
})

describe('fuzz: topology reader', () => {
  const node = fc.record({ip: fc.oneof(fc.constantFrom('10.0.0.1', '10.0.0.2', '127.0.0.1', '10.0.0.256'), fc.jsonValue({maxDepth: 2})), name: fc.jsonValue({maxDepth: 1}), components: fc.oneof(fc.array(fc.oneof(fc.constantFrom('ds', 'ms', 'rmp', 'sax', 'zookeeper', '__proto__', 'constructor'), fc.jsonValue({maxDepth: 1})), {maxLength: 4}), fc.jsonValue({maxDepth: 1}))}, {requiredKeys: []})
  const topology = fc.oneof(
    fc.record({datacenters: fc.oneof(fc.array(fc.record({name: fc.oneof(fc.constantFrom('dc-1', 'dc-2', 'DC!'), fc.jsonValue({maxDepth: 1})), nodes: fc.oneof(fc.array(node, {maxLength: 6}), fc.jsonValue({maxDepth: 1}))}, {requiredKeys: []}), {maxLength: 3}), fc.jsonValue({maxDepth: 1}))}, {requiredKeys: []}),
    fc.jsonValue({maxDepth: 2}),
  )
  let n = 0

  it('planMesh: a plan or INVALID_ARGUMENT for any structure, as JSON or YAML, and any text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(topology.map((t) => ({json: true, text: JSON.stringify(t)})), docText.map((text) => ({json: false, text}))), async ({json, text}) => {
        const file = path.join(dir, `t${n++}.${json ? 'json' : 'yaml'}`)
        fs.writeFileSync(file, text)
        await parsesOrRefuses(() => planMesh({topologyFile: file, allowUnsupportedTopology: true}))
        fs.rmSync(file)
      }),
      {numRuns: 300, ...BUDGET},
    )
  })
})
