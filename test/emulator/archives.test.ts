import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type ApiServer} from '../../src/emulator/index.js'
import {readSource, zipArchive} from '../../src/core/archives/source.js'
import {createEnvironment} from '../../src/core/environments.js'
import {waitOperation} from '../../src/core/operations.js'
import {FileStore} from '../../src/core/store/index.js'
import {json, request, startServer} from '../helpers/api.js'
import {ROOT, rmTemp, tempDir} from '../helpers/cli.js'

/** Archive deployments through the API, in gcloud's order of requests, and their errors. */
let dir: string
let root: string
let server: ApiServer
let zip: Buffer
const ENV = '/v1/organizations/myorg/environments/dev'

beforeAll(async () => {
  dir = tempDir()
  root = path.join(dir, 'state')
  const store = new FileStore(root)
  await createEnvironment(store, 'myorg', 'dev')
  await createEnvironment(store, 'myorg', 'legacy', {deploymentType: 'proxy'})
  zip = await zipArchive(readSource(path.join(ROOT, 'examples/archives/valid/src')))
  server = await startServer(root)
})
afterAll(async () => {
  await server.close()
  rmTemp(dir)
})

/** generateUploadUrl, PUT, create: the operation the create answered. */
async function deploy(body: Record<string, unknown> = {}, data: Buffer = zip): Promise<{uploadUri: string; status: number; answer: any}> {
  const {uploadUri} = (await request(server.url, 'POST', `${ENV}/archiveDeployments:generateUploadUrl`)).json()
  expect((await request(server.url, 'PUT', new URL(uploadUri).pathname, {headers: {'content-type': 'application/zip'}, body: data})).status).toBe(200)
  const r = await request(server.url, 'POST', `${ENV}/archiveDeployments`, json({gcs_uri: uploadUri, ...body}))
  return {uploadUri, status: r.status, answer: r.json()}
}

