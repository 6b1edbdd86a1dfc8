import * as Flags from '@oclif/core/flags'

import {checkDays, parseSerial} from '../core/ca/certificates.js'
import {parseSans, parseSubject} from '../core/ca/subject.js'
import {isMtlsError} from '../core/errors.js'
import {UsageError} from './usage-error.js'

/**
 * Flags whose values are checked when the command line is parsed: a bad value is a usage
 * error (exit 2, as the README's table says), with the engine's own message. The checks are
 * the engine's (checkDays, parseSubject, parseSans, parseSerial), so no rule is written twice;
 * the engine itself keeps refusing the same values with INVALID_ARGUMENT (exit 1 / HTTP 400)
 * for library callers and the API.
 */

/** Runs an engine check of a flag's value; its INVALID_ARGUMENT becomes a usage error. */
export function asUsage<T>(check: () => T): T {
  try {
    return check()
  } catch (error) {
    if (isMtlsError(error) && error.status === 'INVALID_ARGUMENT') throw new UsageError(error.message, error.hint)
    throw error
  }
}

/** --days N: a whole number of days, 1 to 100 years. */
export function daysFlag(options: {description: string; default?: number}) {
  return Flags.custom<number>({
    description: options.description,
    helpValue: 'N',
    ...(options.default === undefined ? {} : {default: options.default}),
    async parse(input) {
      if (!/^\s*[-+]?\d+\s*$/.test(input)) throw new UsageError(`Invalid --days "${input}": give a whole number of days.`)
      return asUsage(() => checkDays(Number(input), `--days ${Number(input)}`))
    },
  })()
}

/** --subject '/CN=x': an openssl-style distinguished name. */
export function subjectFlag(options: {description: string}) {
  return Flags.custom<string>({
    description: options.description,
    helpValue: 'SUBJECT',
    async parse(input) {
      asUsage(() => parseSubject(input))
      return input
    },
  })()
}

/** --san DNS:a,IP:1.2.3.4 (repeatable): each value checked as a SAN list. */
export function sanFlag(options: {description: string; multipleNonGreedy?: boolean}) {
  return Flags.custom<string>({
    description: options.description,
    helpValue: 'SANS',
    multiple: true,
    ...(options.multipleNonGreedy ? {multipleNonGreedy: true} : {}),
    async parse(input) {
      asUsage(() => parseSans(input))
      return input
    },
  })()
}

/** --serial HEX: a positive serial number of at most 20 bytes. */
export function serialFlag(options: {description: string}) {
  return Flags.custom<string>({
    description: options.description,
    helpValue: 'HEX',
    async parse(input) {
      asUsage(() => parseSerial(input))
      return input
    },
  })()
}

/** An integer flag whose value must be one of `allowed` (e.g. --key-size 2048|3072|4096). */
export function choiceIntegerFlag(options: {name: string; description: string; allowed: number[]; default: number}) {
  return Flags.custom<number>({
    description: options.description,
    helpValue: options.allowed.join('|'),
    default: options.default,
    async parse(input) {
      const value = Number(input)
      if (!/^\s*\d+\s*$/.test(input) || !options.allowed.includes(value)) {
        throw new UsageError(`Invalid --${options.name} "${input}": use ${options.allowed.join(', ')}.`)
      }
      return value
    },
  })()
}

/** A whole number of at least `min` (e.g. --path-len 0 or more). */
export function countFlag(options: {name: string; description: string; min: number; helpValue?: string}) {
  return Flags.custom<number>({
    description: options.description,
    helpValue: options.helpValue ?? 'N',
    async parse(input) {
      if (!/^\s*[-+]?\d+\s*$/.test(input) || Number(input) < options.min) {
        throw new UsageError(`Invalid --${options.name} "${input}": use a whole number, ${options.min} or more.`)
      }
      return Number(input)
    },
  })()
}
