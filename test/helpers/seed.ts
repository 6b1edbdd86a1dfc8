import * as fs from 'node:fs'
import * as path from 'node:path'

import {ROOT} from './cli.js'

/** The seed's four `operations describe` examples, in order, with its placeholders. */
export function seedExamples(): string[] {
  const text = fs.readFileSync(path.join(ROOT, 'test/fixtures/seed/configurable-proxy-southbound-mtls.txt'), 'utf8')
  return [...text.matchAll(/operations describe \S+ (?:Using Apigee organization '\w+' )?(done: true .*? uuid: [0-9a-f-]+)/g)].map((m) => m[1])
}

/** The seed's four broken archives (examples/archives/), in the order of its examples. */
export const SEED_ERROR_ARCHIVES = ['missing-keystore', 'missing-alias', 'missing-truststore', 'expired-certificate'] as const

/** YAML on one line, as the seed's page flattens it (gcloud's folded lines included). */
export const flatten = (yaml: string) => yaml.trimEnd().replace(/\n\s*(?:- )?/g, ' ')

/** The seed's example `i` with this run's organization, environment, api, uuid and archive id. */
export function seedExample(i: number, values: {org: string; env: string; api: string; uuid: string; archive: string}): string {
  const example = seedExamples()[i]
  const seedUuid = /uuid: ([0-9a-f-]+)$/.exec(example)![1]
  return example
    .replaceAll('{org}', values.org)
    .replaceAll('{env}', values.env)
    .replaceAll('{api}', values.api)
    .replaceAll(seedUuid, values.uuid)
    .replace(/archiveDeployments\/\S+/, `archiveDeployments/${values.archive}`)
}
