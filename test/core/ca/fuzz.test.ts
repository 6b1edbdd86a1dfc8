import * as path from 'node:path'
import fc from 'fast-check'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ALIAS_CHAIN, readAliasSource} from '../../../src/core/alias-sources.js'
import {parseCertificateChain, toPem} from '../../../src/core/ca/certificates.js'
import {createCsr} from '../../../src/core/ca/csr.js'
import {encodePrivateKey, generateKey, parsePrivateKey} from '../../../src/core/ca/keys.js'
import {createPkcs12} from '../../../src/core/ca/pkcs12.js'
import {parseCsr} from '../../../src/core/ca/csr.js'
import {parseSubject} from '../../../src/core/ca/subject.js'
import {MtlsError} from '../../../src/core/errors.js'
import {readPkcs12} from '../../../src/core/pkcs12-import.js'
import {openStore, type Store} from '../../../src/core/store/index.js'
import {rmTemp, tempDir} from '../../helpers/cli.js'
import {makeCa, makeCert} from '../../helpers/ca.js'

/**
 * Fuzzing the PEM/key readers (issue 11, general defences): random bytes, random DER inside PEM
 * armor, real certificates, keys, CSRs and PKCS#12 files with bytes flipped or cut short, and
 * mixes of blocks. Each reader returns or throws an MtlsError that is not INTERNAL, and no
 * message carries key material. Bounded: a number of runs and a time budget per property
 * (about 12 s in all on a loaded machine).
 */
const BUDGET_MS = 1800
const settings = (numRuns: number) => ({numRuns, plugins: [fc.interruptAfterTimeLimit(BUDGET_MS)]})

let dir: string
let store: Store
let real: {certDer: Buffer; certPem: string; chainPem: string; keyPem: string; rsaKeyPem: string; encKeyPem: string; csrPem: string; p12: Buffer}

beforeAll(async () => {
  dir = tempDir()
  store = openStore(path.join(dir, 'state'))
  const ca = await makeCa('fuzz-ca')
  const leaf = await makeCert(ca, 'fuzz-leaf')
  const rsa = generateKey('rsa-2048')
  real = {
    certDer: leaf.certificate.der,
    certPem: leaf.pem,
    chainPem: leaf.pem + ca.pem,
    keyPem: encodePrivateKey(leaf.privateKey),
    rsaKeyPem: encodePrivateKey(rsa),
    encKeyPem: encodePrivateKey(leaf.privateKey, 'pw'),
    csrPem: await createCsr(leaf.privateKey, parseSubject('/CN=fuzz')),
    p12: await createPkcs12({privateKey: leaf.privateKey, chain: [leaf.certificate, ca.certificate], password: 'pw', iterations: 64}),
  }
})
afterAll(() => rmTemp(dir))

/** Long base64 runs of an input: key material a message must never repeat. */
function secrets(input: string | Buffer): string[] {
  return [...input.toString('latin1').matchAll(/[A-Za-z0-9+/]{24,}/g)].map((m) => m[0])
}

/** The property: returns, or throws an MtlsError that is not INTERNAL and echoes no key material. */
async function holds(input: string | Buffer, read: () => unknown): Promise<void> {
  try {
    await read()
  } catch (error) {
    if (!(error instanceof MtlsError)) throw new Error(`not an MtlsError: ${(error as Error)?.stack ?? error}`)
    expect(error.status).not.toBe('INTERNAL')
    const text = `${error.message}\n${error.hint ?? ''}`
    // A message may name the header it wants (`"-----BEGIN CERTIFICATE-----"`), never hold a block.
    expect(text).not.toMatch(/-----BEGIN [A-Z ]+-----\s*\n/)
    for (const run of secrets(input)) expect(text).not.toContain(run)
    expect(text.length).toBeLessThan(2000)
  }
}

const LABELS = ['CERTIFICATE', 'PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']

const bytes = fc.uint8Array({maxLength: 1500}).map((a) => Buffer.from(a))
const armored = fc
  .record({label: fc.constantFrom(...LABELS), body: bytes, encryptedHeader: fc.boolean()})
  .map(({label, body, encryptedHeader}) => {
    const pem = toPem(label, body)
    return encryptedHeader ? pem.replace('-----\n', '-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\n') : pem
  })

/** A real DER with some bytes changed, re-armored under its label. */
const flipped = (pick: () => {der: Buffer; label: string}) =>
  fc.array(fc.record({at: fc.nat(), value: fc.integer({min: 0, max: 255})}), {minLength: 1, maxLength: 6}).map((flips) => {
    const {der, label} = pick()
    const copy = Buffer.from(der)
    for (const {at, value} of flips) copy[at % copy.length] = value
    return toPem(label, copy)
  })
const pemDer = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')
const truncated = (pick: () => string) => fc.nat().map((n) => {
  const text = pick()
  return text.slice(0, n % text.length)
})
const garbled = (pick: () => string) =>
  fc.record({at: fc.nat(), junk: fc.string({maxLength: 40})}).map(({at, junk}) => {
    const text = pick()
    const i = at % text.length
    return text.slice(0, i) + junk + text.slice(i)
  })
