import * as fs from 'node:fs'

import type {ApigeeApi} from '../apigee/api.js'
import {aliasUsers, describeUse, keystoreUsers} from '../apigee/usage.js'
import {validateArchiveFor, waitForOperation} from '../apigee/views.js'
import {archiveRoot, zipArchive} from '../archives/source.js'
import type {Problem} from '../archives/validate.js'
import {failedPrecondition, MtlsError} from '../errors.js'
import {orUndefined} from '../apigee/views.js'
import type {Operation} from '../operations.js'
import {
  planAliasRotation,
  planKeystoreRotation,
  type AliasRotationRequest,
  type KeystoreRotationRequest,
  type PreparedRotation,
  type RotationPlan,
} from './plan.js'
import {lockSourceFolder, writeFileAtomically} from './source-folder.js'

/**
 * Carrying a rotation out, in the seed's order: make the new alias (or keystore, its aliases
 * and references), preflight the rewritten archive, deploy it and wait, then write the source
 * folder, then (--delete-old) delete what is no longer used. The source folder is written only
 * once the deployment has succeeded; whatever fails, what was made is reported, kept.
 */

export type Stage = 'plan' | 'create' | 'preflight' | 'deploy' | 'write' | 'delete-old'

/** What the rotation made before a failure: each is kept (nothing names it until a deployment does). */
export interface Made {
  kind: 'alias' | 'keystore' | 'reference'
  name: string
  keystore?: string
}

/** A rotation that stopped: the error that stopped it (its status decides the exit code), and what it had made. */
export class RotationFailed extends Error {
  constructor(
    readonly stage: Stage,
    readonly reason: unknown,
    readonly made: Made[],
    readonly sourceWritten: boolean,
  ) {
    super(reason instanceof Error ? reason.message : String(reason))
    this.name = 'RotationFailed'
  }
}

export interface RotationEvents {
  /** The plan, before anything is made (the command prints it). */
  onPlan?: (plan: RotationPlan) => void
  /** Another rotation holds the source folder: this one waits for it. */
  onWaitForLock?: (holder: {pid: number; host: string}) => void
  /** The deployment's operation exists (gcloud's progress line starts). */
  onOperation?: (operation: Operation) => void
  onPoll?: () => void
  /** The deployment's operation finished (ok or not). */
  onDeployed?: (ok: boolean) => void
}

export interface RotationResult {
  organization: string
  environment: string
  keystore: string
  oldAlias?: string
  newAlias?: string
  newKeystore?: string
  newAliases: Array<{keystore: string; alias: string; type: string; subject?: string; serialNumber?: string; expiryDate?: string}>
  newReferences: string[]
  targetServers: string[]
  files: string[]
  archiveDeployment: string
  operation: string
  /** --delete-old: deleted, or why not. */
  oldDeleted: boolean
  oldKeptBecause?: string
  deletedReferences?: string[]
}

/** Validation problems in the words `archives validate` uses. */
export function problemLines(problems: Problem[]): string {
  return problems
    .map((p, i) => {
      const where = [p.proxy && `proxy "${p.proxy}"`, p.targetServer && `target server "${p.targetServer}"`].filter(Boolean).join(', ')
      return `Problem ${i + 1}${where ? ` (${where})` : ''}: ${p.message}\n  Resolution: ${p.resolution}\n`
    })
    .join('')
}

function preflightError(problems: Problem[], where: string, made: boolean): MtlsError {
  return failedPrecondition(
    `Preflight found ${problems.length} problem(s) against ${where}; nothing was ${made ? 'deployed' : 'made or deployed'}.\n${problemLines(problems).trimEnd()}`,
    'Fix them (or the source folder) and rotate again.',
  )
}

const uuidOf = (operation: Operation) => operation.name.split('/').pop() as string

