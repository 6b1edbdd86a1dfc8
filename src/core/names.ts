import {invalidArgument} from './errors.js'

/**
 * Apigee resource names and the rules for their ids. Every path the store builds comes from
 * ids checked here, so a name can never walk out of the state folder.
 */

/** Apigee allows `[\w\s.-]{1,255}`; mtlsctl refuses whitespace too (shell- and path-safe). */
const ID = /^[\w-][\w.-]{0,254}$/
/** Organizations and environments: Apigee's lowercase DNS-like ids. */
const ORG_OR_ENV = /^[a-z][a-z0-9-]{0,62}$/

export type IdKind = 'organization' | 'environment' | 'keystore' | 'alias' | 'reference' | 'ca' | 'api'

const ORG_TEXT = '[a-z][a-z0-9-]{0,62} (lowercase letters, digits and "-", starting with a letter)'
const ID_TEXT = '[\\w.-]{1,255} (letters, digits, "_", "." and "-"; not starting with "."; no whitespace or "/")'

const patterns: Record<IdKind, {re: RegExp; text: string}> = {
  organization: {re: ORG_OR_ENV, text: ORG_TEXT},
  environment: {re: ORG_OR_ENV, text: ORG_TEXT},
  keystore: {re: ID, text: ID_TEXT},
  alias: {re: ID, text: ID_TEXT},
  reference: {re: ID, text: ID_TEXT},
  ca: {re: ID, text: ID_TEXT},
  api: {re: ID, text: ID_TEXT},
}

/** Whether `id` is a valid name of this kind (checkId, without the error). */
export function isValidId(kind: IdKind, id: unknown): id is string {
  return typeof id === 'string' && patterns[kind].re.test(id) && id !== '.' && id !== '..'
}

export function checkId(kind: IdKind, id: string): string {
  if (!isValidId(kind, id)) {
    throw invalidArgument(`Invalid ${kind} name "${id}": it must match the pattern ${patterns[kind].text}.`)
  }
  return id
}

export const orgName = (org: string) => `organizations/${org}`
export const envName = (org: string, env: string) => `organizations/${org}/environments/${env}`
export const keystoreName = (org: string, env: string, ks: string) => `${envName(org, env)}/keystores/${ks}`
export const aliasName = (org: string, env: string, ks: string, alias: string) =>
  `${keystoreName(org, env, ks)}/aliases/${alias}`
export const referenceName = (org: string, env: string, ref: string) => `${envName(org, env)}/references/${ref}`
export const archiveDeploymentName = (org: string, env: string, id: string) =>
  `${envName(org, env)}/archiveDeployments/${id}`
export const operationName = (org: string, uuid: string) => `organizations/${org}/operations/${uuid}`
