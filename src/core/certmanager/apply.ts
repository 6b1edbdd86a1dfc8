import type * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {type Certificate, createSelfSignedCertificate, isSelfSigned, issueCertificate, parseCertificateChain} from '../ca/certificates.js'
import {keysMatch, parsePrivateKey} from '../ca/keys.js'
import {invalidArgument} from '../errors.js'
import {readInput} from '../input.js'
import {type PlannedCertificate, planCertificates} from './graph.js'
import {encodeKey, generatePrivateKey, keyConforms} from './keys.js'
import {type LintFinding, lintManifests} from './lint.js'
import {readManifests} from './manifests.js'
import {type SecretData, type SecretManifest, secretManifest, secretsYaml} from './secrets.js'
import {type ApplyState, readState, renewalTime, STATE_FILE, specHash} from './state.js'

/**
 * `certs apply`: issue what the manifests ask for, into DIR/NAMESPACE/SECRET/{tls.crt,tls.key,
 * ca.crt} and DIR/secrets.yaml, idempotently. Everything is checked and issued in memory
 * first; files are written only when the whole set is ready, so an error writes nothing.
 */

export type ApplyAction = 'created' | 'unchanged' | 'renewed' | 'reissued'

export interface AppliedSecret {
  certificate: string
  namespace: string
  secretName: string
  action: ApplyAction
  /** Why it was renewed or reissued: `spec changed`, `--renew`, `due (renewal time ...)`. */
  reason?: string
  /** Whether the private key was kept (rotationPolicy Never) when reissued or renewed. */
  keyReused?: boolean
  notBefore: string
  notAfter: string
  renewalTime: string
  files: {'tls.crt': string; 'tls.key': string; 'ca.crt': string}
}

export interface ApplyOptions {
  files: string[]
  outDir: string
  namespace?: string
  /** Certificate names (or namespace/name) to renew now. */
  renew?: string[]
  expectHosts?: Record<string, string[]>
  now?: Date
}

export interface ApplyResult {
  outDir: string
  secretsFile: string
  certificates: AppliedSecret[]
  skipped: string[]
  warnings: LintFinding[]
  /** Notes about keys (a stored key that no longer matches the spec ...). */
  notes: string[]
  /** The Secret manifests (with key material): only for callers that asked for them. */
  secrets: SecretManifest[]
  /** secrets.yaml's text (key material included). */
  secretsYaml: string
}

interface Issued {
  chain: Certificate[]
  key: crypto.KeyObject
  data: SecretData
}

const secretDir = (outDir: string, namespace: string, secretName: string) => path.join(outDir, namespace, secretName)

/** A Secret already in DIR, or undefined when it is absent or unreadable. */
async function readSecret(dir: string): Promise<Issued | undefined> {
  try {
    const read = (f: string) => readInput(path.join(dir, f), {what: 'certificate', kind: 'pem'}).toString('utf8')
    const data = {'tls.crt': read('tls.crt'), 'tls.key': read('tls.key'), 'ca.crt': read('ca.crt')}
    const chain = await parseCertificateChain(data['tls.crt'], path.join(dir, 'tls.crt'))
    const key = parsePrivateKey(data['tls.key'], {file: path.join(dir, 'tls.key')})
    if (!keysMatch(key, chain[0].publicKey)) return undefined
    return {chain, key, data}
  } catch {
    return undefined
  }
}

