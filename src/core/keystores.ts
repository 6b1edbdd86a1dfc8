import {getEnvironment} from './environments.js'
import {alreadyExists, notFound} from './errors.js'
import {checkId, envName, keystoreName} from './names.js'
import type {Store} from './store/index.js'

/** Apigee v1 `Keystore`: a name and the ids of its aliases. */
export interface Keystore {
  name: string
  aliases: string[]
}

interface KeystoreDoc {
  name: string
  createdAt: string
}

export const aliasCollection = (org: string, env: string, ks: string) => `${keystoreName(org, env, ks)}/aliases`

export async function createKeystore(store: Store, org: string, env: string, ks: string): Promise<Keystore> {
  checkId('keystore', ks)
  return store.withLock(async () => {
    await getEnvironment(store, org, env)
    if (!(await store.create(keystoreName(org, env, ks), {name: ks, createdAt: String(Date.now())} satisfies KeystoreDoc))) {
      throw alreadyExists(`Keystore "${keystoreName(org, env, ks)}" already exists.`)
    }
    return {name: ks, aliases: []}
  })
}

/** The keystore, or NOT_FOUND naming it (or its environment) by full resource name. */
export async function getKeystore(store: Store, org: string, env: string, ks: string): Promise<Keystore> {
  checkId('keystore', ks)
  const doc = await store.get<KeystoreDoc>(keystoreName(org, env, ks))
  if (!doc) {
    await getEnvironment(store, org, env)
    throw notFound(
      `Keystore "${keystoreName(org, env, ks)}" not found.`,
      `Create it with: mtlsctl keystores create ${ks} --organization ${org} --environment ${env}`,
    )
  }
  return {name: doc.name, aliases: await store.ids(aliasCollection(org, env, ks))}
}

export async function keystoreExists(store: Store, org: string, env: string, ks: string): Promise<boolean> {
  return (await store.get(keystoreName(org, env, ks))) !== undefined
}

export async function listKeystores(store: Store, org: string, env: string): Promise<string[]> {
  await getEnvironment(store, org, env)
  return store.ids(`${envName(org, env)}/keystores`)
}

/** Deletes the keystore and every alias it holds. */
export async function deleteKeystore(store: Store, org: string, env: string, ks: string): Promise<Keystore> {
  return store.withLock(async () => {
    const keystore = await getKeystore(store, org, env, ks)
    await store.delete(keystoreName(org, env, ks))
    return keystore
  })
}
