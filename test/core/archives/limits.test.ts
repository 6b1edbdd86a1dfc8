import {execFileSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {createArchiveDeployment, getApiProxy, runArchiveDeployment, validateArchiveFiles} from '../../../src/core/archives/deployments.js'
import {clipUserText, parseJsonFile, parseYamlFile} from '../../../src/core/archives/parse.js'
import {readBundleFile, readSource, unzipArchive, zipArchive} from '../../../src/core/archives/source.js'
import {createEnvironment} from '../../../src/core/environments.js'
import {FileStore} from '../../../src/core/store/index.js'
import {rmTemp, tempDir} from '../../helpers/cli.js'
import {refusal} from '../../helpers/errors.js'
import {craftZip, deflateBomb, deflatedEntry} from '../../helpers/zip.js'

const MiB = 1024 * 1024
let dir: string
let store: FileStore
beforeEach(async () => {
  dir = tempDir('mtlsctl-archive-limits-')
  store = new FileStore(path.join(dir, 'state'))
  await createEnvironment(store, 'o', 'dev')
})
afterEach(() => rmTemp(dir))

/** A 4 GiB (255 × 16 MiB) deflate bomb of about 4 MB. */
const bomb = deflateBomb(255)
const BOMB_SIZE = 255 * 16 * MiB

const refused = async (promise: Promise<unknown>) => (await refusal(promise, 'INVALID_ARGUMENT')).message
const timed = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
  const start = performance.now()
  const value = await work()
  return [value, performance.now() - start]
}

