import {invalidArgument} from '../errors.js'
import type {CertificateResource, IssuerResource, Manifests} from './manifests.js'
import {where} from './manifests.js'
import {type IssuanceSpec, issuanceSpec} from './spec.js'

/**
 * The issuer graph: each Certificate's issuer, and for a `ca` issuer the Certificate that
 * makes its Secret. Certificates come out in dependency order (the seed's chain: self-signed
 * ClusterIssuer, CA Certificate, CA Issuer, leaves), whatever the order of the files.
 */

/** cert-manager's --cluster-resource-namespace default: where a ClusterIssuer's CA Secret lives. */
export const CLUSTER_RESOURCE_NAMESPACE = 'cert-manager'

export type Signer =
  | {type: 'selfSigned'}
  /** Signed with the key pair of the Secret `namespace/secretName`, made by `certificate` when it is in the input. */
  | {type: 'ca'; namespace: string; secretName: string; certificate?: PlannedCertificate}

export interface PlannedCertificate {
  resource: CertificateResource
  spec: IssuanceSpec
  issuer: IssuerResource
  signer: Signer
  /** `namespace/name`. */
  id: string
}

export const issuerId = (i: IssuerResource) => (i.kind === 'ClusterIssuer' ? `ClusterIssuer ${i.name}` : `Issuer ${i.namespace}/${i.name}`)

/**
 * Checks the graph and orders it. `secretExists(ns, name)` says whether a CA Secret no
 * Certificate in the input makes is already in the output folder.
 */
export function planCertificates(manifests: Manifests, secretExists: (namespace: string, secretName: string) => boolean): PlannedCertificate[] {
  const issuers = new Map<string, IssuerResource>()
  for (const issuer of manifests.issuers) {
    const id = issuerId(issuer)
    const earlier = issuers.get(id)
    if (earlier) throw invalidArgument(`${where(issuer.source)}: ${id} is defined twice (also in ${where(earlier.source)}).`)
    const types = ['selfSigned', 'ca'].filter((t) => issuer.spec?.[t] !== undefined)
    if (types.length !== 1) {
      const other = Object.keys(issuer.spec ?? {})
      throw invalidArgument(
        `${where(issuer.source)}: ${id}: ${types.length > 1 ? 'give one issuer type' : `mtlsctl issues with selfSigned and ca issuers only${other.length ? ` (this one is ${other.join(', ')})` : ''}`}.`,
      )
    }
    issuers.set(id, issuer)
  }

  const certificates = new Map<string, PlannedCertificate>()
  const bySecret = new Map<string, PlannedCertificate>()
  for (const resource of manifests.certificates) {
    const id = `${resource.namespace}/${resource.name}`
    const earlier = certificates.get(id)
    if (earlier) throw invalidArgument(`${where(resource.source)}: Certificate ${id} is defined twice (also in ${where(earlier.resource.source)}).`)
    const spec = issuanceSpec(resource)
    const ref = spec.issuerRef
    const wanted = ref.kind === 'ClusterIssuer' ? `ClusterIssuer ${ref.name}` : `Issuer ${resource.namespace}/${ref.name}`
    const issuer = issuers.get(wanted)
    if (!issuer) {
      throw invalidArgument(`${where(resource.source)}: Certificate ${id}: spec.issuerRef names ${wanted}, which is not defined in the input.`)
    }
    const signer: Signer = issuer.spec.ca
      ? {type: 'ca', namespace: issuer.namespace ?? CLUSTER_RESOURCE_NAMESPACE, secretName: issuer.spec.ca.secretName}
      : {type: 'selfSigned'}
    const planned: PlannedCertificate = {resource, spec, issuer, signer, id}
    const secret = `${resource.namespace}/${resource.spec.secretName}`
    const sharing = bySecret.get(secret)
    if (sharing) {
      throw invalidArgument(`${where(resource.source)}: Certificate ${id} writes Secret ${secret}, which Certificate ${sharing.id} (${where(sharing.resource.source)}) also writes.`)
    }
    bySecret.set(secret, planned)
    certificates.set(id, planned)
  }

  for (const planned of certificates.values()) {
    if (planned.signer.type !== 'ca') continue
    const secret = `${planned.signer.namespace}/${planned.signer.secretName}`
    planned.signer.certificate = bySecret.get(secret)
    if (!planned.signer.certificate && !secretExists(planned.signer.namespace, planned.signer.secretName)) {
      throw invalidArgument(
        `${where(planned.resource.source)}: Certificate ${planned.id}: its issuer ${issuerId(planned.issuer)} signs with Secret ${secret}, which no Certificate in the input makes and the output folder does not hold.`,
      )
    }
  }

  // Depth-first, in input order: each certificate after the one whose Secret signs it.
  const ordered: PlannedCertificate[] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (c: PlannedCertificate, path: PlannedCertificate[]) => {
    if (state.get(c.id) === 'done') return
    if (state.get(c.id) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(c)), c]
      const steps = cycle.map((p, i) => (i === cycle.length - 1 ? `Certificate ${p.id}` : `Certificate ${p.id} → ${issuerId(p.issuer)} → Secret ${p.resource.namespace}/${cycle[i + 1].resource.spec.secretName}`))
      throw invalidArgument(`${where(c.resource.source)}: issuer cycle: ${steps.join(' → ')}: no certificate in it can be issued first.`)
    }
    state.set(c.id, 'visiting')
    if (c.signer.type === 'ca' && c.signer.certificate) visit(c.signer.certificate, [...path, c])
    state.set(c.id, 'done')
    ordered.push(c)
  }
  for (const c of certificates.values()) visit(c, [])
  return ordered
}