export async function applyManifests(options: ApplyOptions): Promise<ApplyResult> {
  const now = options.now ?? new Date()
  const outDir = path.resolve(options.outDir)
  const manifests = await readManifests(options.files, {namespace: options.namespace})
  const warnings = lintManifests(manifests, {expectHosts: options.expectHosts})
  const planned = planCertificates(manifests, (ns, name) => fs.existsSync(path.join(secretDir(outDir, ns, name), 'tls.key')))
  const renew = new Set(options.renew ?? [])
  for (const name of renew) {
    if (!planned.some((p) => p.resource.name === name || p.id === name)) throw invalidArgument(`--renew ${name}: no Certificate of that name in the input.`)
  }
  const state = readState(outDir)

  // 1. What happens to each certificate, decided from the stored Secret and the last apply.
  const decisions = await Promise.all(
    planned.map(async (p) => {
      const existing = await readSecret(secretDir(outDir, p.resource.namespace, p.resource.spec.secretName))
      const previous = state.certificates[p.id]
      const hash = specHash(p)
      let action: ApplyAction = 'unchanged'
      let reason: string | undefined
      if (!existing || !previous || previous.secret !== `${p.resource.namespace}/${p.resource.spec.secretName}`) action = 'created'
      else if (previous.specHash !== hash) [action, reason] = ['reissued', 'spec changed']
      else if (renew.has(p.resource.name) || renew.has(p.id)) [action, reason] = ['renewed', '--renew']
      else {
        const due = renewalTime(existing.chain[0].notBefore, existing.chain[0].notAfter, p.spec.renewBeforeMs)
        if (now.getTime() >= due.getTime()) [action, reason] = ['renewed', `due since ${due.toISOString()}`]
      }
      return {p, existing, hash, action, reason}
    }),
  )

  // 2. Keys: kept under rotationPolicy Never when they still fit the spec, else new ones, all
  //    begun at once on the thread pool.
  const notes: string[] = ignoredFields(planned)
  const keys = new Map<string, Promise<crypto.KeyObject>>()
  const reused = new Set<string>()
  for (const d of decisions) {
    if (d.action === 'unchanged') continue
    const {privateKey} = d.p.spec
    if (d.existing && privateKey.rotationPolicy === 'Never') {
      if (keyConforms(d.existing.key, privateKey)) {
        keys.set(d.p.id, Promise.resolve(d.existing.key))
        reused.add(d.p.id)
        continue
      }
      notes.push(`Certificate ${d.p.id}: the stored private key does not match spec.privateKey (${privateKey.algorithm}${privateKey.size ? ` ${privateKey.size}` : ''}); a new one is made despite rotationPolicy Never.`)
    }
    keys.set(d.p.id, generatePrivateKey(privateKey))
  }

  // 3. Issue in dependency order.
  const issued = new Map<string, Issued>()
  const results: AppliedSecret[] = []
  const manifestsOut: SecretManifest[] = []
  for (const d of decisions) {
    const p = d.p
    let done: Issued
    if (d.action === 'unchanged' && d.existing) done = d.existing
    else done = await issue(p, await keys.get(p.id)!, issued, outDir, now)
    issued.set(p.id, done)
    const leaf = done.chain[0]
    const dir = secretDir(outDir, p.resource.namespace, p.resource.spec.secretName)
    results.push({
      certificate: p.resource.name,
      namespace: p.resource.namespace,
      secretName: p.resource.spec.secretName,
      action: d.action,
      ...(d.reason ? {reason: d.reason} : {}),
      ...(d.action === 'renewed' || d.action === 'reissued' ? {keyReused: reused.has(p.id)} : {}),
      notBefore: leaf.notBefore.toISOString(),
      notAfter: leaf.notAfter.toISOString(),
      renewalTime: renewalTime(leaf.notBefore, leaf.notAfter, p.spec.renewBeforeMs).toISOString(),
      files: {'tls.crt': path.join(dir, 'tls.crt'), 'tls.key': path.join(dir, 'tls.key'), 'ca.crt': path.join(dir, 'ca.crt')},
    })
    manifestsOut.push(secretManifest(p, leaf, done.data))
  }

  // 4. Write: only what changed, each file atomically.
  const newState: ApplyState = {version: 1, certificates: {...state.certificates}}
  ensureDir(outDir)
  for (const [i, d] of decisions.entries()) {
    newState.certificates[d.p.id] = {specHash: d.hash, secret: `${d.p.resource.namespace}/${d.p.resource.spec.secretName}`}
    if (d.action === 'unchanged') continue
    const data = issued.get(d.p.id)!.data
    ensureDir(path.join(outDir, d.p.resource.namespace))
    ensureDir(path.dirname(results[i].files['tls.crt']))
    writeIfChanged(results[i].files['tls.key'], data['tls.key'], 0o600)
    writeIfChanged(results[i].files['tls.crt'], data['tls.crt'], 0o644)
    writeIfChanged(results[i].files['ca.crt'], data['ca.crt'], 0o644)
  }
  const secretsFile = path.join(outDir, 'secrets.yaml')
  const secretsText = await secretsYaml(manifestsOut)
  writeIfChanged(secretsFile, secretsText, 0o600)
  writeIfChanged(path.join(outDir, STATE_FILE), `${JSON.stringify(newState, null, 2)}\n`, 0o600)
  return {outDir, secretsFile, certificates: results, skipped: manifests.skipped, warnings, notes, secrets: manifestsOut, secretsYaml: secretsText}
}