describe('zip bombs (issue 11, item 1)', () => {
  it('refuses a 4 MB zip whose document declares 4 GiB, before inflating anything', async () => {
    expect(bomb.length).toBeLessThan(5 * MiB)
    const zip = craftZip([{name: 'src/main/apigee/big.json', data: bomb, size: BOMB_SIZE}])
    const [message, ms] = await timed(() => refused(unzipArchive(zip, 'b.zip')))
    expect(message).toBe('Bundle file b.zip: entry src/main/apigee/big.json inflates to 4080 MiB, past the 16 MiB limit for a JSON or YAML document.')
    expect(ms).toBeLessThan(1000)
  })

  it('refuses an archive whose entries declare more than 1 GiB in total', async () => {
    const zip = craftZip([{name: 'src/main/apigee/lib/big.js', data: bomb, size: BOMB_SIZE}])
    expect(await refused(unzipArchive(zip, 'b.zip'))).toBe(
      'Bundle file b.zip inflates to more than the 1 GiB limit for an archive (entry src/main/apigee/lib/big.js declares 4080 MiB).',
    )
    // Three entries of 400 MiB: the third passes the total (nothing inflated to find out).
    const three = craftZip(['a', 'b', 'c'].map((n) => ({name: `src/main/apigee/${n}.js`, data: deflateBomb(1), size: 400 * MiB})))
    expect(await refused(unzipArchive(three, 'b.zip'))).toBe(
      'Bundle file b.zip inflates to more than the 1 GiB limit for an archive (entry src/main/apigee/c.js declares 400 MiB).',
    )
  })

  it('catches a header that lies about the size as soon as inflation passes it, quickly and in bounded memory', async () => {
    const zip = craftZip([{name: 'src/main/apigee/big.json', data: bomb, size: 100}])
    const before = process.memoryUsage().rss
    const [message, ms] = await timed(() => refused(unzipArchive(zip, 'b.zip')))
    expect(message).toBe('Bundle file b.zip: entry src/main/apigee/big.json inflates to more than the 100 bytes its header declares: the zip is corrupt or crafted.')
    expect(ms).toBeLessThan(1000)
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * MiB)
    // A lie in the other direction, and a wrong CRC, are corruption too.
    const short = {...deflatedEntry('src/main/apigee/a.json', '{"a": 1}'), size: 20}
    expect(await refused(unzipArchive(craftZip([short]), 'b.zip'))).toBe(
      'Bundle file b.zip: entry src/main/apigee/a.json inflates to 8 bytes, not the 20 bytes its header declares: the zip is corrupt or crafted.',
    )
    const crc = {...deflatedEntry('src/main/apigee/a.json', '{"a": 1}'), crc: 1}
    expect(await refused(unzipArchive(craftZip([crc]), 'b.zip'))).toBe('Bundle file b.zip: entry src/main/apigee/a.json is corrupt (its CRC-32 does not match).')
  })

  it('refuses traversal, encrypted and unknown-method entries, and garbage; reads an honest zip', async () => {
    const entry = deflatedEntry('src/main/apigee/a.json', '{}')
    expect(await refused(unzipArchive(craftZip([{...entry, name: 'src/main/apigee/../../../../etc/x.json'}]), 'b.zip'))).toBe(
      'Bundle file b.zip holds an entry outside the archive: src/main/apigee/../../../../etc/x.json',
    )
    expect(await refused(unzipArchive(craftZip([{...entry, name: '/etc/x.json'}]), 'b.zip'))).toBe('Bundle file b.zip holds an entry outside the archive: /etc/x.json')
    expect(await refused(unzipArchive(craftZip([{...entry, flags: 1}]), 'b.zip'))).toBe('Bundle file b.zip: entry src/main/apigee/a.json is encrypted; an archive\'s entries cannot be.')
    expect(await refused(unzipArchive(craftZip([{...entry, method: 12 as 8}]), 'b.zip'))).toBe(
      'Bundle file b.zip: entry src/main/apigee/a.json uses compression method 12; only stored (0) and deflated (8) entries are supported.',
    )
    const zip = craftZip([entry])
    expect(await refused(unzipArchive(zip.subarray(0, zip.length - 30), 'b.zip'))).toBe('Bundle file is not a valid zip archive: b.zip')
    const files = await unzipArchive(await zipArchive(new Map([['apiproxies/a/config.yaml', Buffer.from('operations: []\n')]])), 'ok.zip')
    expect([...files.keys()]).toEqual(['apiproxies/a/config.yaml'])
  })

  it('a bomb stored by the API (upload, create) fails its operation with INVALID_ARGUMENT and deploys nothing', async () => {
    const zip = craftZip([{name: 'src/main/apigee/apiproxies/a/config.yaml', data: bomb, size: BOMB_SIZE}])
    const {deployment} = await createArchiveDeployment(store, 'o', 'dev', zip, {workerPid: process.pid})
    const [done, ms] = await timed(() => runArchiveDeployment(store, 'o', deployment.name))
    expect(done.error).toEqual({
      code: 3,
      message: `Bundle file ${deployment.name}: entry src/main/apigee/apiproxies/a/config.yaml inflates to 4080 MiB, past the 16 MiB limit for a JSON or YAML document.`,
    })
    expect(ms).toBeLessThan(2000)
    expect(await getApiProxy(store, 'o', 'a')).toBeUndefined()
  })

  it('refuses a central directory that claims more than 200,000 entries, before reading them', async () => {
    const zip = craftZip([deflatedEntry('src/main/apigee/a.json', '{}')])
    zip.writeUInt16LE(0xffff - 1, zip.length - 12)
    zip.writeUInt16LE(0xffff - 1, zip.length - 10)
    expect(await refused(unzipArchive(zip, 'b.zip'))).toBe('Bundle file is not a valid zip archive: b.zip')
    // Zip64's end record can claim billions.
    const end = zip.subarray(zip.length - 22)
    const cdOffset = end.readUInt32LE(16)
    const cdSize = end.readUInt32LE(12)
    const eocd64 = Buffer.alloc(56)
    eocd64.writeUInt32LE(0x06064b50, 0)
    eocd64.writeBigUInt64LE(5_000_000_000n, 24)
    eocd64.writeBigUInt64LE(5_000_000_000n, 32)
    eocd64.writeBigUInt64LE(BigInt(cdSize), 40)
    eocd64.writeBigUInt64LE(BigInt(cdOffset), 48)
    const locator = Buffer.alloc(20)
    locator.writeUInt32LE(0x07064b50, 0)
    locator.writeBigUInt64LE(BigInt(zip.length - 22), 8)
    const end64 = Buffer.from(end)
    end64.writeUInt16LE(0xffff, 8)
    end64.writeUInt16LE(0xffff, 10)
    const huge = Buffer.concat([zip.subarray(0, zip.length - 22), eocd64, locator, end64])
    expect(await refused(unzipArchive(huge, 'b.zip'))).toBe('Bundle file b.zip holds 5,000,000,000 entries, more than the 200,000 an archive may hold.')
  })

  it('a --bundle-file goes through the input limit: no device, nothing past 1 GiB', () => {
    expect(() => readBundleFile('/dev/zero')).toThrow('Cannot read the bundle file /dev/zero (--bundle-file): it is not a regular file (a device, socket or other special file).')
    const big = path.join(dir, 'big.zip')
    fs.writeFileSync(big, '')
    fs.truncateSync(big, 1.5 * 1024 * MiB)
    expect(() => readBundleFile(big)).toThrow(`The bundle file ${big} (--bundle-file) is larger than the 1 GiB limit for a bundle file.`)
    expect(() => readBundleFile(path.join(dir, 'none.zip'))).toThrow(`Path to archive deployment does not exist: ${path.join(dir, 'none.zip')}`)
  })
})

