import type {CertificateRow} from '../aliases.js'
import type {ArchiveDeploymentRow} from '../archives/deployments.js'
import {unzipArchive} from '../archives/source.js'
import type {TargetServer} from '../archives/validate.js'
import {MtlsError} from '../errors.js'
import {aliasName, keystoreName} from '../names.js'
import {parseArchive} from '../runtime/snapshot.js'
import type {ApigeeApi} from './api.js'
import {expiringCertificates, listArchiveRows, mapLimit, orUndefined} from './views.js'

/**
 * Where keystores and aliases are used: the target servers of each environment's latest
 * successful archive deployment (what the environment serves now), read from the deployment's
 * own zip (`getArchiveZip`: the store locally, `:generateDownloadUrl` remotely).
 */

/** One target server of a deployed proxy, with the keystores its TLS names (references resolved). */
export interface TargetServerUse {
  environment: string
  /** The archive deployment's id. */
  archiveDeployment: string
  proxy: string
  targetServer: string
  /** The keystore of the client certificate, and its alias (`clientAuthEnabled`). */
  keyStore?: string
  keyAlias?: string
  trustStore?: string
  /** The reference the target server names instead of the keystore (`ref://NAME`). */
  keyStoreReference?: string
  trustStoreReference?: string
}

/** The environment's latest archive deployment whose operation succeeded, if any (its list row). */
export async function latestSuccessfulDeployment(api: ApigeeApi, org: string, env: string): Promise<ArchiveDeploymentRow | undefined> {
  return (await listArchiveRows(api, org, env)).find((r) => r.operationStatus === 'Deployed')
}

/** Every (proxy, target server) of the environment's latest successful deployment, with its keystores. */
export async function deployedTargetServers(api: ApigeeApi, org: string, env: string): Promise<TargetServerUse[]> {
  const deployment = await latestSuccessfulDeployment(api, org, env)
  if (!deployment) return []
  const id = deployment.archiveId
  // Fails closed: a deployment whose archive cannot be read is an error, never "used by nobody".
  const parsed = await parseArchive(await unzipArchive(await api.getArchiveZip(org, env, id), deployment.name), env)
  const servers = new Map<string, TargetServer>()
  for (const t of parsed.targetServers) if (t && typeof t.name === 'string') servers.set(t.name, t)
  const references = new Map<string, Promise<string | undefined>>()
  const refers = (value: string | undefined): Promise<{keystore?: string; reference?: string}> => {
    if (typeof value !== 'string' || value === '') return Promise.resolve({})
    if (!value.startsWith('ref://')) return Promise.resolve({keystore: value})
    const name = value.slice('ref://'.length)
    let found = references.get(name)
    if (!found) {
      // Only a reference that does not exist names no keystore; any other error is an error.
      found = orUndefined(api.getReference(org, env, name)).then((r) => r?.refers)
      references.set(name, found)
    }
    return found.then((keystore) => ({keystore, reference: name}))
  }
  const uses: TargetServerUse[] = []
  for (const proxy of parsed.proxies) {
    const ids = new Set<string>()
    for (const ref of [proxy.target, ...proxy.operations.map((o) => o.target)]) if (ref?.kind === 'server') ids.add(ref.id)
    for (const targetServer of [...ids].sort()) {
      const tls = servers.get(targetServer)?.sSLInfo
      const use: TargetServerUse = {environment: env, archiveDeployment: id, proxy: proxy.name, targetServer}
      if (tls?.enabled === true) {
        const key = await refers(tls.clientAuthEnabled === true ? tls.keyStore : undefined)
        if (key.keystore !== undefined) {
          use.keyStore = key.keystore
          if (typeof tls.keyAlias === 'string') use.keyAlias = tls.keyAlias
        }
        if (key.reference) use.keyStoreReference = key.reference
        const trust = await refers(tls.trustStore)
        if (trust.keystore !== undefined) use.trustStore = trust.keystore
        if (trust.reference) use.trustStoreReference = trust.reference
      }
      uses.push(use)
    }
  }
  return uses
}

