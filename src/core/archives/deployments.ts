import {randomBytes} from 'node:crypto'

import {getEnvironment} from '../environments.js'
import {failedPrecondition, invalidArgument, MtlsError, notFound} from '../errors.js'
import {unexpectedError} from '../input.js'
import {archiveDeploymentName, checkId, envName} from '../names.js'
import {
  commitOperation,
  type CommitDoc,
  createOperation,
  finishOperation,
  getOperation,
  type Operation,
} from '../operations.js'
import type {Store} from '../store/index.js'
import {unzipArchive} from './source.js'
import {storeLookup, validateArchive, type ValidationResult} from './validate.js'

/** Apigee v1 `ArchiveDeployment`. */
export interface ArchiveDeployment {
  name: string
  gcsUri?: string
  createdAt: string
  updatedAt: string
  labels?: Record<string, string>
  operation: string
}

/** gcloud's OPERATION STATUS column. */
export type DeploymentStatus = 'Deployed' | 'In Progress' | 'Failed' | 'Not Found' | 'Unknown'

export interface ArchiveDeploymentRow {
  archiveId: string
  environment: string
  deployedAt: string
  labels: Record<string, string>
  operationStatus: DeploymentStatus
  name: string
  operation: string
}

/** Apigee v1 `ApiProxy`: the revisions successful deployments created. */
export interface ApiProxy {
  name: string
  revision: string[]
  latestRevisionId: string
}

/**
 * Every proxy's revisions, for the whole organization, in ONE document: a deployment's
 * revisions and its operation's outcome are committed together in one write of it
 * (commitOperation), so a killed deploy leaves all its revisions or none, and revision
 * numbers count successful deployments only. Revisions are contiguous: proxy A has revisions
 * 1 to `apis[A]`.
 */
interface RevisionsDoc extends CommitDoc {
  apis: Record<string, number>
}

const ARCHIVE_BLOB = 'archive.zip'
const ID_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789'

/** 18 characters of [a-z0-9], like `afjq46noszlmmgt3uh`. */
function newArchiveId(): string {
  return [...randomBytes(18)].map((b) => ID_CHARS[b % ID_CHARS.length]).join('')
}

const revisionsName = (org: string) => `organizations/${org}/apiRevisions`

/** The latest revision of each proxy (a Map: proxy names such as `__proto__` are valid ids). */
async function latestRevisions(store: Store, org: string, doc?: RevisionsDoc): Promise<Map<string, number>> {
  const current = doc ?? (await store.get<RevisionsDoc>(revisionsName(org)))
  if (current) return new Map(Object.entries(current.apis ?? {}))
  // A state folder from before the revisions document: one `apis/<name>` document per proxy.
  const legacy = await store.list<{name: string; latestRevisionId: string}>(`organizations/${org}/apis`)
  return new Map(legacy.map((d) => [d.name, Number(d.latestRevisionId)]))
}

/** The revision the next successful deployment of `api` creates: one past the last. */
export async function nextRevision(store: Store, org: string, api: string): Promise<number> {
  return ((await latestRevisions(store, org)).get(api) ?? 0) + 1
}

/** Apigee's `ApiProxy` for a deployed proxy, or undefined when no deployment created it. */
export async function getApiProxy(store: Store, org: string, api: string): Promise<ApiProxy | undefined> {
  const latest = (await latestRevisions(store, org)).get(api)
  if (!latest) return undefined
  const revision = Array.from({length: latest}, (_, i) => String(i + 1))
  return {name: api, revision, latestRevisionId: String(latest)}
}

export interface CreateDeploymentOptions {
  labels?: Record<string, string>
  gcsUri?: string
  /** The process that will run the operation (its lease holder). */
  workerPid?: number
}