describe('big and special files in --source (issue 11, item 7)', () => {
  const root = () => {
    const r = path.join(dir, 'src/src/main/apigee/environments/dev')
    fs.mkdirSync(r, {recursive: true})
    return r
  }
  const sparse = (file: string, size: number) => {
    fs.writeFileSync(file, '')
    fs.truncateSync(file, size)
    return file
  }

  it('a 2 GiB sparse or 900 MB document is refused by its size, unread, naming the file', () => {
    const file = sparse(path.join(root(), 'big.json'), 2 * 1024 * MiB)
    const start = performance.now()
    expect(() => readSource(path.join(dir, 'src'))).toThrow(`${file} is 2 GiB, larger than the 16 MiB limit for a JSON or YAML document of an archive.`)
    sparse(file, 900_000_000)
    expect(() => readSource(path.join(dir, 'src'))).toThrow(`${file} is 858.3 MiB, larger than the 16 MiB limit for a JSON or YAML document of an archive.`)
    expect(performance.now() - start).toBeLessThan(500)
  })

  it('files past 1 GiB in total are refused before any is read', () => {
    sparse(path.join(root(), 'a.js'), 600 * MiB)
    const second = sparse(path.join(root(), 'b.js'), 600 * MiB)
    const error = (() => {
      try {
        readSource(path.join(dir, 'src'))
      } catch (e) {
        return e as {message: string; hint?: string; status?: string}
      }
    })()
    expect(error).toMatchObject({status: 'INVALID_ARGUMENT', message: `The archive in ${path.join(dir, 'src')} is larger than the 1 GiB upload limit.`, hint: `${second} is 600 MiB.`})
  })

  it('a FIFO where a file would be read is refused by name (and not opened)', () => {
    const fifo = path.join(root(), 'targetservers.json')
    execFileSync('mkfifo', [fifo])
    expect(() => readSource(path.join(dir, 'src'))).toThrow(`${fifo} is not a regular file (a FIFO, socket or device): an archive holds regular files only.`)
  })
})

describe('JSON error positions and byte order marks (issue 11, item 9)', () => {
  it('puts an error where it is, not at the end of the file', () => {
    expect(() => parseJsonFile('x\n{}\n\n\n\n', 'f.json')).toThrow(/^Invalid JSON in f\.json at line 1, column 1: Unexpected token 'x'\.$/)
    expect(() => parseJsonFile('{\n  "a": 1\n  "b": 2\n}\n\n', 'f.json')).toThrow("Invalid JSON in f.json at line 3, column 3: Expected ',' or '}' after property value.")
    expect(() => parseJsonFile('[1, 2]\n]\n', 'f.json')).toThrow('Invalid JSON in f.json at line 2, column 1: Unexpected non-whitespace character after JSON.')
    expect(() => parseJsonFile('{"a": "b\\q"}', 'f.json')).toThrow('Invalid JSON in f.json at line 1, column 10: Bad escaped character.')
    expect(() => parseJsonFile('{"a": [1, 2,]}', 'f.json')).toThrow("Invalid JSON in f.json at line 1, column 13: Unexpected token ']' (a trailing comma before it?).")
  })

  it('accepts a leading BOM in JSON and YAML; names a stray one without printing it', async () => {
    expect(parseJsonFile('\ufeff{"a": 1}', 'f.json')).toEqual({a: 1})
    expect(await parseYamlFile('\ufeffa: 1\n', 'f.yaml')).toEqual({a: 1})
    let message = ''
    try {
      parseJsonFile('{"a": 1,\n \ufeff"b": 2}', 'f.json')
    } catch (e) {
      message = (e as Error).message
    }
    expect(message).toBe('Invalid JSON in f.json at line 2, column 2: Expected double-quoted property name.')
    expect(() => parseJsonFile('[\ufeff1]', 'f.json')).toThrow('Invalid JSON in f.json at line 1, column 2: Unexpected byte order mark (U+FEFF).')
    expect(message).not.toContain('\ufeff')
  })

  it('never quotes more than one character of the text', () => {
    const secret = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC'
    expect(() => parseJsonFile(`${secret}\n`, 'f.json')).toThrow("Invalid JSON in f.json at line 1, column 1: Unexpected token 'M'.")
  })
})

