import {getEnvironment} from './environments.js'
import {alreadyExists, failedPrecondition, invalidArgument, notFound} from './errors.js'
import {keystoreExists} from './keystores.js'
import {checkId, envName, keystoreName, referenceName} from './names.js'
import type {Store} from './store/index.js'

export const RESOURCE_TYPES = ['KeyStore', 'TrustStore'] as const
export type ResourceType = (typeof RESOURCE_TYPES)[number]

/** Apigee v1 `Reference`. */
export interface Reference {
  name: string
  description?: string
  resourceType: ResourceType
  refers: string
}

export const REFERENCE_UPDATE_DISABLED =
  'Reference updates are currently disabled for configurable proxy environments. To update the reference, create a new reference and reference it within a new archive deployment.'

export interface ReferenceInput {
  refers: string
  resourceType: string
  description?: string
}

const collection = (org: string, env: string) => `${envName(org, env)}/references`

async function checkInput(store: Store, org: string, env: string, input: ReferenceInput): Promise<Omit<Reference, 'name'>> {
  const resourceType = RESOURCE_TYPES.find((t) => t.toLowerCase() === String(input.resourceType).toLowerCase())
  if (!resourceType) {
    throw invalidArgument(`Invalid resource type "${input.resourceType}": use KeyStore or TrustStore.`)
  }
  checkId('keystore', input.refers)
  if (!(await keystoreExists(store, org, env, input.refers))) {
    throw invalidArgument(
      `Reference target "${keystoreName(org, env, input.refers)}" does not exist.`,
      `Create the keystore first: mtlsctl keystores create ${input.refers} --organization ${org} --environment ${env}`,
    )
  }
  return {...(input.description ? {description: input.description} : {}), resourceType, refers: input.refers}
}

export async function createReference(
  store: Store,
  org: string,
  env: string,
  name: string,
  input: ReferenceInput,
): Promise<Reference> {
  checkId('reference', name)
  return store.withLock(async () => {
    await getEnvironment(store, org, env)
    const reference: Reference = {name, ...(await checkInput(store, org, env, input))}
    if (!(await store.create(referenceName(org, env, name), reference))) {
      throw alreadyExists(`Reference "${referenceName(org, env, name)}" already exists.`)
    }
    return reference
  })
}

export async function getReference(store: Store, org: string, env: string, name: string): Promise<Reference> {
  checkId('reference', name)
  const reference = await store.get<Reference>(referenceName(org, env, name))
  if (!reference) {
    await getEnvironment(store, org, env)
    throw notFound(`Reference "${referenceName(org, env, name)}" not found.`)
  }
  return reference
}

export async function findReference(store: Store, org: string, env: string, name: string): Promise<Reference | undefined> {
  return store.get<Reference>(referenceName(org, env, name))
}

export async function listReferences(store: Store, org: string, env: string): Promise<Reference[]> {
  await getEnvironment(store, org, env)
  return store.list<Reference>(collection(org, env))
}

/** Replaces a reference's target; refused on CONFIGURABLE environments with Apigee's text. */
export async function updateReference(
  store: Store,
  org: string,
  env: string,
  name: string,
  input: ReferenceInput,
): Promise<Reference> {
  return store.withLock(async () => {
    const environment = await getEnvironment(store, org, env)
    await getReference(store, org, env, name)
    if (environment.apiProxyType === 'CONFIGURABLE') throw failedPrecondition(REFERENCE_UPDATE_DISABLED)
    const reference: Reference = {name, ...(await checkInput(store, org, env, input))}
    await store.put(referenceName(org, env, name), reference)
    return reference
  })
}

export async function deleteReference(store: Store, org: string, env: string, name: string): Promise<Reference> {
  return store.withLock(async () => {
    const reference = await getReference(store, org, env, name)
    await store.delete(referenceName(org, env, name))
    return reference
  })
}
