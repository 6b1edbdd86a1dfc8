import * as Flags from '@oclif/core/flags'

import type {AliasSource} from '../core/alias-sources.js'
import type {CaSelection} from '../core/ca/issuance.js'
import {readInputFile} from '../core/ca/keys.js'
import type {Prompter} from './prompts.js'
import {optionalPassword, passwordAsker, requirePassword} from './secrets.js'
import {UsageError} from './usage-error.js'

/**
 * The flags that give an alias its certificate (and key) from files, and the CA that issues
 * one: shared by `aliases add` and `aliases rotate`, so both read files, ask for passwords and
 * word their errors alike.
 */
export const aliasFileFlags = {
  'cert-file': Flags.string({description: 'PEM certificate (leaf first, then its chain); may also hold the key.', helpValue: 'FILE'}),
  'key-file': Flags.string({description: 'PEM private key of the certificate.', helpValue: 'FILE', dependsOn: ['cert-file']}),
  'key-password-file': Flags.string({description: 'File whose first line is the key password.', helpValue: 'FILE'}),
  'p12-file': Flags.string({description: 'PKCS#12 file with key and certificate(s).', helpValue: 'FILE'}),
  'p12-password-file': Flags.string({description: 'File whose first line is the PKCS#12 password.', helpValue: 'FILE'}),
}

export const aliasCaFlags = {
  ca: Flags.string({description: 'Issue the certificate from this registered local CA.', helpValue: 'CA'}),
  'ca-password-file': Flags.string({description: 'File whose first line is the CA key password.', helpValue: 'FILE'}),
}

export interface AliasFileFlagValues {
  'cert-file'?: string
  'key-file'?: string
  'key-password-file'?: string
  'p12-file'?: string
  'p12-password-file'?: string
}

/**
 * Exactly one source flag given: else a usage error (exit 2) naming what is missing or what
 * clashes. `given` maps each source flag to whether it was given.
 */
export function requireOneSource(given: Record<string, unknown>, missing: string): void {
  const named = Object.entries(given)
    .filter(([, value]) => Boolean(value))
    .map(([flag]) => flag)
  if (named.length === 1) return
  throw new UsageError(named.length === 0 ? missing : `Give exactly one alias source, not ${named.join(' and ')}.`)
}

/**
 * Apigee's `keycertfile` (--cert-file, optional --key-file) or `pkcs12` (--p12-file) from the
 * flags, or undefined when neither is given. Every file is read within its limit before
 * anything is asked or parsed; an encrypted key without --key-password-file is asked for on a
 * terminal, else exit 2 naming the flag.
 */
export async function fileAliasSource(f: AliasFileFlagValues, prompter: Prompter): Promise<AliasSource | undefined> {
  if (f['cert-file']) {
    const cert = readInputFile(f['cert-file'], 'certificate', 'cert-file')
    const key = f['key-file'] ? readInputFile(f['key-file'], 'key', 'key-file') : undefined
    return {
      format: 'keycertfile',
      cert,
      certFile: f['cert-file'],
      ...(key ? {key, keyFile: f['key-file']} : {}),
      password: optionalPassword(f['key-password-file'], 'key-password-file'),
      askPassword: passwordAsker(prompter, 'key-password-file'),
    }
  }
  if (f['p12-file']) {
    const data = readInputFile(f['p12-file'], 'PKCS#12', 'p12-file', 'pkcs12')
    const password = await requirePassword(prompter, f['p12-password-file'], 'p12-password-file', 'PKCS#12 password:')
    return {format: 'pkcs12', data, file: f['p12-file'], password}
  }
  return undefined
}

/** The registered CA of --ca, with --ca-password-file (asked for on a terminal when its key is encrypted). */
export function caSelection(name: string | undefined, passwordFile: string | undefined, prompter: Prompter): CaSelection {
  return {
    name,
    password: optionalPassword(passwordFile, 'ca-password-file'),
    askPassword: passwordAsker(prompter, 'ca-password-file'),
  }
}