describe('YAML aliases and messages built from user data (issue 11, item 5)', () => {
  // 9 levels of 9 aliases each: about 400 bytes, 387 million values when walked as a tree.
  const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`)].join('\n')

  it('refuses a billion laughs quickly, with a short message', async () => {
    expect(laughs.length).toBeLessThan(500)
    const [error, ms] = await timed(() => refusal(parseYamlFile(laughs, 'c.yaml'), 'INVALID_ARGUMENT'))
    expect(error.message).toBe('Invalid YAML in c.yaml: its aliases expand it by more than 1,000,000 values (a "billion laughs"?).')
    expect(error.hint).toBe('Write the values out instead of repeating them through aliases.')
    expect(ms).toBeLessThan(500)
  })

  it('refuses an alias inside what it names, and too many aliases; keeps ordinary anchors', async () => {
    expect((await refusal(parseYamlFile('a: &a [1, *a]\n', 'c.yaml'))).message).toBe('Invalid YAML in c.yaml: an alias refers to a node that contains it.')
    const many = `x: &x [1]\nl: [${Array(10_001).fill('*x').join(', ')}]\n`
    expect((await refusal(parseYamlFile(many, 'c.yaml'))).message).toBe('Invalid YAML in c.yaml: more than 10,000 aliases of mappings or lists.')
    expect(await parseYamlFile('m: &m {path_template: /a, method: GET}\nops: [*m, *m]\n', 'c.yaml')).toEqual({
      m: {path_template: '/a', method: 'GET'},
      ops: [{path_template: '/a', method: 'GET'}, {path_template: '/a', method: 'GET'}],
    })
  })

  it('clips user text quoted in a message to 200 characters', async () => {
    const error = await refusal(parseYamlFile(`a: *${'x'.repeat(100_000)}\n`, 'c.yaml'))
    expect(error.message).toBe(`Invalid YAML in c.yaml at line 1, column 100005: unidentified alias "${'x'.repeat(180)}….`)
    expect(clipUserText('a\nb\u001b[31m')).toBe('a\\u000ab\\u001b[31m')
    expect(clipUserText('é'.repeat(300))).toBe(`${'é'.repeat(200)}…`)
  })

  it('an archive config.yaml with a billion laughs is a problem of the deployment', async () => {
    const r = await validateArchiveFiles(store, 'o', 'dev', new Map([['apiproxies/a/config.yaml', Buffer.from(laughs)]]))
    expect(r.message).toBe('generic::invalid_argument: Invalid YAML in src/main/apigee/apiproxies/a/config.yaml: its aliases expand it by more than 1,000,000 values (a "billion laughs"?)')
  })
})

