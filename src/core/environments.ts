import {alreadyExists, invalidArgument, notFound} from './errors.js'
import {checkId, envName, orgName} from './names.js'
import type {Store} from './store/index.js'

/** Apigee v1 `Environment` (the fields mtlsctl uses). */
export interface Environment {
  name: string
  description?: string
  apiProxyType: ApiProxyType
  deploymentType: DeploymentType
  state: 'ACTIVE'
  createdAt: string
  lastModifiedAt: string
}

export interface Organization {
  name: string
  createdAt: string
}

export const API_PROXY_TYPES = ['CONFIGURABLE', 'PROGRAMMABLE'] as const
export const DEPLOYMENT_TYPES = ['ARCHIVE', 'PROXY'] as const
export type ApiProxyType = (typeof API_PROXY_TYPES)[number]
export type DeploymentType = (typeof DEPLOYMENT_TYPES)[number]

export interface CreateEnvironmentOptions {
  description?: string
  apiProxyType?: string
  deploymentType?: string
}

function oneOf<T extends string>(what: string, value: string, allowed: readonly T[]): T {
  const upper = value.toUpperCase()
  if (!(allowed as readonly string[]).includes(upper)) {
    throw invalidArgument(`Invalid ${what} "${value}": use one of ${allowed.map((a) => a.toLowerCase()).join(', ')}.`)
  }
  return upper as T
}

export async function createEnvironment(
  store: Store,
  org: string,
  env: string,
  options: CreateEnvironmentOptions = {},
): Promise<Environment> {
  checkId('organization', org)
  checkId('environment', env)
  const now = String(Date.now())
  const environment: Environment = {
    name: env,
    ...(options.description ? {description: options.description} : {}),
    apiProxyType: oneOf('API proxy type', options.apiProxyType ?? 'configurable', API_PROXY_TYPES),
    deploymentType: oneOf('deployment type', options.deploymentType ?? 'archive', DEPLOYMENT_TYPES),
    state: 'ACTIVE',
    createdAt: now,
    lastModifiedAt: now,
  }
  return store.withLock(async () => {
    // Organizations come into being with their first environment.
    await store.create(orgName(org), {name: org, createdAt: now} satisfies Organization)
    if (!(await store.create(envName(org, env), environment))) {
      throw alreadyExists(`Environment "${envName(org, env)}" already exists.`)
    }
    return environment
  })
}

export async function getEnvironment(store: Store, org: string, env: string): Promise<Environment> {
  checkId('organization', org)
  checkId('environment', env)
  const environment = await store.get<Environment>(envName(org, env))
  if (!environment) {
    throw notFound(
      `Environment "${envName(org, env)}" not found.`,
      `Create it with: mtlsctl environments create ${env} --organization ${org}`,
    )
  }
  return environment
}

export async function listEnvironments(store: Store, org: string): Promise<Environment[]> {
  checkId('organization', org)
  return store.list<Environment>(`${orgName(org)}/environments`)
}

export async function deleteEnvironment(store: Store, org: string, env: string): Promise<Environment> {
  return store.withLock(async () => {
    const environment = await getEnvironment(store, org, env)
    await store.delete(envName(org, env))
    return environment
  })
}

export async function listOrganizations(store: Store): Promise<Organization[]> {
  return store.list<Organization>('organizations')
}
