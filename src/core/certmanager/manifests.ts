import {invalidArgument} from '../errors.js'
import {readInputText} from '../input.js'

/**
 * Reading cert-manager manifests: multi-document YAML files, the kinds mtlsctl takes
 * (cert-manager.io/v1 ClusterIssuer, Issuer, Certificate), each checked against cert-manager's
 * own schema (@kubernetes-models/cert-manager, generated from cert-manager's CRDs). Every error
 * names the file, the document and the field.
 */

/** Where a document came from: `seed.yaml (document 3)`. */
export interface Source {
  file: string
  /** 1-based, in file order. */
  document: number
  /** Reading order across every file given, for "used before it is defined". */
  order: number
}

export const where = (s: Source) => `${s.file} (document ${s.document})`

export type IssuerKind = 'Issuer' | 'ClusterIssuer'

export interface IssuerResource {
  kind: IssuerKind
  name: string
  /** Undefined for a ClusterIssuer. */
  namespace?: string
  spec: {selfSigned?: Record<string, unknown>; ca?: {secretName: string}; [other: string]: unknown}
  source: Source
}

export interface CertificateResource {
  kind: 'Certificate'
  name: string
  namespace: string
  // The schema-checked spec, as written.
  spec: CertificateSpec
  source: Source
}

export interface CertificateSpec {
  secretName: string
  commonName?: string
  dnsNames?: string[]
  ipAddresses?: string[]
  uris?: string[]
  emailAddresses?: string[]
  subject?: {
    organizations?: string[]
    countries?: string[]
    organizationalUnits?: string[]
    localities?: string[]
    provinces?: string[]
    streetAddresses?: string[]
    postalCodes?: string[]
    serialNumber?: string
  }
  literalSubject?: string
  duration?: string
  renewBefore?: string
  isCA?: boolean
  usages?: string[]
  privateKey?: {algorithm?: 'RSA' | 'ECDSA' | 'Ed25519'; size?: number; encoding?: 'PKCS1' | 'PKCS8'; rotationPolicy?: 'Never' | 'Always'}
  issuerRef: {name: string; kind?: string; group?: string}
  secretTemplate?: {annotations?: Record<string, string>; labels?: Record<string, string>}
}

export interface Manifests {
  issuers: IssuerResource[]
  certificates: CertificateResource[]
  /** One line per document of another kind: `Skipped v1 Namespace tls (seed.yaml, document 2) ...`. */
  skipped: string[]
}

/** The billion-laughs guard: at most this many alias expansions per document. */
export const MAX_YAML_ALIASES = 100

const TAKEN = new Set(['ClusterIssuer', 'Issuer', 'Certificate'])

/** Reads and checks every document of every file. Nothing is issued or written here. */
export async function readManifests(files: string[], options: {namespace?: string} = {}): Promise<Manifests> {
  if (files.length === 0) throw invalidArgument('No manifest file given: name one with -f FILE.')
  const result: Manifests = {issuers: [], certificates: [], skipped: []}
  let order = 0
  for (const file of files) {
    const text = readInputText(file, {what: 'manifest', kind: 'document', flag: 'filename'})
    for (const [i, doc] of (await parseYamlDocuments(text, file)).entries()) {
      const source = {file, document: i + 1, order: order++}
      if (doc === null || doc === undefined) continue
      await take(doc, source, options.namespace ?? 'default', result)
    }
  }
  return result
}

/** Every document of a YAML text as plain data, aliases limited; errors name file, document, line. */
export async function parseYamlDocuments(text: string, file: string): Promise<unknown[]> {
  const YAML = await import('yaml')
  const docs = YAML.parseAllDocuments(text, {prettyErrors: true, uniqueKeys: true})
  const list = Array.isArray(docs) ? docs : []
  return list.map((doc, i) => {
    const at = `${file} (document ${i + 1})`
    const error = doc.errors[0]
    if (error) {
      const pos = error.linePos?.[0]
      // The message's own position and source excerpt are left out: the file may hold key material.
      const why = firstLine(error.message).replace(/ at line \d+, column \d+$/, '')
      throw invalidArgument(`${at} is not valid YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${why}.`)
    }
    try {
      return doc.toJS({maxAliasCount: MAX_YAML_ALIASES})
    } catch (error) {
      throw invalidArgument(`${at} is not valid YAML: ${firstLine((error as Error).message)}.`)
    }
  })
}

const firstLine = (message: string) => message.split('\n')[0].replace(/[.:]\s*$/, '')

