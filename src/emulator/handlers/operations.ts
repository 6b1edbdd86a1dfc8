import type {Router} from '../router.js'

/** Operations: get (what gcloud polls) and list (`{"operations": [...]}`, `{}` when none, as Apigee). */
export function operationRoutes(router: Router): void {
  router.add('GET', '/v1/organizations/:org/operations/:operation', async ({api, params}) => ({
    json: await api.getOperation(params.org, params.operation),
  }))

  router.add('GET', '/v1/organizations/:org/operations', async ({api, params}) => {
    const operations = await api.listOperations(params.org)
    return {json: operations.length > 0 ? {operations} : {}}
  })
}