async function carryOut(api: ApigeeApi, prepared: PreparedRotation, events: RotationEvents): Promise<RotationResult> {
  const {plan} = prepared
  const {organization: org, environment: env} = plan
  events.onPlan?.(plan)
  if (plan.problems.length > 0) throw new RotationFailed('plan', preflightError(plan.problems, api.where, false), [], false)

  const made: Made[] = []
  let stage: Stage = 'create'
  try {
    const newAliases: RotationResult['newAliases'] = []
    for (const step of prepared.create) {
      if (step.kind === 'keystore') {
        await api.createKeystore(org, env, step.name)
        made.push({kind: 'keystore', name: step.name})
      } else if (step.kind === 'alias') {
        const alias = await api.createAlias(org, env, step.keystore, step.alias, step.source)
        // Inside a new keystore, the keystore (made above) stands for its aliases.
        if (step.keystore !== plan.newKeystore) made.push({kind: 'alias', name: step.alias, keystore: step.keystore})
        const leaf = alias.certsInfo.certInfo[0]
        newAliases.push({
          keystore: step.keystore,
          alias: step.alias,
          type: alias.type,
          ...(leaf ? {subject: leaf.subject, serialNumber: leaf.serialNumber, expiryDate: new Date(Number(leaf.expiryDate)).toISOString()} : {}),
        })
      } else {
        await api.createReference(org, env, step.name, step.input)
        made.push({kind: 'reference', name: step.name})
      }
    }

    // The archive against what exists now (the plan's preflight took the new resources as made).
    stage = 'preflight'
    const checked = await validateArchiveFor(api, org, env, prepared.archive)
    if (checked.problems.length > 0) throw preflightError(checked.problems, api.where, true)

    stage = 'deploy'
    const zip = await zipArchive(prepared.archive)
    const operation = await api.deployArchive(org, env, zip, {labels: prepared.labels, background: false, onCreated: (created) => events.onOperation?.(created)})
    const finished =
      operation.metadata.state === 'FINISHED' ? operation : await waitForOperation(api, org, uuidOf(operation), {initialDelayMs: 100, onPoll: () => events.onPoll?.()})
    events.onDeployed?.(!finished.error)
    if (finished.error) throw new DeploymentFailed(finished.name, finished.error.message)

    stage = 'write'
    for (const w of prepared.writes) {
      let now: Buffer | undefined
      try {
        now = fs.readFileSync(w.absolute)
      } catch {}
      if (!now || !now.equals(w.before)) {
        throw failedPrecondition(
          `${w.file} changed while the rotation ran: it was not written. The deployment (operation ${uuidOf(finished)}) already uses the new names; make this change to your copy:\n${plan.files.find((f) => f.file === w.file)?.diff ?? ''}`,
        )
      }
      writeFileAtomically(w.absolute, w.after)
    }

    const archiveDeployment = finished.metadata.targetResourceName.split('/').pop() as string
    const result: RotationResult = {
      organization: org,
      environment: env,
      keystore: plan.keystore,
      ...(plan.alias ? {oldAlias: plan.alias} : {}),
      ...(plan.newAlias ? {newAlias: plan.newAlias} : {}),
      ...(plan.newKeystore ? {newKeystore: plan.newKeystore} : {}),
      newAliases,
      newReferences: plan.newReferences.map((r) => r.name),
      targetServers: [...new Set(plan.targetServers.map((c) => c.targetServer))],
      files: prepared.writes.map((w) => w.file),
      archiveDeployment,
      operation: finished.name,
      oldDeleted: false,
    }
    stage = 'delete-old'
    if (plan.deleteOld) await deleteOld(api, plan, result)
    return result
  } catch (error) {
    throw new RotationFailed(stage, error, made, stage === 'delete-old')
  }
}

/** --delete-old: the old alias (or truststore and the references replaced) once the latest deployment no longer names it. */
async function deleteOld(api: ApigeeApi, plan: RotationPlan, result: RotationResult): Promise<void> {
  const {organization: org, environment: env} = plan
  if (plan.kind === 'alias') {
    const users = await aliasUsers(api, org, env, plan.keystore, plan.alias as string)
    if (users.length > 0) {
      result.oldKeptBecause = `the latest deployment still uses it: ${users.map(describeUse).join('; ')}`
      return
    }
    await api.deleteAlias(org, env, plan.keystore, plan.alias as string)
    result.oldDeleted = true
    return
  }
  const users = await keystoreUsers(api, org, env, plan.keystore)
  if (users.length > 0) {
    result.oldKeptBecause = `the latest deployment still uses it: ${users.map(describeUse).join('; ')}`
    return
  }
  const replaced = new Set(plan.newReferences.map((r) => r.replaces))
  const others: string[] = []
  for (const name of await api.listReferenceNames(org, env)) {
    if (replaced.has(name)) continue
    const reference = await orUndefined(api.getReference(org, env, name))
    if (reference?.refers === plan.keystore) others.push(name)
  }
  if (others.length > 0) {
    result.oldKeptBecause = `reference(s) ${others.join(', ')} still name it`
    return
  }
  const deleted: string[] = []
  for (const name of [...replaced].sort()) {
    await api.deleteReference(org, env, name)
    deleted.push(name)
  }
  await api.deleteKeystore(org, env, plan.keystore)
  result.oldDeleted = true
  result.deletedReferences = deleted
}

/** The deployment's operation finished with an error (gcloud's "Failed to await operation"). */
export class DeploymentFailed extends Error {
  constructor(
    readonly operationName: string,
    readonly details: string,
  ) {
    super(details)
    this.name = 'DeploymentFailed'
  }
}

async function locked<T>(source: string, events: RotationEvents, fn: () => Promise<T>): Promise<T> {
  // A folder that is not an archive source is refused before any lock file is made in it.
  try {
    archiveRoot(source)
  } catch (error) {
    throw new RotationFailed('plan', error, [], false)
  }
  const release = await lockSourceFolder(source, {onWait: events.onWaitForLock})
  try {
    return await fn()
  } finally {
    release()
  }
}

/** `aliases rotate`: plans and carries out under the source folder's lock. */
export function rotateAlias(api: ApigeeApi, request: AliasRotationRequest, events: RotationEvents = {}): Promise<RotationResult> {
  return locked(request.source, events, async () => {
    let prepared: PreparedRotation
    try {
      prepared = await planAliasRotation(api, request)
    } catch (error) {
      throw new RotationFailed('plan', error, [], false)
    }
    return carryOut(api, prepared, events)
  })
}

/** `keystores rotate`: plans and carries out under the source folder's lock. */
export function rotateKeystore(api: ApigeeApi, request: KeystoreRotationRequest, events: RotationEvents = {}): Promise<RotationResult> {
  return locked(request.source, events, async () => {
    let prepared: PreparedRotation
    try {
      prepared = await planKeystoreRotation(api, request)
    } catch (error) {
      throw new RotationFailed('plan', error, [], false)
    }
    return carryOut(api, prepared, events)
  })
}
