import * as net from 'node:net'

import {invalidArgument} from '../errors.js'
import {issuerId} from './graph.js'
import {type CertificateResource, type Manifests, where} from './manifests.js'
import {type IssuanceSpec, issuanceSpec} from './spec.js'

/**
 * The mistakes that take real clusters down, found in the manifests before anything is
 * issued. `certs apply` prints them as warnings; `certs lint` fails when there is one.
 */

export type LintRule = 'ca-rotation-policy' | 'etcd-server-client-auth' | 'client-identity' | 'expected-host' | 'renew-before' | 'issuer-order'

export interface LintFinding {
  rule: LintRule
  certificate: string
  source: string
  message: string
}

export interface LintOptions {
  /** Certificate name (or namespace/name) → the host names or IPs its clients dial. */
  expectHosts?: Record<string, string[]>
}

/** `NAME=HOST` values of --expect-host. */
export function parseExpectHosts(values: string[] | undefined): Record<string, string[]> {
  const hosts: Record<string, string[]> = {}
  for (const value of values ?? []) {
    const eq = value.indexOf('=')
    if (eq <= 0 || eq === value.length - 1) throw invalidArgument(`Invalid --expect-host "${value}": write CERTIFICATE=HOST, e.g. etcd-server=127.0.0.1.`)
    ;(hosts[value.slice(0, eq)] ??= []).push(value.slice(eq + 1))
  }
  return hosts
}

export function lintManifests(manifests: Manifests, options: LintOptions = {}): LintFinding[] {
  const findings: LintFinding[] = []
  const expect = {...(options.expectHosts ?? {})}
  for (const crt of manifests.certificates) {
    const spec = issuanceSpec(crt)
    const id = `${crt.namespace}/${crt.name}`
    const add = (rule: LintRule, message: string) => findings.push({rule, certificate: id, source: where(crt.source), message: `Certificate ${id} ${message}`})
    const has = (usage: string) => spec.usages.includes(usage)

    if (spec.isCA && spec.privateKey.rotationPolicy === 'Always') {
      const policy = crt.spec.privateKey?.rotationPolicy ? 'rotationPolicy Always' : 'no rotationPolicy (Always since cert-manager 1.18)'
      add(
        'ca-rotation-policy',
        `is a CA with ${policy}: each renewal replaces the CA key, and every certificate it signed stops verifying (the Apigee hybrid apigee-ca outage). Set spec.privateKey.rotationPolicy: Never.`,
      )
    }
    if (isEtcdServer(crt, spec) && !has('client auth') && !has('any')) {
      add(
        'etcd-server-client-auth',
        `is an etcd server certificate without client auth: etcd's gRPC gateway (/v3/kv/..., what APISIX uses) connects to etcd with it and fails with "incompatible key usage". Add "client auth" to spec.usages.`,
      )
    }
    if (has('client auth') && !has('server auth') && !spec.subject.some((a) => a.type === 'CN') && !spec.sans.some((s) => s.type === 'EMAIL' || s.type === 'URI')) {
      add('client-identity', 'is a client certificate (client auth) with no identity: no commonName, emailAddresses or uris, so the server cannot tell which client it is.')
    }
    for (const key of [crt.name, id]) {
      for (const host of expect[key] ?? []) {
        if (!namesHost(spec, host)) {
          const names = spec.sans.filter((s) => s.type === 'DNS' || s.type === 'IP').map((s) => `${s.type}:${s.value}`)
          const field = net.isIP(host) ? 'spec.ipAddresses' : 'spec.dnsNames'
          add('expected-host', `does not name ${host}, the host its clients dial: ${names.length ? `it names ${names.join(', ')}` : 'it has no DNS or IP names'}. Add ${host} to ${field}.`)
        }
      }
      delete expect[key]
    }
    if (spec.renewBeforeMs !== undefined && spec.renewBeforeMs >= spec.durationMs) {
      add(
        'renew-before',
        `has renewBefore ${crt.spec.renewBefore}, not shorter than its duration ${crt.spec.duration ?? '2160h'}: cert-manager's webhook refuses it (and an issued certificate would renew after two thirds of its life instead).`,
      )
    }
    const ref = spec.issuerRef
    const issuer = manifests.issuers.find((i) => i.kind === ref.kind && i.name === ref.name && (i.kind === 'ClusterIssuer' || i.namespace === crt.namespace))
    if (issuer && issuer.source.order > crt.source.order) {
      add('issuer-order', `uses ${issuerId(issuer)} before it is defined (in ${where(issuer.source)}): applied in this order, it waits, not Ready, until the issuer exists.`)
    }
  }
  const unknown = Object.keys(expect)
  if (unknown.length > 0) throw invalidArgument(`--expect-host names ${unknown.map((n) => `Certificate ${n}`).join(', ')}, not in the input.`)
  return findings
}

function isEtcdServer(crt: CertificateResource, spec: IssuanceSpec): boolean {
  if (!spec.usages.includes('server auth')) return false
  const names = [crt.name, crt.spec.secretName, ...(crt.spec.dnsNames ?? []), crt.spec.commonName ?? '']
  return names.some((n) => /(^|[^a-z])etcd([^a-z]|$)/i.test(n))
}

/** RFC 6125 matching as curl and Go do: IPs exactly, DNS names case-insensitively, one leftmost wildcard label. */
function namesHost(spec: IssuanceSpec, host: string): boolean {
  if (net.isIP(host)) return spec.sans.some((s) => s.type === 'IP' && normaliseIp(s.value) === normaliseIp(host))
  const h = host.toLowerCase().replace(/\.$/, '')
  return spec.sans.some((s) => {
    if (s.type !== 'DNS') return false
    const name = s.value.toLowerCase()
    if (name.startsWith('*.')) return h.includes('.') && h.slice(h.indexOf('.')) === name.slice(1)
    return name === h
  })
}

function normaliseIp(ip: string): string {
  return net.isIPv6(ip) ? new net.SocketAddress({address: ip, family: 'ipv6'}).address : ip
}
