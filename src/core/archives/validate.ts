import {MtlsError} from '../errors.js'
import {aliasName, envName, isValidId, keystoreName, referenceName} from '../names.js'
import type {Store} from '../store/index.js'
import {clipUserText, parseJsonFile, parseYamlFile} from './parse.js'
import {type ShapeName, shapeViolations} from './schemas.js'
import type {ArchiveFiles} from './source.js'

/**
 * The heart of archive deployments: every keystore, alias and truststore that the archive's
 * target servers name must exist, hold what TLS needs, and hold only certificates inside their
 * validity window. Messages are Apigee's, word for word
 * (../shared/seeds/configurable-proxy-southbound-mtls.txt).
 */

export interface TlsInfo {
  enabled?: boolean
  clientAuthEnabled?: boolean
  keyStore?: string
  keyAlias?: string
  trustStore?: string
  ignoreValidationErrors?: boolean
  protocols?: string[]
  ciphers?: string[]
  commonName?: unknown
  enforce?: boolean
}

export interface TargetServer {
  name: string
  description?: string
  host?: string
  port?: number
  isEnabled?: boolean
  protocol?: string
  sSLInfo?: TlsInfo
}

/** One problem, with what to do about it (the seed's "Resolution"). */
export interface Problem {
  proxy: string
  targetServer?: string
  /** The text after `target server "T" ...` (or the whole text for archive-level problems). */
  message: string
  resolution: string
}

export interface ValidationResult {
  /** Proxies the deployment holds, with the revision this deployment would create. */
  proxies: Array<{name: string; revision: number}>
  problems: Problem[]
  /** The operation's error message: empty when there are no problems. */
  message: string
}

/** The slice of an alias validation needs: its type and its certificates' validity windows. */
export interface AliasView {
  type: 'CERT' | 'KEY_CERT' | 'ALIAS_TYPE_UNSPECIFIED'
  certsInfo: {certInfo: Array<{validFrom: string; expiryDate: string}>}
}

const RESOLUTION = {
  keystore:
    'Create a keystore with the same name that is referenced within the targetservers.json file, or update the targetservers.json file to reference an existing, valid Apigee keystore.',
  alias:
    'Create an alias within the specified keystore with the same name that is referenced in the targetservers.json file, or update the targetservers.json file to reference an existing, valid Apigee keystore and alias combination.',
  keyless:
    'Create a key and certificate alias (mtlsctl aliases add ALIAS --keystore KS --cert-file F --key-file F) and reference it in targetservers.json: a certificate-only alias cannot authenticate the client.',
  truststore:
    'Create a truststore within the specified keystore with the same name that is referenced in the targetservers.json file, or update the targetservers.json file to reference an existing, valid Apigee keystore and truststore combination.',
  certificate:
    'Update the specified alias with a new and valid certificate (create a new alias and reference it), or update the targetservers.json file to reference an existing, valid Apigee keystore and alias combination.',
  clientAuth: 'Give the target server both sSLInfo.keyStore and sSLInfo.keyAlias, or set clientAuthEnabled to false.',
  targetServer: 'Add the target server to environments/ENV/targetservers.json, or fix target_server_id in the proxy\'s config.yaml.',
  reference: 'Create the reference (mtlsctl references create NAME --refers KEYSTORE), or name the keystore directly.',
  file: 'Fix the file and deploy again.',
}

/**
 * What validation reads from the environment: keystores, aliases and references. The local
 * engine answers from the store (`storeLookup`); remote mode from the organization's live
 * resources over the API (src/core/apigee/views.ts). The rules below are the same for both.
 */
export interface TlsLookup {
  keystoreExists(ks: string): Promise<boolean>
  /** The alias, or undefined when it (or its keystore) does not exist. */
  alias(ks: string, alias: string): Promise<AliasView | undefined>
  aliasIds(ks: string): Promise<string[]>
  /** The reference's target keystore, or undefined when it does not exist. */
  reference(ref: string): Promise<{refers: string} | undefined>
}

/** The local engine's lookup: documents read straight from the store. */
export function storeLookup(store: Store, org: string, env: string): TlsLookup {
  return {
    keystoreExists: async (ks) => (await store.get(keystoreName(org, env, ks))) !== undefined,
    alias: (ks, alias) => store.get<AliasView>(aliasName(org, env, ks, alias)),
    aliasIds: (ks) => store.ids(`${keystoreName(org, env, ks)}/aliases`),
    reference: (ref) => store.get<{refers: string}>(referenceName(org, env, ref)),
  }
}

/** Reads keystores, aliases and references once per validation, however many target servers name them. */
class KeystoreView {
  private keystores = new Map<string, Promise<boolean>>()
  private aliases = new Map<string, Promise<AliasView | undefined>>()
  private aliasIds = new Map<string, Promise<string[]>>()
  private references = new Map<string, Promise<{refers: string} | undefined>>()

  constructor(private readonly lookup: TlsLookup) {}

