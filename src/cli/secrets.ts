import {invalidArgument} from '../core/errors.js'
import {readInputText} from '../core/input.js'
import type {Prompter} from './prompts.js'
import {UsageError} from './usage-error.js'

/**
 * Passwords for keys and PKCS#12 files: read from a file (its first line), or asked for,
 * masked, on a terminal. Never taken from the command line, where `ps` and shell history
 * would show them, and never printed.
 */
export function readPasswordFile(file: string, flag: string): string {
  // input.ts's `password` limit (4 KiB), checked before a byte is read: /dev/zero is refused unread.
  const text = readInputText(file, {what: 'password', kind: 'password', flag})
  const first = text.split(/\r?\n/, 1)[0]
  if (first === '') throw invalidArgument(`The password file ${file} (--${flag}) is empty: its first line is the password.`)
  return first
}

/** The password from --FLAG's file, else undefined (no prompt: the value is optional). */
export function optionalPassword(file: string | undefined, flag: string): string | undefined {
  return file === undefined ? undefined : readPasswordFile(file, flag)
}

/** The password from --FLAG's file, else asked for on a terminal, else exit 2 naming --FLAG. */
export async function requirePassword(prompter: Prompter, file: string | undefined, flag: string, message: string): Promise<string> {
  if (file !== undefined) return readPasswordFile(file, flag)
  return prompter.require(undefined, {
    flag,
    message,
    secret: true,
    hint: `Give --${flag} FILE (the password on its first line).`,
  })
}

/** How many times a new password may be mistyped on a terminal before giving up. */
const NEW_PASSWORD_ATTEMPTS = 3

/**
 * A password that protects something new (a PKCS#12 file): from --FLAG's file, else asked
 * twice on a terminal (a typo would lock the file for ever), else exit 2 naming --FLAG.
 */
export async function requireNewPassword(prompter: Prompter, file: string | undefined, flag: string, message: string): Promise<string> {
  if (file !== undefined) return readPasswordFile(file, flag)
  const hint = `Give --${flag} FILE (the password on its first line).`
  for (let attempt = 1; ; attempt++) {
    const password = await prompter.require(undefined, {flag, message, secret: true, hint})
    const again = await prompter.ask('Confirm the password:', true)
    if (again === password) return password
    if (attempt === NEW_PASSWORD_ATTEMPTS) {
      throw new UsageError(`The passwords did not match (${NEW_PASSWORD_ATTEMPTS} attempts).`, hint)
    }
    process.stderr.write('The passwords do not match: try again.\n')
  }
}

/**
 * A callback for the engine, called only when a key turns out to be encrypted: asks on a
 * terminal, else exits 2 naming --FLAG.
 */
export function passwordAsker(prompter: Prompter, flag: string): (keyFile: string) => Promise<string> {
  return (keyFile) =>
    prompter.require(undefined, {
      flag,
      message: `Password of ${keyFile}:`,
      secret: true,
      hint: `${keyFile} is encrypted: give --${flag} FILE (the password on its first line).`,
    })
}
