import * as Flags from '@oclif/core/flags'

import type {CaSelection} from '../core/ca/index.js'
import type {Prompter} from './prompts.js'
import {optionalPassword, passwordAsker} from './secrets.js'

/** Flags naming the CA of the certs commands: a registered CA, or its files. */
export const trustedCaFlags = {
  ca: Flags.string({description: 'A CA registered by `mtlsctl ca create`.', helpValue: 'NAME', exclusive: ['ca-cert']}),
  'ca-cert': Flags.string({description: 'The CA certificate file, instead of --ca.', helpValue: 'FILE'}),
}

export const signingCaFlags = {
  ...trustedCaFlags,
  'ca-key': Flags.string({description: 'The CA key file (with --ca-cert).', helpValue: 'FILE', dependsOn: ['ca-cert']}),
  'ca-password-file': Flags.string({
    description: 'File whose first line is the password of an encrypted CA key (asked for on a terminal).',
    helpValue: 'FILE',
  }),
}

const CA_HINT = 'Give --ca NAME (see `mtlsctl ca list`) or --ca-cert FILE --ca-key FILE.'

interface SigningFlags {
  ca?: string
  'ca-cert'?: string
  'ca-key'?: string
  'ca-password-file'?: string
}

/** The signing CA the flags name; asks for --ca on a terminal when none is given. */
export async function signingCa(flags: SigningFlags, prompter: Prompter): Promise<CaSelection> {
  const password = optionalPassword(flags['ca-password-file'], 'ca-password-file')
  const askPassword = passwordAsker(prompter, 'ca-password-file')
  if (flags['ca-cert'] !== undefined) {
    const keyFile = await prompter.require(flags['ca-key'], {flag: 'ca-key', message: 'CA key file:', hint: CA_HINT})
    return {certFile: flags['ca-cert'], keyFile, certFlag: 'ca-cert', keyFlag: 'ca-key', password, askPassword}
  }
  const name = await prompter.require(flags.ca, {flag: 'ca', message: 'CA name:', hint: CA_HINT})
  return {name, password, askPassword}
}

/** The trusted CA (certificate only) the flags name. */
export async function trustedCa(
  flags: {ca?: string; 'ca-cert'?: string},
  prompter: Prompter,
): Promise<{caName?: string; caFile?: string; caFlag?: string}> {
  if (flags['ca-cert'] !== undefined) return {caFile: flags['ca-cert'], caFlag: 'ca-cert'}
  return {caName: await prompter.require(flags.ca, {flag: 'ca', message: 'CA name:', hint: 'Give --ca NAME or --ca-cert FILE.'})}
}