const block = () =>
  fc.oneof(
    fc.constant('cert'),
    fc.constant('key'),
    fc.constant('enc'),
    fc.constant('csr'),
    armored,
    fc.string({maxLength: 60}),
  )
const mixed = fc.array(block(), {minLength: 1, maxLength: 8}).map((parts) =>
  parts.map((p) => ({cert: real.certPem, key: real.keyPem, enc: real.encKeyPem, csr: real.csrPem})[p as 'cert'] ?? p).join('\n'),
)

/** Every PEM-shaped input the readers see. */
const pemInputs = () =>
  fc.oneof(
    bytes,
    armored,
    flipped(() => ({der: real.certDer, label: 'CERTIFICATE'})),
    flipped(() => ({der: pemDer(real.keyPem), label: 'PRIVATE KEY'})),
    flipped(() => ({der: pemDer(real.rsaKeyPem), label: 'PRIVATE KEY'})),
    flipped(() => ({der: pemDer(real.encKeyPem), label: 'ENCRYPTED PRIVATE KEY'})),
    flipped(() => ({der: pemDer(real.csrPem), label: 'CERTIFICATE REQUEST'})),
    truncated(() => real.chainPem + real.keyPem),
    garbled(() => real.chainPem),
    garbled(() => real.keyPem),
    mixed,
  )

describe('fuzz: PEM and key readers never fail with INTERNAL nor echo key material', () => {
  it('parseCertificateChain (plain and with the alias rules)', async () => {
    await fc.assert(
      fc.asyncProperty(pemInputs(), async (input) => {
        await holds(input, () => parseCertificateChain(input, 'fuzz.pem'))
        await holds(input, () => parseCertificateChain(Buffer.isBuffer(input) ? input : Buffer.from(input, 'latin1'), 'fuzz.pem', ALIAS_CHAIN))
      }),
      settings(300),
    )
  })

  it('parsePrivateKey, without and with a password', async () => {
    await fc.assert(
      fc.asyncProperty(pemInputs(), async (input) => {
        await holds(input, () => parsePrivateKey(input, {file: 'fuzz.key'}))
        await holds(input, () => parsePrivateKey(input, {file: 'fuzz.key', password: 'pw'}))
      }),
      settings(300),
    )
  })

  it('parseCsr', async () => {
    await fc.assert(fc.asyncProperty(pemInputs(), async (input) => holds(input, () => parseCsr(input, 'fuzz.csr'))), settings(300))
  })

  it('the PKCS#12 reader: random bytes, random DER, a real file with bytes changed or cut short', async () => {
    const p12Inputs = fc.oneof(
      bytes,
      fc.array(fc.record({at: fc.nat(), value: fc.integer({min: 0, max: 255})}), {minLength: 1, maxLength: 4}).map((flips) => {
        const copy = Buffer.from(real.p12)
        for (const {at, value} of flips) copy[at % copy.length] = value
        return copy
      }),
      fc.nat().map((n) => real.p12.subarray(0, n % real.p12.length)),
    )
    await fc.assert(
      fc.asyncProperty(p12Inputs, fc.constantFrom('pw', 'wrong', ''), async (input, password) => {
        await holds(input, async () => {
          const {certs, key} = await readPkcs12(input, password, 'fuzz.p12')
          await parseCertificateChain(certs.join(''), 'fuzz.p12', ALIAS_CHAIN)
          parsePrivateKey(key, {file: 'fuzz.p12'})
        })
      }),
      settings(150),
    )
  })

  it('the alias sources: keycertfile with any certificate and key input, PKCS#12 through readAliasSource', async () => {
    await fc.assert(
      fc.asyncProperty(pemInputs(), fc.option(pemInputs(), {nil: undefined}), fc.option(fc.constantFrom('pw', 'wrong'), {nil: undefined}), async (cert, key, password) => {
        const certBuf = Buffer.isBuffer(cert) ? cert : Buffer.from(cert, 'latin1')
        const keyBuf = key === undefined ? undefined : Buffer.isBuffer(key) ? key : Buffer.from(key, 'latin1')
        await holds(Buffer.concat([certBuf, keyBuf ?? Buffer.alloc(0)]), () =>
          readAliasSource(store, {format: 'keycertfile', cert: certBuf, certFile: 'fuzz.pem', ...(keyBuf ? {key: keyBuf, keyFile: 'fuzz.key'} : {}), password}),
        )
      }),
      settings(300),
    )
    await fc.assert(
      fc.asyncProperty(bytes, async (data) => holds(data, () => readAliasSource(store, {format: 'pkcs12', data, file: 'fuzz.p12', password: 'pw'}))),
      settings(100),
    )
  })

  it('the real inputs themselves still read (the generators start from valid material)', async () => {
    expect((await parseCertificateChain(real.chainPem, 'chain.pem', ALIAS_CHAIN)).length).toBe(2)
    expect(parsePrivateKey(real.encKeyPem, {password: 'pw'}).asymmetricKeyType).toBe('ec')
    expect((await readPkcs12(real.p12, 'pw', 'real.p12')).certs.length).toBe(2)
    expect((await parseCsr(real.csrPem)).sans).toEqual([])
  })
})