async function issue(p: PlannedCertificate, key: crypto.KeyObject, issued: Map<string, Issued>, outDir: string, now: Date): Promise<Issued> {
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000)
  let notAfter = new Date(notBefore.getTime() + p.spec.durationMs)
  const selfSigned = p.signer.type === 'selfSigned'
  const template = {
    subject: p.spec.subject,
    publicKey: key,
    sans: p.spec.sans,
    profile: {kind: 'explicit' as const, ca: p.spec.isCA, keyUsage: p.spec.keyUsage, extKeyUsage: p.spec.extKeyUsage, selfSigned},
    notBefore,
    notAfter,
  }
  const encodedKey = encodeKey(key, p.spec.privateKey.encoding)
  if (p.signer.type === 'selfSigned') {
    const pem = await createSelfSignedCertificate(template, key)
    return {chain: await parseCertificateChain(pem), key, data: {'tls.crt': pem, 'tls.key': encodedKey, 'ca.crt': pem}}
  }
  const signer = p.signer.certificate
    ? issued.get(p.signer.certificate.id)
    : await readSecret(secretDir(outDir, p.signer.namespace, p.signer.secretName))
  if (!signer) throw invalidArgument(`Certificate ${p.id}: the CA Secret ${p.signer.namespace}/${p.signer.secretName} cannot be read from ${outDir}.`)
  const ca = signer.chain[0]
  if (!ca.basicConstraints?.ca) {
    throw invalidArgument(`Certificate ${p.id}: Secret ${p.signer.namespace}/${p.signer.secretName} of its CA issuer does not hold a CA certificate (isCA: true).`)
  }
  // cert-manager's CA issuer never signs past its own certificate's end.
  if (notAfter.getTime() > ca.notAfter.getTime()) notAfter = ca.notAfter
  const pem = await issueCertificate({...template, notAfter}, {certificate: ca, privateKey: signer.key})
  const intermediates = signer.chain.filter((c) => !isSelfSigned(c))
  const root = signer.chain.find((c) => isSelfSigned(c))
  const chainPem = [pem, ...intermediates.map((c) => c.pem)].join('')
  return {
    chain: await parseCertificateChain(chainPem),
    key,
    data: {'tls.crt': chainPem, 'tls.key': encodedKey, 'ca.crt': root ? root.pem : signer.data['ca.crt']},
  }
}

/** The Certificate fields mtlsctl applies; others (keystores, additionalOutputFormats ...) are named as ignored. */
const APPLIED_FIELDS = new Set([
  'secretName', 'commonName', 'dnsNames', 'ipAddresses', 'uris', 'emailAddresses', 'subject', 'literalSubject',
  'duration', 'renewBefore', 'isCA', 'usages', 'privateKey', 'issuerRef', 'secretTemplate',
])

function ignoredFields(planned: PlannedCertificate[]): string[] {
  return planned.flatMap((p) => {
    const ignored = Object.keys(p.resource.spec).filter((k) => !APPLIED_FIELDS.has(k))
    return ignored.length ? [`Certificate ${p.id}: ${ignored.map((k) => `spec.${k}`).join(', ')} not applied by mtlsctl (ignored).`] : []
  })
}

/** Folders this apply creates are 0700; one that exists (`--out-dir .`, a home folder) keeps its mode. */
function ensureDir(dir: string): void {
  const created = fs.mkdirSync(dir, {recursive: true, mode: 0o700})
  if (created !== undefined) fs.chmodSync(dir, 0o700)
}

/** Temp file, fsync, rename; a file whose bytes are already these is left alone. */
function writeIfChanged(file: string, content: string, mode: number): void {
  try {
    if (fs.readFileSync(file, 'utf8') === content) {
      fs.chmodSync(file, mode)
      return
    }
  } catch {
    // absent
  }
  const temp = `${file}.${process.pid}.tmp`
  const fd = fs.openSync(temp, 'w', mode)
  try {
    fs.writeSync(fd, content)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.chmodSync(temp, mode)
  fs.renameSync(temp, file)
}
