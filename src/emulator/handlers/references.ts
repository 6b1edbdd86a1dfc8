import {invalidArgument} from '../../core/errors.js'
import {createReference, deleteReference, getReference, listReferences, updateReference, type ReferenceInput} from '../../core/references.js'
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

  router.add('POST', base, async ({req, store, params, query, ctx}) => {
    const body = await readJson(req, ctx.limits.json)
    const name = newResourceId(query, body, 'reference')
    return {json: await createReference(store, params.org, params.env, name, referenceInput(body))}
  })

  router.add('GET', base, async ({store, params}) => ({
    json: (await listReferences(store, params.org, params.env)).map((r) => r.name),
  }))

  router.add('GET', `${base}/:ref`, async ({store, params}) => ({json: await getReference(store, params.org, params.env, params.ref)}))

  router.add('PUT', `${base}/:ref`, async ({req, store, params, ctx}) => {
    const body = await readJson(req, ctx.limits.json)
    const name = optionalString(body, 'name')
    if (name !== undefined && name !== params.ref) {
      throw invalidArgument(`The reference name in the body ("${name}") is not the one in the path ("${params.ref}").`)
    }
    return {json: await updateReference(store, params.org, params.env, params.ref, referenceInput(body))}
  })

  router.add('DELETE', `${base}/:ref`, async ({store, params}) => ({json: await deleteReference(store, params.org, params.env, params.ref)}))
}
