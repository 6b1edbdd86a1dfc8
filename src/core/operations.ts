import {randomUUID} from 'node:crypto'

import {invalidArgument, MtlsError, notFound} from './errors.js'
import {checkId, operationName} from './names.js'
import type {Store} from './store/index.js'

/**
 * Long-running operations (google.longrunning.Operation with Apigee's OperationMetadata).
 * An operation is worked on by one process at a time, which holds a lease it renews; an
 * operation whose lease ran out (its worker died) is finished with INTERNAL by whoever reads
 * it next, so nothing stays IN_PROGRESS for ever.
 */
export const METADATA_TYPE = 'type.googleapis.com/google.cloud.apigee.v1.OperationMetadata'

export type OperationState = 'NOT_STARTED' | 'IN_PROGRESS' | 'FINISHED'
export type OperationType = 'INSERT' | 'DELETE' | 'UPDATE'

export interface OperationMetadata {
  '@type': typeof METADATA_TYPE
  operationType: OperationType
  state: OperationState
  targetResourceName: string
}

export interface Operation {
  name: string
  metadata: OperationMetadata
  done?: boolean
  error?: {code: number; message: string}
  response?: Record<string, unknown>
}

/** What `operations describe` prints: the operation plus `organization` and `uuid`, as gcloud. */
export interface DescribedOperation extends Operation {
  organization: string
  uuid: string
}

interface Lease {
  pid: number
  expiresAt: number
}

interface OperationDoc extends Operation {
  createdAt: string
  lease?: Lease
  /**
   * The document that commits this operation's outcome together with its effects (see
   * commitOperation); while the operation document is unfinished, an outcome found there is
   * the operation's outcome.
   */
  commitDoc?: string
}

/** A finished operation's outcome. */
export type OperationOutcome = {error: MtlsError} | {response: Record<string, unknown>}
type StoredOutcome = {error: {code: number; message: string}} | {response: Record<string, unknown>}

/**
 * A document that records operation outcomes with its own content, in one write: the commit
 * point of an operation with effects. `committed` keeps an outcome until the operation's own
 * document is finished (the next commit into the document drops it).
 */
export interface CommitDoc {
  committed?: Record<string, StoredOutcome>
}