async function take(doc: unknown, source: Source, defaultNamespace: string, out: Manifests): Promise<void> {
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw invalidArgument(`${where(source)} is not a Kubernetes object: expected a mapping with apiVersion, kind and metadata.`)
  }
  const object = doc as {apiVersion?: unknown; kind?: unknown; metadata?: {name?: unknown; namespace?: unknown}; spec?: unknown}
  if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') {
    throw invalidArgument(`${where(source)} is not a Kubernetes object: it has no apiVersion or kind.`)
  }
  const name = typeof object.metadata?.name === 'string' ? object.metadata.name : undefined
  if (object.apiVersion !== 'cert-manager.io/v1' || !TAKEN.has(object.kind)) {
    out.skipped.push(`Skipped ${object.apiVersion} ${object.kind}${name ? ` ${name}` : ''} (${where(source)}): mtlsctl takes cert-manager.io/v1 ClusterIssuer, Issuer and Certificate.`)
    return
  }
  await checkSchema(object, source)
  const kind = object.kind as 'ClusterIssuer' | 'Issuer' | 'Certificate'
  if (!name) throw invalidArgument(`${where(source)}: ${kind} has no metadata.name.`)
  const namespace = typeof object.metadata?.namespace === 'string' ? object.metadata.namespace : defaultNamespace
  // These become folder names under --out-dir: Kubernetes' own name rules keep them inside it.
  checkName(source, kind, name, 'metadata.name', DNS_SUBDOMAIN)
  if (kind !== 'ClusterIssuer') checkName(source, kind, namespace, 'metadata.namespace', DNS_LABEL)
  const spec = object.spec as {secretName?: unknown; ca?: {secretName?: unknown}} | undefined
  if (kind === 'Certificate') checkName(source, kind, String(spec?.secretName), 'spec.secretName', DNS_SUBDOMAIN)
  if (spec?.ca) checkName(source, kind, String(spec.ca.secretName), 'spec.ca.secretName', DNS_SUBDOMAIN)
  if (kind === 'Certificate') {
    out.certificates.push({kind, name, namespace, spec: object.spec as CertificateSpec, source})
  } else {
    out.issuers.push({kind, name, namespace: kind === 'Issuer' ? namespace : undefined, spec: object.spec as IssuerResource['spec'], source})
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

function checkName(source: Source, kind: string, value: string, field: string, rule: RegExp): void {
  if (!rule.test(value)) {
    const what = rule === DNS_LABEL ? 'an RFC 1123 label' : 'an RFC 1123 subdomain'
    throw invalidArgument(`${where(source)}: ${kind}: ${field} "${value}" is not ${what} (lower-case letters, digits, '-'${rule === DNS_LABEL ? '' : " and '.'"}), as Kubernetes requires.`)
  }
}

interface SchemaError {
  instancePath?: string
  keyword?: string
  message?: string
  params?: {missingProperty?: string; allowedValues?: unknown[]}
  data?: unknown
}

/** cert-manager's schema for the kind; the first error, with the field it is about. */
async function checkSchema(object: {kind?: unknown; metadata?: {name?: unknown}}, source: Source): Promise<void> {
  const models = await loadModels()
  const Model = models[object.kind as keyof typeof models]
  try {
    new Model(object as never).validate()
  } catch (error) {
    const errors = ((error as {errors?: SchemaError[]}).errors ?? []) as SchemaError[]
    const first = errors[0]
    const label = `${object.kind}${typeof object.metadata?.name === 'string' ? ` ${object.metadata.name}` : ''}`
    if (!first) throw invalidArgument(`${where(source)}: ${label} does not match cert-manager's schema: ${(error as Error).message}.`)
    let field = fieldPath(first.instancePath ?? '')
    if (first.keyword === 'required' && first.params?.missingProperty) {
      field = field ? `${field}.${first.params.missingProperty}` : first.params.missingProperty
      throw invalidArgument(`${where(source)}: ${label}: ${field} is required.`)
    }
    if (first.keyword === 'enum' && first.params?.allowedValues) {
      const given = valueAt(object, first.instancePath ?? '')
      throw invalidArgument(
        `${where(source)}: ${label}: ${field} ${JSON.stringify(given)} is not one of ${first.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}.`,
      )
    }
    throw invalidArgument(`${where(source)}: ${label}: ${field || 'the document'} ${first.message ?? 'does not match the schema'}.`)
  }
}

/** `/spec/usages/1` → `spec.usages[1]`. */
function fieldPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '')
}

function valueAt(object: unknown, pointer: string): unknown {
  let value = object
  for (const part of pointer.split('/').slice(1)) value = (value as Record<string, unknown> | undefined)?.[part.replaceAll('~1', '/').replaceAll('~0', '~')]
  return value
}

type Model = new (data: never) => {validate(): void}

async function loadModels(): Promise<Record<'Certificate' | 'Issuer' | 'ClusterIssuer', Model>> {
  const [certificate, issuer, clusterIssuer] = await Promise.all([
    import('@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate'),
    import('@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer'),
    import('@kubernetes-models/cert-manager/cert-manager.io/v1/ClusterIssuer'),
  ])
  return {Certificate: certificate.Certificate as Model, Issuer: issuer.Issuer as Model, ClusterIssuer: clusterIssuer.ClusterIssuer as Model}
}