describe('shapes of archive documents (issue 11, item 6)', () => {
  const archive = (docs: Record<string, string>) => {
    const files = new Map<string, Buffer>([
      ['environments/dev/targetservers.json', Buffer.from('[{"name": "t", "host": "h", "port": 443}]')],
      ['apiproxies/a/config.yaml', Buffer.from('operations:\n  - id: x\n    target:\n      target_server_id: t\n')],
    ])
    for (const [p, text] of Object.entries(docs)) files.set(p, Buffer.from(text))
    return files
  }
  const messages = async (docs: Record<string, string>) => {
    const r = await validateArchiveFiles(store, 'o', 'dev', archive(docs))
    return r.problems.map((p) => p.message)
  }
  const config = 'src/main/apigee/apiproxies/a/config.yaml'
  const deployments = 'src/main/apigee/environments/dev/deployments.json'
  const targets = 'src/main/apigee/environments/dev/targetservers.json'

  it('the seed archive and the documented fields pass', async () => {
    expect(await messages({})).toEqual([])
    expect(
      await messages({
        'apiproxies/a/config.yaml': 'basepath: /a\ntarget:\n  uri: https://example.com\nconsumer_authorization: {locations: [{header: x}]}\noperations:\n  - id: x\n    target: {target_server_id: t}\n    http_match: [{path_template: /foo, method: GET}]\n',
        'environments/dev/deployments.json': '{"proxies": [{"name": "a"}], "sharedflows": []}',
        'environments/dev/targetservers.json': JSON.stringify([{name: 't', description: 'd', host: 'h', port: 443, isEnabled: true, protocol: 'HTTP', sSLInfo: {enabled: true, clientAuthEnabled: false, ignoreValidationErrors: false, protocols: ['TLSv1.2'], ciphers: [], commonName: {value: 'h', wildcardMatch: false}}}]),
      }),
    ).toEqual([])
  })

  it('refuses each case of the issue, every violation with file and path', async () => {
    expect(await messages({'apiproxies/a/config.yaml': 'operations: garbage\n'})).toEqual([`${config}: operations must be a list (found a string)`])
    expect(await messages({'environments/dev/deployments.json': '{"proxies":"helloworld"}'})).toEqual([`${deployments}: proxies must be an array (found a string)`])
    expect(await messages({'apiproxies/a/config.yaml': 'operations:\n  - target:\n      target_server_id: 123\n'})).toEqual([
      `${config}: operations[0].target.target_server_id must be a string (found the number 123)`,
    ])
    expect(await messages({'apiproxies/a/config.yaml': 'operations: [null, 5, "x"]\n'})).toEqual([
      `${config}: operations[0] must be a mapping (found null)`,
      `${config}: operations[1] must be a mapping (found the number 5)`,
      `${config}: operations[2] must be a mapping (found a string)`,
    ])
    expect(await messages({'apiproxies/a/config.yaml': 'just a string\n'})).toEqual([`${config}: the document must be a mapping (found a string)`])
    expect(await messages({'apiproxies/a/config.yaml': ''})).toEqual([`${config}: the document must be a mapping (found an empty document)`])
    expect(await messages({'environments/dev/deployments.json': '42'})).toEqual([`${deployments}: the document must be an object (found the number 42)`])
    expect(
      await messages({'environments/dev/targetservers.json': JSON.stringify([{name: 5, host: '', port: 70000, sSLInfo: {enabled: 'yes', protocols: [1.2]}}, {name: 'u'}, 'x'])}),
    ).toEqual([
      `${targets}: [0].name must be a string (found the number 5)`,
      `${targets}: [0].host must not be empty`,
      `${targets}: [0].port must be from 1 to 65535 (found the number 70000)`,
      `${targets}: [0].sSLInfo.enabled must be true or false (found a string)`,
      `${targets}: [0].sSLInfo.protocols[0] must be a string (found a number)`,
      `${targets}: [1].host is required`,
      `${targets}: [1].port is required`,
      `${targets}: [2] must be an object (found a string)`,
    ])
  })

  it('a private key given as config.yaml is refused without echoing it', async () => {
    const key = execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], {encoding: 'utf8'})
    const r = await validateArchiveFiles(store, 'o', 'dev', archive({'apiproxies/a/config.yaml': key}))
    expect(r.message).toBe(`generic::invalid_argument: ${config}: the document must be a mapping (found a string)`)
    const body = key.split('\n')[1]
    expect(JSON.stringify(r)).not.toContain(body.slice(0, 16))
  })

  it('lists at most 20 violations per document, and counts the rest', async () => {
    const list = await messages({'apiproxies/a/config.yaml': `operations: [${Array(25).fill('1').join(', ')}]\n`})
    expect(list).toHaveLength(21)
    expect(list[20]).toBe(`${config}: 5 more violation(s) not listed`)
  })

  it('a deployment of a misshapen archive fails with INVALID_ARGUMENT and deploys nothing', async () => {
    const zip = await zipArchive(archive({'apiproxies/a/config.yaml': 'operations: garbage\n'}))
    const {deployment} = await createArchiveDeployment(store, 'o', 'dev', zip, {workerPid: process.pid})
    const done = await runArchiveDeployment(store, 'o', deployment.name)
    expect(done.error).toEqual({code: 3, message: `generic::invalid_argument: ${config}: operations must be a list (found a string)`})
    expect(await getApiProxy(store, 'o', 'a')).toBeUndefined()
  })
})