/** The deployed target servers that present the alias as their client certificate. */
export async function aliasUsers(api: ApigeeApi, org: string, env: string, ks: string, alias: string): Promise<TargetServerUse[]> {
  return (await deployedTargetServers(api, org, env)).filter((u) => u.keyStore === ks && u.keyAlias === alias)
}

/** The deployed target servers that use the keystore, as key store or as truststore. */
export async function keystoreUsers(api: ApigeeApi, org: string, env: string, ks: string): Promise<TargetServerUse[]> {
  return (await deployedTargetServers(api, org, env)).filter((u) => u.keyStore === ks || u.trustStore === ks)
}

/** Who uses it, as `describe` shows it: where, and how (client certificate or truststore). */
export function usedBy(use: TargetServerUse): {environment: string; archiveDeployment: string; proxy: string; targetServer: string} {
  return {environment: use.environment, archiveDeployment: use.archiveDeployment, proxy: use.proxy, targetServer: use.targetServer}
}

/** `environment dev, archive deployment X, proxy P, target server T` for messages. */
export function describeUse(use: TargetServerUse): string {
  return `environment ${use.environment}, archive deployment ${use.archiveDeployment}, proxy ${use.proxy}, target server ${use.targetServer}`
}

/** FAILED_PRECONDITION naming the users of a keystore or alias that a delete would break. */
export function inUseError(kind: 'alias' | 'keystore', org: string, env: string, ks: string, alias: string | undefined, users: TargetServerUse[]): MtlsError {
  const name = kind === 'alias' ? aliasName(org, env, ks, alias as string) : keystoreName(org, env, ks)
  const what = kind === 'alias' ? 'Alias' : 'Keystore'
  return new MtlsError(
    'FAILED_PRECONDITION',
    `${what} "${name}" is used by ${users.length} target server(s) of the latest deployment:\n${users.map((u) => `  ${describeUse(u)}`).join('\n')}`,
    {
      hint:
        kind === 'alias'
          ? `Rotate it first (mtlsctl aliases rotate ${alias} --keystore ${ks} --source DIR ...), or pass --force to delete it anyway.`
          : `Rotate it first (mtlsctl keystores rotate ${ks} --new-keystore NAME --source DIR ...), or pass --force to delete it anyway.`,
    },
  )
}

/** A certificate about to expire, and the deployed target servers that break with it. */
export interface ExpiringCertificate extends CertificateRow {
  environment: string
  /** `proxy/targetServer` of the latest deployment: the alias as client certificate, or its keystore as truststore. */
  targetServers: string[]
}

/**
 * `aliases list --expiring-within`: every certificate of the environments' keystores (or one
 * keystore) that expires within the window, soonest first, with what it would break.
 */
export async function expiringWithUsers(api: ApigeeApi, org: string, envs: string[], withinMs: number, ks?: string): Promise<ExpiringCertificate[]> {
  const perEnv = await mapLimit(envs, 4, async (env) => {
    // One keystore across environments: those without it have nothing to list.
    if (ks !== undefined && envs.length > 1 && !(await api.listKeystoreNames(org, env)).includes(ks)) return []
    const rows = await expiringCertificates(api, org, env, withinMs, ks)
    if (rows.length === 0) return []
    const uses = await deployedTargetServers(api, org, env)
    return rows.map((row) => {
      const breaks = uses.filter((u) => (u.keyStore === row.keystore && u.keyAlias === row.alias) || u.trustStore === row.keystore)
      return {environment: env, ...row, targetServers: [...new Set(breaks.map((u) => `${u.proxy}/${u.targetServer}`))]}
    })
  })
  return perEnv.flat().sort((a, b) => Number(a.expiryDate) - Number(b.expiryDate) || a.environment.localeCompare(b.environment))
}