  keystoreExists(ks: string): Promise<boolean> {
    let found = this.keystores.get(ks)
    if (!found) {
      found = this.lookup.keystoreExists(ks)
      this.keystores.set(ks, found)
    }
    return found
  }

  alias(ks: string, alias: string): Promise<AliasView | undefined> {
    const key = `${ks}\u0000${alias}`
    let found = this.aliases.get(key)
    if (!found) {
      found = this.lookup.alias(ks, alias)
      this.aliases.set(key, found)
    }
    return found
  }

  aliasesOf(ks: string): Promise<string[]> {
    let found = this.aliasIds.get(ks)
    if (!found) {
      found = this.lookup.aliasIds(ks)
      this.aliasIds.set(ks, found)
    }
    return found
  }

  reference(ref: string): Promise<{refers: string} | undefined> {
    let found = this.references.get(ref)
    if (!found) {
      found = this.lookup.reference(ref)
      this.references.set(ref, found)
    }
    return found
  }
}

function validityProblem(cert: {validFrom: string; expiryDate: string}, now: number): string | undefined {
  if (Number(cert.expiryDate) < now) return 'certificate has expired'
  if (Number(cert.validFrom) > now) return 'certificate is not yet valid'
  return undefined
}

export interface ValidateOptions {
  lookup: TlsLookup
  org: string
  env: string
  /** Next revision per proxy (1 for a new proxy). */
  nextRevision: (api: string) => Promise<number>
  now?: number
}

function archiveProblem(proxy: string, message: string, resolution: string = RESOLUTION.file): Problem {
  return {proxy, message, resolution}
}

/** Validates archive files for deployment to org/env. Never throws for content problems. */
export async function validateArchive(files: ArchiveFiles, options: ValidateOptions): Promise<ValidationResult> {
  const {org, env} = options
  const now = options.now ?? Date.now()
  const problems: Problem[] = []
  const view = new KeystoreView(options.lookup)
  const read = (p: string) => files.get(p)?.toString('utf8')

  // Environment folder.
  const envFolders = [...new Set([...files.keys()].filter((p) => p.startsWith('environments/')).map((p) => p.split('/')[1]))].sort()
  if (envFolders.length > 0 && !envFolders.includes(env)) {
    problems.push(
      archiveProblem(
        '',
        `archive has no environments/${env} folder for environment "${envName(org, env)}" (it has: ${clipUserText(envFolders.join(', '))})`,
        `Rename the folder to environments/${env}, or deploy with --environment ${clipUserText(envFolders[0], 100)}.`,
      ),
    )
  }

  // Each document is parsed, then checked against its shape: every violation is a problem.
  const parse = async <T>(p: string, kind: 'json' | 'yaml', shape: ShapeName): Promise<T | undefined> => {
    const text = read(p)
    if (text === undefined) return undefined
    const file = `src/main/apigee/${clipUserText(p)}`
    let value: unknown
    try {
      value = kind === 'json' ? parseJsonFile<unknown>(text, file) : await parseYamlFile<unknown>(text, file)
    } catch (error) {
      if (!(error instanceof MtlsError)) throw error
      problems.push(archiveProblem('', error.message.replace(/\.$/, '')))
      return undefined
    }
    const violations = await shapeViolations(shape, value, file)
    if (violations.length > 0) {
      problems.push(...violations.map((v) => archiveProblem('', v)))
      return undefined
    }
    return value as T
  }

  // Which proxies: deployments.json, else every folder under apiproxies/.
  const deployments = await parse<{proxies?: Array<{name: string}>}>(`environments/${env}/deployments.json`, 'json', 'deployments')
  const folders = new Set([...files.keys()].filter((p) => p.startsWith('apiproxies/')).map((p) => p.split('/')[1]))
  const proxyNames = (deployments?.proxies ? deployments.proxies.map((p) => p.name) : [...folders]).sort()

  const targetsFile = `environments/${env}/targetservers.json`
  const targetList = await parse<TargetServer[]>(targetsFile, 'json', 'targetServers')
  const targets = new Map<string, TargetServer>()
  for (const t of targetList ?? []) targets.set(t.name, t)

  const proxies: ValidationResult['proxies'] = []
  const messages: string[] = []
  for (const api of proxyNames) {
    if (!isValidId('api', api) || !folders.has(api)) {
      const shown = clipUserText(api)
      problems.push(archiveProblem(api, `proxy "${shown}" listed in deployments.json has no folder apiproxies/${shown}`))
      continue
    }
    const revision = await options.nextRevision(api)
    proxies.push({name: api, revision})
    type Target = {target_server_id?: string}
    const config = await parse<{target?: Target; operations?: Array<{target?: Target}>}>(`apiproxies/${api}/config.yaml`, 'yaml', 'config')
    const ids = [
      ...new Set([config?.target, ...(config?.operations ?? []).map((op) => op.target)].map((t) => t?.target_server_id).filter((id): id is string => id !== undefined)),
    ].sort()
    const proxyProblems: Problem[] = []
    for (const id of ids) {
      const target = targets.get(id)
      if (!target && targetList === undefined && read(targetsFile) !== undefined) continue // Already reported: the file does not parse.
      if (!target) {
        proxyProblems.push({proxy: api, targetServer: id, message: `target server "${id}" does not exist in ${targetsFile}`, resolution: RESOLUTION.targetServer.replace('ENV', env)})
        continue
      }
      proxyProblems.push(...(await checkTarget(api, target, view, {org, env, now})))
    }
    if (proxyProblems.length > 0) {
      problems.push(...proxyProblems)
      const byTarget = new Map<string, string[]>()
      for (const p of proxyProblems) byTarget.set(p.targetServer ?? '', [...(byTarget.get(p.targetServer ?? '') ?? []), p.message])
      const parts = [...byTarget.entries()].map(([t, ms]) =>
        ms[0].startsWith(`target server "${t}" does not exist`) ? ms.join('; ') : `target server "${t}" contains invalid TLS settings: ${ms.join('; ')}`,
      )
      messages.push(`proxy "organizations/${org}/apis/${api}/revisions/${revision}" contains reference(s) to invalid target server(s): ${parts.join('; ')}`)
    }
  }
  const archiveLevel = problems.filter((p) => p.targetServer === undefined)
  const all = [...archiveLevel.map((p) => p.message), ...messages]
  return {proxies, problems, message: all.length === 0 ? '' : `generic::invalid_argument: ${all.join('; ')}`}
}

