import {certificateRows, type Alias, type CertificateRow} from '../aliases.js'
import {deploymentStatus, type ArchiveDeployment, type ArchiveDeploymentRow, type DeploymentStatus} from '../archives/deployments.js'
import type {ArchiveFiles} from '../archives/source.js'
import {validateArchive, type AliasView, type TlsLookup, type ValidationResult} from '../archives/validate.js'
import type {Environment} from '../environments.js'
import {MtlsError} from '../errors.js'
import {isValidId, keystoreName} from '../names.js'
import {pollOperation, type Operation, type WaitOptions} from '../operations.js'
import type {Reference} from '../references.js'
import type {ApigeeApi} from './api.js'

/**
 * What the commands show, built from the Apigee API's resources: one piece of code for the
 * local engine and for a remote organization, so both print the same bytes.
 */

/** How many requests a view keeps in flight at once (a remote list of 1,000 aliases). */
const CONCURRENCY = 8

export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i])
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  return results
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** NOT_FOUND as undefined; every other error stays an error. */
export async function orUndefined<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise
  } catch (error) {
    if (error instanceof MtlsError && error.status === 'NOT_FOUND') return undefined
    throw error
  }
}

export async function listEnvironments(api: ApigeeApi, org: string): Promise<Environment[]> {
  const names = (await api.listEnvironmentNames(org)).sort(byName)
  return mapLimit(names, CONCURRENCY, (env) => api.getEnvironment(org, env))
}

export async function listKeystores(api: ApigeeApi, org: string, env: string): Promise<string[]> {
  return (await api.listKeystoreNames(org, env)).sort(byName)
}

export async function listAliases(api: ApigeeApi, org: string, env: string, ks: string): Promise<Alias[]> {
  const names = (await api.listAliasNames(org, env, ks)).sort(byName)
  return mapLimit(names, CONCURRENCY, (alias) => api.getAlias(org, env, ks, alias))
}

export async function listReferences(api: ApigeeApi, org: string, env: string): Promise<Reference[]> {
  const names = (await api.listReferenceNames(org, env)).sort(byName)
  return mapLimit(names, CONCURRENCY, (name) => api.getReference(org, env, name))
}

/** A keystore with each of its certificates' expiry and status. */
export async function describeKeystore(api: ApigeeApi, org: string, env: string, ks: string) {
  const keystore = await api.getKeystore(org, env, ks)
  const now = Date.now()
  const aliases = await listAliases(api, org, env, ks)
  return {
    name: keystore.name,
    resourceName: keystoreName(org, env, ks),
    aliases: aliases.map((a) => a.alias),
    certificates: aliases.flatMap((a) => certificateRows(ks, a, now)),
  }
}

/** Certificates that expire within `withinMs` (or already have), across keystores when ks is omitted. */
export async function expiringCertificates(api: ApigeeApi, org: string, env: string, withinMs: number, ks?: string): Promise<CertificateRow[]> {
  const now = Date.now()
  const keystores = ks === undefined ? await listKeystores(api, org, env) : [ks]
  const found: CertificateRow[] = []
  for (const name of keystores) {
    for (const alias of await listAliases(api, org, env, name)) {
      found.push(...certificateRows(name, alias, now).filter((r) => Number(r.expiryDate) - now <= withinMs))
    }
  }
  return found.sort((a, b) => Number(a.expiryDate) - Number(b.expiryDate))
}

/** The status of each deployment's operation: the organization's operations listed once. */
async function statuses(api: ApigeeApi, org: string, deployments: ArchiveDeployment[]): Promise<Map<string, DeploymentStatus>> {
  const found = new Map<string, DeploymentStatus>()
  if (deployments.length === 0) return found
  const operations = new Map<string, Operation>()
  for (const operation of await api.listOperations(org)) operations.set(operation.name, operation)
  await mapLimit(deployments, CONCURRENCY, async (d) => {
    const operation = operations.get(d.operation) ?? (await statusRead(api, org, d.operation))
    found.set(d.name, operation === 'Unknown' ? 'Unknown' : deploymentStatus(operation))
  })
  return found
}

