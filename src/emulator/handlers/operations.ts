import {getOperation, listOperations} from '../../core/operations.js'
import type {Router} from '../router.js'

/** Operations: get (what gcloud polls) and list (`{"operations": [...]}`, `{}` when none, as Apigee). */
export function operationRoutes(router: Router): void {
  router.add('GET', '/v1/organizations/:org/operations/:operation', async ({store, params}) => ({
    json: await getOperation(store, params.org, params.operation),
  }))

  router.add('GET', '/v1/organizations/:org/operations', async ({store, params}) => {
    const operations = await listOperations(store, params.org)
    return {json: operations.length > 0 ? {operations} : {}}
  })
}
