import {createKeystore, deleteKeystore, getKeystore, listKeystores} from '../../core/keystores.js'
import {readJson} from '../bodies.js'
import type {Router} from '../router.js'
import {newResourceId} from './inputs.js'

/** Keystores (and truststores): create, list (names), get, delete. */
export function keystoreRoutes(router: Router): void {
  const base = '/v1/organizations/:org/environments/:env/keystores'

  router.add('POST', base, async ({req, store, params, query, ctx}) => {
    const body = await readJson(req, ctx.limits.json)
    return {json: await createKeystore(store, params.org, params.env, newResourceId(query, body, 'keystore'))}
  })

  router.add('GET', base, async ({store, params}) => ({json: await listKeystores(store, params.org, params.env)}))

  router.add('GET', `${base}/:ks`, async ({store, params}) => ({json: await getKeystore(store, params.org, params.env, params.ks)}))

  router.add('DELETE', `${base}/:ks`, async ({store, params}) => ({json: await deleteKeystore(store, params.org, params.env, params.ks)}))
}