export function parseLabels(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {}
  for (const pair of (text ?? '').split(',').filter((p) => p.trim() !== '')) {
    const at = pair.indexOf('=')
    const key = (at < 0 ? pair : pair.slice(0, at)).trim()
    if (!/^[a-z][a-z0-9_-]{0,62}$/.test(key)) {
      throw invalidArgument(`Invalid label "${pair}": keys are lowercase letters, digits, "_" and "-", starting with a letter.`)
    }
    labels[key] = at < 0 ? '' : pair.slice(at + 1).trim()
  }
  return labels
}

/**
 * Archive deployments need an environment of deployment type ARCHIVE: the engine's refusal
 * (also the remote preflight's, so both backends say it in the same words).
 */
export function checkArchiveEnvironment(org: string, env: string, environment: {deploymentType?: string}, hint?: string): void {
  if (environment.deploymentType !== undefined && environment.deploymentType !== 'ARCHIVE') {
    throw failedPrecondition(
      `Environment "${envName(org, env)}" has deployment type ${environment.deploymentType}; archive deployments need an environment with deployment type ARCHIVE.`,
      hint,
    )
  }
}

/**
 * Stores the archive and starts its deployment operation; validation runs in the operation
 * (`runArchiveDeployment`), in this process or a worker.
 */
export async function createArchiveDeployment(
  store: Store,
  org: string,
  env: string,
  zip: Buffer,
  options: CreateDeploymentOptions = {},
): Promise<{deployment: ArchiveDeployment; operation: Operation}> {
  checkArchiveEnvironment(org, env, await getEnvironment(store, org, env), `Create one with: mtlsctl environments create ENV --organization ${org} --deployment-type archive`)
  const id = newArchiveId()
  const name = archiveDeploymentName(org, env, id)
  const now = String(Date.now())
  const operation = await createOperation(store, org, 'INSERT', name, options.workerPid ? {pid: options.workerPid} : undefined, {
    commitDoc: revisionsName(org),
  })
  const deployment: ArchiveDeployment = {
    name,
    ...(options.gcsUri ? {gcsUri: options.gcsUri} : {}),
    createdAt: now,
    updatedAt: now,
    ...(options.labels && Object.keys(options.labels).length > 0 ? {labels: options.labels} : {}),
    operation: operation.name,
  }
  await store.create(name, deployment, {[ARCHIVE_BLOB]: {data: zip}})
  return {deployment, operation}
}

/** Validates an archive against the environment without deploying anything. */
export async function validateArchiveFiles(
  store: Store,
  org: string,
  env: string,
  files: Map<string, Buffer>,
): Promise<ValidationResult> {
  await getEnvironment(store, org, env)
  // Read once per validation: thousands of proxies ask for their next revision.
  let latest: Promise<Map<string, number>> | undefined
  const next = async (api: string) => ((await (latest ??= latestRevisions(store, org))).get(api) ?? 0) + 1
  return validateArchive(files, {lookup: storeLookup(store, org, env), org, env, nextRevision: next})
}

/** The operation's work: validate, then record the deployed revisions. */
export async function runArchiveDeployment(store: Store, org: string, deploymentName: string): Promise<Operation> {
  const deployment = await store.get<ArchiveDeployment>(deploymentName)
  if (!deployment) throw notFound(`Archive deployment "${deploymentName}" not found.`)
  const env = deploymentName.split('/')[3]
  try {
    const zip = await store.getBlob(deploymentName, ARCHIVE_BLOB)
    if (!zip) throw new MtlsError('DATA_LOSS', `The archive of "${deploymentName}" is missing from the state folder.`)
    const files = await unzipArchive(zip, deploymentName)
    const result = await validateArchiveFiles(store, org, env, files)
    if (result.problems.length > 0) {
      return await finishOperation(store, deployment.operation, {error: invalidArgument(result.message)})
    }
    // The commit point: every proxy's new revision and the operation's outcome, in one write.
    const operation = await commitOperation<RevisionsDoc>(
      store,
      deployment.operation,
      async (current) => {
        const latest = await latestRevisions(store, org, current)
        for (const {name} of result.proxies) latest.set(name, (latest.get(name) ?? 0) + 1)
        return {apis: Object.fromEntries(latest)}
      },
      {'@type': 'type.googleapis.com/google.cloud.apigee.v1.ArchiveDeployment', ...deployment},
    )
    if (!operation.error) {
      await store.withLock(async () => {
        if (await store.get(deploymentName)) await store.put(deploymentName, {...deployment, updatedAt: String(Date.now())})
      })
    }
    return operation
  } catch (error) {
    // The operation's error is shown to whoever asks for it: one nothing anticipated carries no path.
    const failure = error instanceof MtlsError ? error : unexpectedError(error)
    return finishOperation(store, deployment.operation, {error: failure})
  }
}

