import * as crypto from 'node:crypto'

import type {Certificate} from '../ca/certificates.js'
import {formatSan} from '../ca/subject.js'
import type {PlannedCertificate} from './graph.js'

/**
 * The `kubernetes.io/tls` Secret cert-manager writes for a Certificate: `tls.crt` (leaf and
 * intermediates), `tls.key`, `ca.crt` (the root), its label and annotations
 * (internal/controller/certificates/secrets.go: AnnotationsForCertificate).
 */

export interface SecretData {
  'tls.crt': string
  'tls.key': string
  'ca.crt': string
}

export interface SecretManifest {
  apiVersion: 'v1'
  data: Record<keyof SecretData, string>
  kind: 'Secret'
  metadata: {annotations: Record<string, string>; labels: Record<string, string>; name: string; namespace: string}
  type: 'kubernetes.io/tls'
}

/** Go's encoding/csv for one record: a value with a comma, quote or newline is quoted. */
function csv(values: string[]): string {
  return values.map((v) => (/[",\r\n]/.test(v) || v.startsWith(' ') ? `"${v.replaceAll('"', '""')}"` : v)).join(',')
}

export function secretAnnotations(planned: PlannedCertificate, cert: Certificate): Record<string, string> {
  const a: Record<string, string> = {}
  const attrs = (type: string) => cert.subject.filter((x) => x.type === type).map((x) => x.value)
  const sans = (type: string) => cert.sans.filter((s) => s.type === type).map((s) => (type === 'IP' ? formatSan(s).slice(3) : s.value))
  const list = (key: string, values: string[], keepEmpty: boolean) => {
    if (values.length > 0 || keepEmpty) a[key] = csv(values)
  }
  list('cert-manager.io/alt-names', sans('DNS'), true)
  a['cert-manager.io/certificate-name'] = planned.resource.name
  a['cert-manager.io/common-name'] = attrs('CN').at(-1) ?? ''
  list('cert-manager.io/email-sans', sans('EMAIL'), false)
  list('cert-manager.io/ip-sans', sans('IP'), true)
  a['cert-manager.io/issuer-group'] = planned.resource.spec.issuerRef.group ?? ''
  a['cert-manager.io/issuer-kind'] = planned.spec.issuerRef.kind
  a['cert-manager.io/issuer-name'] = planned.spec.issuerRef.name
  list('cert-manager.io/subject-countries', attrs('C'), false)
  list('cert-manager.io/subject-localities', attrs('L'), false)
  list('cert-manager.io/subject-organizationalunits', attrs('OU'), false)
  list('cert-manager.io/subject-organizations', attrs('O'), false)
  list('cert-manager.io/subject-postalcodes', attrs('postalCode'), false)
  list('cert-manager.io/subject-provinces', attrs('ST'), false)
  if (attrs('serialNumber').length > 0) a['cert-manager.io/subject-serialnumber'] = attrs('serialNumber')[0]
  list('cert-manager.io/subject-streetaddresses', attrs('street'), false)
  list('cert-manager.io/uri-sans', sans('URI'), true)
  return sorted({...a, ...(planned.resource.spec.secretTemplate?.annotations ?? {})})
}

const sorted = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))

/** The Secret manifest: kubectl's key order (apiVersion, data, kind, metadata, type). */
export function secretManifest(planned: PlannedCertificate, cert: Certificate, data: SecretData): SecretManifest {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64')
  return {
    apiVersion: 'v1',
    data: {'ca.crt': b64(data['ca.crt']), 'tls.crt': b64(data['tls.crt']), 'tls.key': b64(data['tls.key'])},
    kind: 'Secret',
    metadata: {
      annotations: secretAnnotations(planned, cert),
      labels: sorted({...(planned.resource.spec.secretTemplate?.labels ?? {}), 'controller.cert-manager.io/fao': 'true'}),
      name: planned.resource.spec.secretName,
      namespace: planned.resource.namespace,
    },
    type: 'kubernetes.io/tls',
  }
}

/** `secrets.yaml`: every Secret, one YAML document each, base64 values on one line. */
export async function secretsYaml(manifests: SecretManifest[]): Promise<string> {
  const YAML = await import('yaml')
  return manifests.map((m) => YAML.stringify(m, {lineWidth: 0, defaultStringType: 'PLAIN', defaultKeyType: 'PLAIN'})).join('---\n')
}

export const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex')
