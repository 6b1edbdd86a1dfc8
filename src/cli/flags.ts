import * as Flags from '@oclif/core/flags'

import type {ApigeeApi} from '../core/apigee/api.js'
import type {Prompter} from './prompts.js'

/** Flags shared by the resource commands (not global: only commands that need them). */
export const organizationFlag = Flags.string({
  description: 'Apigee organization. Defaults to MTLSCTL_ORGANIZATION, then the config property `organization`.',
  helpValue: 'ORG',
})

export const environmentFlag = Flags.string({
  description: 'Apigee environment. Defaults to MTLSCTL_ENVIRONMENT, then the config property `environment`.',
  helpValue: 'ENV',
})

export const keystoreFlag = Flags.string({description: 'Keystore that holds the alias.', helpValue: 'KEYSTORE'})

/**
 * The ALIAS argument and --keystore of the aliases commands, asked for when missing: the
 * keystore picked from the environment's, then the alias picked from the keystore's (or typed,
 * for a new alias: `existingAlias: false`).
 */
export async function aliasInKeystore(
  prompter: Prompter,
  alias: string | undefined,
  keystore: string | undefined,
  where: {api: () => Promise<ApigeeApi>; org: string; env: string; existingAlias: boolean},
): Promise<{alias: string; keystore: string}> {
  const ks = await prompter.choose(keystore, {flag: 'keystore', message: 'Keystore:'}, async () => (await where.api()).listKeystoreNames(where.org, where.env))
  const name = where.existingAlias
    ? await prompter.choose(alias, {arg: 'ALIAS', message: 'Alias:'}, async () => (await where.api()).listAliasNames(where.org, where.env, ks))
    : await prompter.require(alias, {arg: 'ALIAS', message: 'Alias name:'})
  return {alias: name, keystore: ks}
}
