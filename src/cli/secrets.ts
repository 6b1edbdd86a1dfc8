import * as fs from 'node:fs'

import {invalidArgument} from '../core/errors.js'
import type {Prompter} from './prompts.js'

/**
 * Passwords for keys and PKCS#12 files: read from a file (its first line), or asked for,
 * masked, on a terminal. Never taken from the command line, where `ps` and shell history
 * would show them, and never printed.
 */
export function readPasswordFile(file: string, flag: string): string {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : code
    throw invalidArgument(`Cannot read the password file ${file} (--${flag}): ${why}.`)
  }
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
