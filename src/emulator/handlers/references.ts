import {invalidArgument} from '../../core/errors.js'
import type {ReferenceInput} from '../../core/references.js'
import {readJson} from '../bodies.js'
import type {Router} from '../router.js'
import {newResourceId, optionalString, requiredString} from './inputs.js'

/** Apigee v1 `Reference` fields of a request body. */
function referenceInput(body: Record<string, unknown>): ReferenceInput {
  return {
    refers: requiredString(body, 'refers'),
    resourceType: requiredString(body, 'resourceType'),
    description: optionalString(body, 'description'),
  }
}

/** References: create, list (names), get, update by PUT (refused on configurable environments), delete. */
export function referenceRoutes(router: Router): void {
  const base = '/v1/organizations/:org/environments/:env/references'

  router.add('POST', base, async ({req, api, params, query, ctx}) => {
    const body = await readJson(req, ctx.limits.json)
    const name = newResourceId(query, body, 'reference')
    return {json: await api.createReference(params.org, params.env, name, referenceInput(body))}
  })

  router.add('GET', base, async ({api, params}) => ({json: await api.listReferenceNames(params.org, params.env)}))

  router.add('GET', `${base}/:ref`, async ({api, params}) => ({json: await api.getReference(params.org, params.env, params.ref)}))

  router.add('PUT', `${base}/:ref`, async ({req, api, params, ctx}) => {
    const body = await readJson(req, ctx.limits.json)
    const name = optionalString(body, 'name')
    if (name !== undefined && name !== params.ref) {
      throw invalidArgument(`The reference name in the body ("${name}") is not the one in the path ("${params.ref}").`)
    }
    return {json: await api.updateReference(params.org, params.env, params.ref, referenceInput(body))}
  })

  router.add('DELETE', `${base}/:ref`, async ({api, params}) => ({json: await api.deleteReference(params.org, params.env, params.ref)}))
}