async function statusRead(api: ApigeeApi, org: string, operation: string): Promise<Operation | undefined | 'Unknown'> {
  try {
    return await orUndefined(api.getOperation(org, operation.split('/').pop() as string))
  } catch {
    return 'Unknown'
  }
}

/** gcloud's `archives list`: newest first, with each deployment's operation status. */
export async function listArchiveRows(api: ApigeeApi, org: string, env: string): Promise<ArchiveDeploymentRow[]> {
  const deployments = await api.listArchiveDeployments(org, env)
  const status = await statuses(api, org, deployments)
  const rows: ArchiveDeploymentRow[] = deployments.map((d) => ({
    archiveId: d.name.split('/').pop() as string,
    environment: env,
    deployedAt: new Date(Number(d.createdAt)).toISOString(),
    labels: d.labels ?? {},
    operationStatus: status.get(d.name) ?? 'Unknown',
    name: d.name,
    operation: d.operation,
  }))
  return rows.sort((a, b) => b.deployedAt.localeCompare(a.deployedAt) || a.archiveId.localeCompare(b.archiveId))
}

/** `archives describe`: the deployment and its operation's status. */
export async function describeArchiveDeployment(api: ApigeeApi, org: string, env: string, id: string): Promise<ArchiveDeployment & {operationStatus: DeploymentStatus}> {
  const deployment = await api.getArchiveDeployment(org, env, id)
  const operation = await statusRead(api, org, deployment.operation)
  return {...deployment, operationStatus: operation === 'Unknown' ? 'Unknown' : deploymentStatus(operation)}
}

/** `operations wait`: polls through the API with gcloud's backoff (first poll sooner: `initialDelayMs`). */
export function waitForOperation(api: ApigeeApi, org: string, uuid: string, options: WaitOptions = {}): Promise<Operation> {
  return pollOperation(() => api.getOperation(org, uuid), org, uuid, options)
}

/** Validation's view of an environment through the API (what a remote organization holds now). */
export function apiLookup(api: ApigeeApi, org: string, env: string): TlsLookup {
  const keystores = new Map<string, Promise<string[] | undefined>>()
  const keystore = (ks: string) => {
    let found = keystores.get(ks)
    if (!found) {
      found = orUndefined(api.getKeystore(org, env, ks)).then((k) => k?.aliases)
      keystores.set(ks, found)
    }
    return found
  }
  return {
    keystoreExists: async (ks) => (await keystore(ks)) !== undefined,
    alias: async (ks, alias) => {
      // An alias the keystore does not list is not asked for: one request fewer per miss.
      const ids = await keystore(ks)
      if (!ids || !ids.includes(alias)) return undefined
      return orUndefined(api.getAlias(org, env, ks, alias)) as Promise<AliasView | undefined>
    },
    aliasIds: async (ks) => (await keystore(ks)) ?? [],
    reference: (ref) => orUndefined(api.getReference(org, env, ref)),
  }
}

/**
 * `archives validate` and the deploy preflight: the archive checked against the environment's
 * live keystores, aliases and references, through whichever backend the command uses.
 */
export async function validateArchiveFor(
  api: ApigeeApi,
  org: string,
  env: string,
  files: ArchiveFiles,
  options: {
    /** Wraps the environment's lookup: a rotation's plan validates as if its new resources existed. */
    overlay?: (lookup: TlsLookup) => TlsLookup
  } = {},
): Promise<ValidationResult> {
  await api.getEnvironment(org, env)
  const revisions = new Map<string, Promise<number>>()
  const nextRevision = (name: string) => {
    let found = revisions.get(name)
    if (!found) {
      found = isValidId('api', name) ? orUndefined(api.getApiProxy(org, name)).then((p) => Number(p?.latestRevisionId ?? 0) + 1) : Promise.resolve(1)
      revisions.set(name, found)
    }
    return found
  }
  const base = api.tlsLookup?.(org, env) ?? apiLookup(api, org, env)
  const lookup = options.overlay ? options.overlay(base) : base
  return validateArchive(files, {lookup, org, env, nextRevision})
}
