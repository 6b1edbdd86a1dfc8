import type {ErrorObject, ValidateFunction} from 'ajv'

import {clipUserText} from './parse.js'

/**
 * The shapes of an archive's documents, checked with ajv (JSON Schema) before validation
 * reads them: every violation is reported with its file and path, as Apigee's BadBundle
 * violations are, so `operations: "garbage"` is a problem of the deployment, not a crash.
 * Fields the tool does not read are allowed (a configurable proxy's config.yaml has many);
 * the fields it reads, and Apigee's documented ones, must have their type.
 *
 * ajv is imported when an archive is validated, and each schema is compiled once per process.
 */

/** An id or name (a target server, keystore, alias, proxy): generous, but bounded. */
const name = {type: 'string', minLength: 1, maxLength: 1000}
const string = {type: 'string'}
const boolean = {type: 'boolean'}
const strings = {type: 'array', items: string}

/** config.yaml's `target` (of the proxy or of one operation): a URI or a target server. */
const target = {
  type: 'object',
  properties: {uri: string, target_server_id: name},
}

/** apiproxies/NAME/config.yaml: Apigee's ApiConfig, as far as deployments read it. */
export const CONFIG_SCHEMA = {
  type: 'object',
  properties: {
    basepath: string,
    target,
    operations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: string,
          target,
          http_match: {
            type: 'array',
            items: {type: 'object', properties: {path_template: string, method: string}},
          },
        },
      },
    },
  },
}

const named = {type: 'array', items: {type: 'object', required: ['name'], properties: {name}}}

/** environments/ENV/deployments.json: which proxies (and shared flows) the environment deploys. */
export const DEPLOYMENTS_SCHEMA = {
  type: 'object',
  properties: {proxies: named, sharedflows: named},
}

/** environments/ENV/targetservers.json: Apigee's TargetServer, with its TlsInfo. */
export const TARGET_SERVERS_SCHEMA = {
  type: 'array',
  items: {
    type: 'object',
    required: ['name', 'host', 'port'],
    properties: {
      name,
      description: string,
      host: {type: 'string', minLength: 1, maxLength: 1000},
      port: {type: 'integer', minimum: 1, maximum: 65535},
      isEnabled: boolean,
      protocol: string,
      sSLInfo: {
        type: 'object',
        properties: {
          enabled: boolean,
          clientAuthEnabled: boolean,
          keyStore: name,
          keyAlias: name,
          trustStore: name,
          ignoreValidationErrors: boolean,
          protocols: strings,
          ciphers: strings,
          enforce: boolean,
          commonName: {type: 'object', properties: {value: string, wildcardMatch: boolean}},
        },
      },
    },
  },
}

export type ShapeName = 'config' | 'deployments' | 'targetServers'

const SCHEMAS: Record<ShapeName, object> = {config: CONFIG_SCHEMA, deployments: DEPLOYMENTS_SCHEMA, targetServers: TARGET_SERVERS_SCHEMA}

/** Violations listed per document; the rest are counted. */
export const MAX_VIOLATIONS_LISTED = 20

let compiled: Promise<Record<ShapeName, ValidateFunction>> | undefined

function compile(): Promise<Record<ShapeName, ValidateFunction>> {
  compiled ??= import('ajv').then(({Ajv}) => {
    const ajv = new Ajv({allErrors: true, verbose: true, strict: true})
    return {
      config: ajv.compile(SCHEMAS.config),
      deployments: ajv.compile(SCHEMAS.deployments),
      targetServers: ajv.compile(SCHEMAS.targetServers),
    }
  })
  return compiled
}

/** `operations[0].target.target_server_id` from ajv's `/operations/0/target/target_server_id`. */
function jsonPath(pointer: string): string {
  if (pointer === '') return ''
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : /^[A-Za-z_][\w-]*$/.test(part) ? `${i === 0 ? '' : '.'}${part}` : `[${JSON.stringify(clipUserText(part, 50))}]`))
    .join('')
}

/** How a violation names what it found: never the value itself, except a short number. */
function found(value: unknown, json: boolean, root: boolean): string {
  if (value === null) return root ? 'an empty document' : 'null'
  if (Array.isArray(value)) return json ? 'an array' : 'a list'
  switch (typeof value) {
    case 'object':
      return json ? 'an object' : 'a mapping'
    case 'string':
      return 'a string'
    case 'boolean':
      return value ? 'true' : 'false'
    case 'number':
      return Number.isInteger(value) && Math.abs(value) < 1e15 ? `the number ${value}` : 'a number'
    default:
      return typeof value
  }
}

function expected(type: string, json: boolean): string {
  switch (type) {
    case 'object':
      return json ? 'an object' : 'a mapping'
    case 'array':
      return json ? 'an array' : 'a list'
    case 'integer':
      return 'an integer'
    case 'boolean':
      return 'true or false'
    default:
      return `a ${type}`
  }
}

function describe(error: ErrorObject, json: boolean): string {
  const path = jsonPath(error.instancePath)
  const subject = path === '' ? 'the document' : path
  const schema = error.parentSchema as {minimum?: number; maximum?: number} | undefined
  switch (error.keyword) {
    case 'type':
      return `${subject} must be ${expected(String(error.params.type), json)} (found ${found(error.data, json, path === '')})`
    case 'required':
      return `${path === '' ? '' : `${path}.`}${error.params.missingProperty} is required`
    case 'minimum':
    case 'maximum':
      return `${subject} must be from ${schema?.minimum} to ${schema?.maximum} (found ${found(error.data, json, false)})`
    case 'minLength':
      return `${subject} must not be empty`
    case 'maxLength':
      return `${subject} must be at most ${error.params.limit} characters long`
    default:
      return `${subject} ${error.message ?? 'is not valid'}`
  }
}

/**
 * Checks a parsed document against its shape: one message per violation (`FILE: PATH must
 * be ...`), at most MAX_VIOLATIONS_LISTED of them and a count of the rest; none when it fits.
 */
export async function shapeViolations(shape: ShapeName, value: unknown, file: string): Promise<string[]> {
  const validate = (await compile())[shape]
  if (validate(value)) return []
  const json = file.endsWith('.json')
  const errors = validate.errors ?? []
  const messages = errors.slice(0, MAX_VIOLATIONS_LISTED).map((e) => `${file}: ${describe(e, json)}`)
  if (errors.length > MAX_VIOLATIONS_LISTED) messages.push(`${file}: ${errors.length - MAX_VIOLATIONS_LISTED} more violation(s) not listed`)
  return messages
}