/** gcloud's OPERATION STATUS of a deployment, from its operation (undefined: the operation is gone). */
export function deploymentStatus(operation: Operation | undefined): DeploymentStatus {
  if (!operation) return 'Not Found'
  if (operation.metadata.state !== 'FINISHED') return 'In Progress'
  return operation.error ? 'Failed' : 'Deployed'
}

async function statusOf(store: Store, org: string, deployment: ArchiveDeployment): Promise<DeploymentStatus> {
  try {
    return deploymentStatus(await getOperation(store, org, deployment.operation.split('/').pop() as string))
  } catch (error) {
    if (error instanceof MtlsError && error.status === 'NOT_FOUND') return deploymentStatus(undefined)
    return 'Unknown'
  }
}

/** The environment's archive deployments as stored (Apigee's `ArchiveDeployment`), in no order. */
export async function listArchiveDeploymentDocs(store: Store, org: string, env: string): Promise<ArchiveDeployment[]> {
  await getEnvironment(store, org, env)
  return store.list<ArchiveDeployment>(`${envName(org, env)}/archiveDeployments`)
}

/** gcloud's `archives list`: newest first. */
export async function listArchiveDeployments(store: Store, org: string, env: string): Promise<ArchiveDeploymentRow[]> {
  const deployments = await listArchiveDeploymentDocs(store, org, env)
  const rows: ArchiveDeploymentRow[] = []
  for (const d of deployments) {
    rows.push({
      archiveId: d.name.split('/').pop() as string,
      environment: env,
      deployedAt: new Date(Number(d.createdAt)).toISOString(),
      labels: d.labels ?? {},
      operationStatus: await statusOf(store, org, d),
      name: d.name,
      operation: d.operation,
    })
  }
  return rows.sort((a, b) => b.deployedAt.localeCompare(a.deployedAt) || a.archiveId.localeCompare(b.archiveId))
}

function checkArchiveId(id: string): string {
  if (!/^[a-z0-9]{1,63}$/.test(id)) throw invalidArgument(`Invalid archive deployment id "${id}".`)
  return id
}

export async function getArchiveDeployment(store: Store, org: string, env: string, id: string): Promise<ArchiveDeployment & {operationStatus: DeploymentStatus}> {
  checkId('environment', env)
  const name = archiveDeploymentName(org, env, checkArchiveId(id))
  const deployment = await store.get<ArchiveDeployment>(name)
  if (!deployment) {
    await getEnvironment(store, org, env)
    throw notFound(`Archive deployment "${name}" not found.`)
  }
  return {...deployment, operationStatus: await statusOf(store, org, deployment)}
}

/** The zip an archive deployment was created from (Apigee's `:generateDownloadUrl`). */
export async function getArchiveZip(store: Store, org: string, env: string, id: string): Promise<Buffer> {
  const {name} = await getArchiveDeployment(store, org, env, id)
  const zip = await store.getBlob(name, ARCHIVE_BLOB)
  if (!zip) throw new MtlsError('DATA_LOSS', `The archive of "${name}" is missing from the state folder.`)
  return zip
}

export async function deleteArchiveDeployment(store: Store, org: string, env: string, id: string): Promise<void> {
  await store.withLock(async () => {
    await getArchiveDeployment(store, org, env, id)
    await store.delete(archiveDeploymentName(org, env, id))
  })
}

