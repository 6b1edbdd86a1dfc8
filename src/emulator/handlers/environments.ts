import {createEnvironment} from '../../core/environments.js'
import {envName} from '../../core/names.js'
import {createOperation, finishOperation} from '../../core/operations.js'
import {readJson} from '../bodies.js'
import type {Router} from '../router.js'
import {newResourceId, optionalString} from './inputs.js'

/**
 * Environments: `GET .../environments` (names), `GET .../environments/ENV`, and
 * `POST .../environments`, which, as in Apigee, answers a long-running operation (finished at
 * once here: creating an environment is instant locally).
 */
export function environmentRoutes(router: Router): void {
  router.add('GET', '/v1/organizations/:org/environments', async ({api, params}) => ({
    json: await api.listEnvironmentNames(params.org),
  }))

  router.add('GET', '/v1/organizations/:org/environments/:env', async ({api, params}) => ({
    json: await api.getEnvironment(params.org, params.env),
  }))

  router.add('POST', '/v1/organizations/:org/environments', async ({req, store, params, query, ctx}) => {
    const body = await readJson(req, ctx.limits.json)
    const env = newResourceId(query, body, 'environment')
    const environment = await createEnvironment(store, params.org, env, {
      description: optionalString(body, 'description'),
      apiProxyType: optionalString(body, 'apiProxyType'),
      deploymentType: optionalString(body, 'deploymentType'),
    })
    const operation = await createOperation(store, params.org, 'INSERT', envName(params.org, env))
    return {
      json: await finishOperation(store, operation.name, {
        response: {'@type': 'type.googleapis.com/google.cloud.apigee.v1.Environment', ...environment},
      }),
    }
  })
}
