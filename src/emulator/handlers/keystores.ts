import {readJson} from '../bodies.js'
import type {Router} from '../router.js'
import {newResourceId} from './inputs.js'

/** Keystores (and truststores): create, list (names), get, delete. */
export function keystoreRoutes(router: Router): void {
  const base = '/v1/organizations/:org/environments/:env/keystores'

  router.add('POST', base, async ({req, api, params, query, ctx}) => {
    const body = await readJson(req, ctx.limits.json)
    return {json: await api.createKeystore(params.org, params.env, newResourceId(query, body, 'keystore'))}
  })

  router.add('GET', base, async ({api, params}) => ({json: await api.listKeystoreNames(params.org, params.env)}))

  router.add('GET', `${base}/:ks`, async ({api, params}) => ({json: await api.getKeystore(params.org, params.env, params.ks)}))

  router.add('DELETE', `${base}/:ks`, async ({api, params}) => ({json: await api.deleteKeystore(params.org, params.env, params.ks)}))
}
