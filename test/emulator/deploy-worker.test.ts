import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createEnvironment} from '../../src/core/environments.js'
import {INPUT_LIMITS} from '../../src/core/input.js'
import {FileStore} from '../../src/core/store/index.js'
import {startDeployment} from '../../src/emulator/deploy-worker.js'
import {refusal} from '../helpers/errors.js'
import {rmTemp, tempDir} from '../helpers/cli.js'

let dir: string
beforeAll(() => {
  dir = tempDir()
})
afterAll(() => rmTemp(dir))

describe('the deployment worker of the emulator', () => {
  it('an upload gone from the emulator before the worker reads it: a refusal that does not name the private upload folder', async () => {
    const root = path.join(dir, 'state')
    await createEnvironment(new FileStore(root), 'o', 'dev')
    const zipFile = path.join(dir, 'mtlsctl-uploads-private', 'vanished')
    const logged: string[] = []
    const error = await refusal(startDeployment({root, org: 'o', env: 'dev', zipFile, gcsUri: 'gs://x/y'}, () => new FileStore(root), (line) => logged.push(line)), 'FAILED_PRECONDITION')
    expect(error.message).toBe('The uploaded archive is no longer on the emulator.')
    expect(error.hint).toBe('Upload it again (gcloud does so on its next deploy).')
    expect(logged).toEqual([])
    // One too large for an archive (a sparse file): refused as such, still without the path.
    fs.mkdirSync(path.dirname(zipFile))
    fs.writeFileSync(zipFile, '')
    fs.truncateSync(zipFile, INPUT_LIMITS.archive + 1)
    const large = await refusal(startDeployment({root, org: 'o', env: 'dev', zipFile, gcsUri: 'gs://x/y'}, () => new FileStore(root), (line) => logged.push(line)), 'INVALID_ARGUMENT')
    expect(large.message).toBe('The uploaded archive is larger than the 1 GiB limit for an uploaded archive file.')
    expect(large.hint).toBeUndefined()
  })
})
