import {Flags} from '@oclif/core'

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