describe('archive deployments over the API', () => {
  it('create answers the operation (name and metadata only); it runs after the answer; get, list, delete', async () => {
    const {uploadUri, status, answer} = await deploy({labels: {team: 'edge', note: 'a=b,c'}})
    expect(status).toBe(200)
    expect(Object.keys(answer).sort()).toEqual(['metadata', 'name'])
    expect(answer.metadata).toMatchObject({operationType: 'INSERT', state: 'IN_PROGRESS'})
    const uuid = answer.name.split('/').pop()
    // The validation fails (no keystores here): the documented message, in the operation.
    const done = await waitOperation(new FileStore(root), 'myorg', uuid, {initialDelayMs: 10})
    expect(done.error?.message).toMatch(/^generic::invalid_argument: proxy "organizations\/myorg\/apis\/helloworld\/revisions\/1" contains reference\(s\) to invalid target server\(s\)/)
    const op = (await request(server.url, 'GET', `/v1/${answer.name}`)).json()
    expect(op).toMatchObject({done: true, error: {code: 3}, metadata: {state: 'FINISHED'}})

    const id = answer.metadata.targetResourceName.split('/').pop()
    const got = (await request(server.url, 'GET', `${ENV}/archiveDeployments/${id}`)).json()
    expect(got).toMatchObject({name: answer.metadata.targetResourceName, gcsUri: uploadUri, labels: {team: 'edge', note: 'a=b,c'}, operation: answer.name})
    // Times in microseconds, as gcloud's `archives list` reads them.
    expect(Math.abs(Number(got.createdAt) / 1000 - Date.now())).toBeLessThan(60_000)

    await deploy()
    const page1 = (await request(server.url, 'GET', `${ENV}/archiveDeployments?pageSize=1`)).json()
    expect(page1.archiveDeployments.length).toBe(1)
    const page2 = (await request(server.url, 'GET', `${ENV}/archiveDeployments?pageSize=1&pageToken=${page1.nextPageToken}`)).json()
    expect(page2.archiveDeployments.length).toBe(1)
    expect(page2.nextPageToken).toBeUndefined()
    expect(new Set([page1.archiveDeployments[0].name, page2.archiveDeployments[0].name]).size).toBe(2)

    expect((await request(server.url, 'DELETE', `${ENV}/archiveDeployments/${id}`)).json()).toEqual({})
    expect((await request(server.url, 'GET', `${ENV}/archiveDeployments/${id}`)).status).toBe(404)
    expect((await request(server.url, 'GET', `${ENV}/archiveDeployments`)).json().archiveDeployments.length).toBe(1)
  })

  it('refusals: an upload URL used twice, never uploaded, of another environment; bad labels; a PROXY environment', async () => {
    const first = await deploy()
    expect(first.status).toBe(200)
    const again = await request(server.url, 'POST', `${ENV}/archiveDeployments`, json({gcs_uri: first.uploadUri}))
    expect(again.status).toBe(400)
    expect(again.json().error.message).toContain('this emulator issued no such upload URL, or it expired or was used already.')

    const {uploadUri} = (await request(server.url, 'POST', `${ENV}/archiveDeployments:generateUploadUrl`)).json()
    const empty = await request(server.url, 'POST', `${ENV}/archiveDeployments`, json({gcsUri: uploadUri}))
    expect(empty.json().error).toMatchObject({code: 400, message: `Invalid gcs_uri "${uploadUri}": nothing was uploaded to it (PUT the zip first).`})
    const other = await request(server.url, 'POST', '/v1/organizations/myorg/environments/legacy/archiveDeployments', json({gcs_uri: uploadUri}))
    expect(other.json().error.message).toBe(`Invalid gcs_uri "${uploadUri}": it was issued for organizations/myorg/environments/dev.`)
    // The engine's refusal of a PROXY environment, with an upload made for it; the upload stays usable.
    const legacy = '/v1/organizations/myorg/environments/legacy/archiveDeployments'
    const forLegacy = (await request(server.url, 'POST', `${legacy}:generateUploadUrl`)).json().uploadUri
    await request(server.url, 'PUT', new URL(forLegacy).pathname, {headers: {'content-type': 'application/zip'}, body: zip})
    for (let i = 0; i < 2; i++) {
      const proxy = await request(server.url, 'POST', legacy, json({gcs_uri: forLegacy}))
      expect(proxy.json().error).toMatchObject({code: 400, status: 'FAILED_PRECONDITION'})
      expect(proxy.json().error.message).toContain('has deployment type PROXY; archive deployments need an environment with deployment type ARCHIVE.')
    }

    const labels = await request(server.url, 'POST', `${ENV}/archiveDeployments`, json({gcs_uri: uploadUri, labels: {'Bad Key': 'x'}}))
    expect(labels.json().error).toMatchObject({code: 400, status: 'INVALID_ARGUMENT'})
    const notString = await request(server.url, 'POST', `${ENV}/archiveDeployments`, json({gcs_uri: uploadUri, labels: {team: 1}}))
    expect(notString.json().error.message).toBe("Invalid value at 'labels.team': expected a string.")
    const noEnv = await request(server.url, 'POST', '/v1/organizations/myorg/environments/prod/archiveDeployments:generateUploadUrl')
    expect(noEnv.json().error).toMatchObject({code: 404, status: 'NOT_FOUND'})
  })

  it('a body that is not a zip: the operation fails with gcloud\'s message, the server carries on', async () => {
    const {answer} = await deploy({}, Buffer.from('not a zip'))
    const done = await waitOperation(new FileStore(root), 'myorg', answer.name.split('/').pop(), {initialDelayMs: 10})
    expect(done.error).toMatchObject({code: 3})
    expect(done.error?.message).toMatch(/^Bundle file is not a valid zip archive: /)
    expect((await request(server.url, 'GET', '/v1/organizations/myorg/operations')).json().operations.length).toBeGreaterThan(2)
  })
})