/** How long a worker's lease lasts without renewal (MTLSCTL_OPERATION_LEASE_MS overrides). */
export function leaseMs(env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = Number(env.MTLSCTL_OPERATION_LEASE_MS)
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 30_000
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Accepts `UUID` or `organizations/O/operations/UUID`; returns the org (if named) and uuid. */
export function parseOperationRef(ref: string): {org?: string; uuid: string} {
  const full = /^organizations\/([^/]+)\/operations\/([^/]+)$/.exec(ref)
  const org = full?.[1]
  const uuid = (full?.[2] ?? ref).toLowerCase()
  if (!UUID.test(uuid)) {
    throw invalidArgument(`Invalid operation "${ref}": give its UUID or organizations/ORG/operations/UUID.`)
  }
  if (org !== undefined) checkId('organization', org)
  return {org, uuid}
}

function publicView(doc: OperationDoc): Operation {
  const {createdAt: _c, lease: _l, commitDoc: _d, ...operation} = doc
  return operation
}

export interface CreateOperationOptions {
  /** See OperationDoc.commitDoc: where commitOperation records this operation's outcome. */
  commitDoc?: string
}

export async function createOperation(
  store: Store,
  org: string,
  operationType: OperationType,
  targetResourceName: string,
  lease?: {pid: number},
  options: CreateOperationOptions = {},
): Promise<Operation> {
  const uuid = randomUUID()
  const doc: OperationDoc = {
    name: operationName(org, uuid),
    metadata: {'@type': METADATA_TYPE, operationType, state: 'IN_PROGRESS', targetResourceName},
    createdAt: String(Date.now()),
    ...(lease ? {lease: {pid: lease.pid, expiresAt: Date.now() + leaseMs()}} : {}),
    ...(options.commitDoc ? {commitDoc: options.commitDoc} : {}),
  }
  await store.create(doc.name, doc)
  return publicView(doc)
}

/** Takes (or renews) the lease of an unfinished operation for this process. */
export async function holdOperation(store: Store, name: string, pid = process.pid): Promise<boolean> {
  return store.withLock(async () => {
    const doc = await store.get<OperationDoc>(name)
    if (!doc || doc.done) return false
    doc.lease = {pid, expiresAt: Date.now() + leaseMs()}
    await store.put(name, doc)
    return true
  })
}

const stored = (outcome: OperationOutcome): StoredOutcome =>
  'error' in outcome ? {error: {code: outcome.error.code, message: outcome.error.message}} : {response: outcome.response}

/** The outcome already committed for an unfinished operation, if any. */
async function committedOutcome(store: Store, doc: OperationDoc): Promise<StoredOutcome | undefined> {
  if (doc.done || !doc.commitDoc) return undefined
  return (await store.get<CommitDoc>(doc.commitDoc))?.committed?.[doc.name]
}

function finished(doc: OperationDoc, outcome: StoredOutcome): OperationDoc {
  const done: OperationDoc = {...doc, done: true, metadata: {...doc.metadata, state: 'FINISHED'}, ...outcome}
  delete done.lease
  delete done.commitDoc
  return done
}

/**
 * Finishes an operation with `outcome`, unless it is finished already, or its outcome was
 * committed already (commitOperation): then that outcome stands.
 */
export async function finishOperation(store: Store, name: string, outcome: OperationOutcome): Promise<Operation> {
  return store.withLock(async () => {
    const doc = await store.get<OperationDoc>(name)
    if (!doc) throw notFound(`Operation "${name}" not found.`)
    if (doc.done) return publicView(doc)
    const done = finished(doc, (await committedOutcome(store, doc)) ?? stored(outcome))
    await store.put(name, done)
    return publicView(done)
  })
}

/**
 * Finishes an operation together with its effects, all or nothing: `apply` turns the
 * operation's commitDoc into its new content, and that one document, holding the outcome too,
 * is written in one put: the commit point. The operation's own document is finished after it
 * (a process killed in between leaves an outcome that every reader of the operation finds).
 * Nothing is applied when the operation is finished already (e.g. its lease ran out and a
 * reader finished it with INTERNAL): then that outcome is returned.
 */
export async function commitOperation<T extends CommitDoc>(
  store: Store,
  name: string,
  apply: (current: T | undefined) => T | Promise<T>,
  response: Record<string, unknown>,
): Promise<Operation> {
  return store.withLock(async () => {
    const doc = await store.get<OperationDoc>(name)
    if (!doc) throw notFound(`Operation "${name}" not found.`)
    if (doc.done) return publicView(doc)
    if (!doc.commitDoc) throw new MtlsError('INTERNAL', `Operation "${name}" has no document to commit its outcome to.`)
    const current = await store.get<T>(doc.commitDoc)
    const earlier = current?.committed?.[name]
    if (earlier) return finishOperation(store, name, {response: {}})
    const next = await apply(current)
    const committed: Record<string, StoredOutcome> = {}
    // Outcomes of operations whose own document is finished (or gone) are not needed any more.
    for (const [other, outcome] of Object.entries(current?.committed ?? {})) {
      const otherDoc = await store.get<OperationDoc>(other)
      if (otherDoc && !otherDoc.done) committed[other] = outcome
    }
    committed[name] = {response}
    await store.put(doc.commitDoc, {...next, committed})
    const done = finished(doc, {response})
    await store.put(name, done)
    return publicView(done)
  })
}

async function expireIfAbandoned(store: Store, doc: OperationDoc): Promise<OperationDoc> {
  if (doc.done) return doc
  // Committed by a process that stopped before finishing the operation's own document.
  const committed = await committedOutcome(store, doc)
  if (committed) {
    await finishOperation(store, doc.name, {response: {}})
    return (await store.get<OperationDoc>(doc.name)) ?? doc
  }
  if (!doc.lease || doc.lease.expiresAt > Date.now()) return doc
  await finishOperation(store, doc.name, {
    error: new MtlsError(
      'INTERNAL',
      `The process working on this operation (pid ${doc.lease.pid}) stopped before finishing it.`,
    ),
  })
  return (await store.get<OperationDoc>(doc.name)) ?? doc
}

export async function getOperation(store: Store, org: string, uuid: string): Promise<Operation> {
  checkId('organization', org)
  const name = operationName(org, parseOperationRef(uuid).uuid)
  const doc = await store.get<OperationDoc>(name)
  if (!doc) throw notFound(`Operation "${name}" not found.`)
  return publicView(await expireIfAbandoned(store, doc))
}

export function describeOperation(org: string, operation: Operation): DescribedOperation {
  return {...operation, organization: org, uuid: operation.name.split('/').pop() as string}
}

export interface OperationFilter {
  state?: string
}

export async function listOperations(store: Store, org: string, filter: OperationFilter = {}): Promise<Operation[]> {
  checkId('organization', org)
  const docs = await store.list<OperationDoc>(`organizations/${org}/operations`)
  const operations: Array<{op: Operation; at: number}> = []
  for (const doc of docs) {
    const current = await expireIfAbandoned(store, doc)
    if (filter.state && current.metadata.state !== filter.state.toUpperCase()) continue
    operations.push({op: publicView(current), at: Number(current.createdAt)})
  }
  return operations.sort((a, b) => b.at - a.at).map((o) => o.op)
}

export interface WaitOptions {
  /** Give up after this long (DEADLINE_EXCEEDED). */
  timeoutMs?: number
  /** Called after every poll that found the operation unfinished, and once at the end. */
  onPoll?: (operation: Operation) => void
  /** First poll interval; gcloud's is 1 s, then ×1.4 with jitter. */
  initialDelayMs?: number
  /** The longest sleep between polls (10 s). */
  maxDelayMs?: number
}

/** Polls until the operation is FINISHED, with gcloud's backoff: 1 s, ×1.4, jitter, ≤ 10 s. */
export async function waitOperation(store: Store, org: string, uuid: string, options: WaitOptions = {}): Promise<Operation> {
  return pollOperation(() => getOperation(store, org, uuid), org, uuid, options)
}

/** The polling loop of `waitOperation`, over any way of reading the operation (the store, the API). */
export async function pollOperation(read: () => Promise<Operation>, org: string, uuid: string, options: WaitOptions = {}): Promise<Operation> {
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs
  let delay = options.initialDelayMs ?? 1000
  for (;;) {
    const operation = await read()
    options.onPoll?.(operation)
    if (operation.metadata.state === 'FINISHED') return operation
    if (Date.now() >= deadline) {
      throw new MtlsError('DEADLINE_EXCEEDED', `Operation "${operation.name}" did not finish in time; it is still running.`, {
        hint: `Check it later with: mtlsctl operations describe ${uuid} --organization ${org}`,
      })
    }
    const jittered = delay * (0.9 + Math.random() * 0.2)
    await new Promise((resolve) => setTimeout(resolve, Math.min(jittered, Math.max(0, deadline - Date.now()))))
    delay = Math.min(delay * 1.4, options.maxDelayMs ?? 10_000)
  }
}
