import * as fs from 'node:fs'
import * as path from 'node:path'

import {invalidArgument} from './errors.js'
import {readInputText} from './input.js'

/**
 * Configuration properties, gcloud style. A value comes from, in order: a command-line flag
 * (handled by the CLI), the environment variable MTLSCTL_<NAME>, the config file
 * `<state folder>/config.json`.
 */
export const PROPERTIES = {
  organization: 'Default Apigee organization (--organization).',
  environment: 'Default Apigee environment (--environment).',
  format: 'Default output format (--format).',
  verbosity: 'Default verbosity: debug, info, warning, error or none (--verbosity).',
  api_endpoint: 'Apigee v1 API to use instead of the local engine, e.g. https://apigee.googleapis.com/ (--api-endpoint).',
  location: 'Apigee data-residency region: the API at https://REGION-apigee.googleapis.com/ (--location).',
  billing_project: 'Project sent as x-goog-user-project to the Apigee API (--billing-project).',
} as const

export type Property = keyof typeof PROPERTIES
export type PropertySource = 'flag' | 'env' | 'config'

export interface PropertyValue {
  value: string
  source: PropertySource
}

export const VERBOSITIES = ['debug', 'info', 'warning', 'error', 'none'] as const

export function checkProperty(name: string): Property {
  if (!Object.hasOwn(PROPERTIES, name)) {
    throw invalidArgument(
      `Unknown property "${name}".`,
      `Known properties: ${Object.keys(PROPERTIES).join(', ')}.`,
    )
  }
  return name as Property
}

export function envVarName(property: Property): string {
  return `MTLSCTL_${property.toUpperCase()}`
}

export class Config {
  private values: Partial<Record<Property, string>> | undefined

  constructor(
    private readonly home: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  get file(): string {
    return path.join(this.home, 'config.json')
  }

  /** The effective value from the environment or the config file (flags are the CLI's). */
  resolve(property: Property): PropertyValue | undefined {
    const fromEnv = this.env[envVarName(property)]
    if (fromEnv !== undefined && fromEnv !== '') return {value: fromEnv, source: 'env'}
    const fromFile = this.read()[property]
    if (fromFile !== undefined) return {value: fromFile, source: 'config'}
    return undefined
  }

  /** Values set in the config file only. */
  read(): Partial<Record<Property, string>> {
    if (this.values) return this.values
    // No config file yet: no values. Otherwise it is read within the document limit, as any input.
    if (!fs.existsSync(this.file)) return (this.values = {})
    const text = readInputText(this.file, {what: 'config', kind: 'document'})
    try {
      const parsed = JSON.parse(text) as Record<string, unknown>
      const values: Partial<Record<Property, string>> = {}
      for (const [key, value] of Object.entries(parsed)) {
        if (Object.hasOwn(PROPERTIES, key) && typeof value === 'string') values[key as Property] = value
      }
      return (this.values = values)
    } catch {
      throw invalidArgument(
        `The config file ${this.file} is not valid JSON.`,
        'Fix it by hand, or delete it and set the properties again with `mtlsctl config set`.',
      )
    }
  }

  set(property: Property, value: string): void {
    checkValue(property, value)
    this.write({...this.read(), [property]: value})
  }

  unset(property: Property): boolean {
    const values = {...this.read()}
    const had = values[property] !== undefined
    delete values[property]
    this.write(values)
    return had
  }

  private write(values: Partial<Record<Property, string>>): void {
    fs.mkdirSync(this.home, {recursive: true, mode: 0o700})
    const tmp = `${this.file}.tmp-${process.pid}`
    const fd = fs.openSync(tmp, 'w', 0o600)
    try {
      fs.writeFileSync(fd, JSON.stringify(values, null, 2) + '\n')
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, this.file)
    this.values = values
  }
}

export function checkValue(property: Property, value: string): void {
  if (property === 'api_endpoint') checkEndpoint(value)
  if (property === 'location' && !/^[a-z][a-z0-9-]{0,62}$/.test(value)) {
    throw invalidArgument(`Invalid location "${value}": a region such as europe-west1.`)
  }
  if (property === 'verbosity' && !(VERBOSITIES as readonly string[]).includes(value)) {
    throw invalidArgument(`Invalid verbosity "${value}": use one of ${VERBOSITIES.join(', ')}.`)
  }
}

/** `local` (the embedded engine), or an http(s) URL; answered normalised with a trailing `/`. */
export function checkEndpoint(value: string): string {
  if (value === 'local') return value
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw invalidArgument(`Invalid API endpoint "${value}": give a URL such as https://apigee.googleapis.com/ (or local).`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalidArgument(`Invalid API endpoint "${value}": it must be an http or https URL.`)
  }
  if (url.search || url.hash || url.username || url.password) {
    throw invalidArgument(`Invalid API endpoint "${value}": give the base URL only, without query, fragment or credentials.`)
  }
  // gcloud's override names the versioned base (https://apigee.googleapis.com/v1/): both are taken.
  const base = url.pathname.replace(/\/?v1\/?$/, '/').replace(/\/?$/, '/')
  return `${url.origin}${base}`
}
