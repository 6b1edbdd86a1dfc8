import * as Flags from '@oclif/core/flags'

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

/** The ALIAS argument and --keystore of the aliases commands, asked for when missing. */
export async function aliasInKeystore(
  prompter: Prompter,
  alias: string | undefined,
  keystore: string | undefined,
): Promise<{alias: string; keystore: string}> {
  return {
    alias: await prompter.require(alias, {arg: 'ALIAS', message: 'Alias name:'}),
    keystore: await prompter.require(keystore, {flag: 'keystore', message: 'Keystore:'}),
  }
}