interface Ctx {
  org: string
  env: string
  now: number
}

async function resolveStore(value: string, view: KeystoreView, ctx: Ctx): Promise<{ks?: string; problem?: string}> {
  if (!value.startsWith('ref://')) return {ks: value}
  const ref = value.slice('ref://'.length)
  if (!isValidId('reference', ref)) return {problem: `invalid reference "${value}"`}
  const reference = await view.reference(ref)
  if (!reference) return {problem: `reference "${referenceName(ctx.org, ctx.env, ref)}" not found`}
  return {ks: reference.refers}
}

async function checkTarget(api: string, target: TargetServer, view: KeystoreView, ctx: Ctx): Promise<Problem[]> {
  const tls = target.sSLInfo
  if (!tls || tls.enabled !== true) return []
  const problems: Problem[] = []
  const add = (message: string, resolution: string) => problems.push({proxy: api, targetServer: target.name, message, resolution})

  if (tls.clientAuthEnabled === true) {
    if (!tls.keyStore || !tls.keyAlias) {
      add('clientAuthEnabled requires both keyStore and keyAlias', RESOLUTION.clientAuth)
    } else {
      const {ks, problem} = await resolveStore(tls.keyStore, view, ctx)
      if (problem) add(problem, RESOLUTION.reference)
      else if (ks !== undefined) {
        const full = aliasName(ctx.org, ctx.env, ks, tls.keyAlias)
        const exists = isValidId('keystore', ks) && (await view.keystoreExists(ks))
        const alias = exists && isValidId('alias', tls.keyAlias) ? await view.alias(ks, tls.keyAlias) : undefined
        const quoted = `"alias \\"${full}\\""`
        if (!alias) {
          add(`missing required private key for ${quoted}; missing required certificate(s) for ${quoted}`, exists ? RESOLUTION.alias : RESOLUTION.keystore)
        } else if (alias.type !== 'KEY_CERT') {
          add(`missing required private key for ${quoted}`, RESOLUTION.keyless)
        } else {
          for (const cert of alias.certsInfo.certInfo) {
            const why = validityProblem(cert, ctx.now)
            if (why) {
              add(`keystore "${keystoreName(ctx.org, ctx.env, ks)}" contains an invalid certificate within alias "${full}": ${why}`, RESOLUTION.certificate)
              break
            }
          }
        }
      }
    }
  }

  if (tls.trustStore) {
    const {ks, problem} = await resolveStore(tls.trustStore, view, ctx)
    if (problem) add(problem, RESOLUTION.reference)
    else if (ks !== undefined) {
      const full = keystoreName(ctx.org, ctx.env, ks)
      const exists = isValidId('keystore', ks) && (await view.keystoreExists(ks))
      let certificates = 0
      const invalid: string[] = []
      if (exists) {
        for (const id of await view.aliasesOf(ks)) {
          const alias = await view.alias(ks, id)
          for (const cert of alias?.certsInfo.certInfo ?? []) {
            certificates++
            const why = validityProblem(cert, ctx.now)
            if (why) {
              invalid.push(`truststore "${full}" contains an invalid certificate within alias "${aliasName(ctx.org, ctx.env, ks, id)}": ${why}`)
              break
            }
          }
        }
      }
      if (certificates === 0) add(`missing required certificate(s) for truststore "${full}"`, RESOLUTION.truststore)
      for (const message of invalid) add(message, RESOLUTION.certificate)
    }
  }
  return problems
}
