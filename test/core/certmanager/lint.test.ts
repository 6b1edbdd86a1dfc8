import * as fs from 'node:fs'
import * as path from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {applyManifests, lintManifests, MAX_YAML_ALIASES, readManifests} from '../../../src/core/certmanager/index.js'
import {refusal} from '../../helpers/errors.js'
import {ROOT, rmTemp, tempDir} from '../../helpers/cli.js'

const SEED = path.join(ROOT, 'test/fixtures/cert-manager/mtls-everywhere.yaml')
let dir: string
beforeAll(() => (dir = tempDir('mtlsctl-certmanager-lint-')))
afterAll(() => rmTemp(dir))

let n = 0
const write = (body: string) => {
  const file = path.join(dir, `m${n++}.yaml`)
  fs.writeFileSync(file, body)
  return file
}
const lint = async (body: string, expectHosts?: Record<string, string[]>) => lintManifests(await readManifests([write(body)]), {expectHosts})

const ISSUER = `apiVersion: cert-manager.io/v1
kind: Issuer
metadata: {name: ca-issuer, namespace: tls}
spec: {ca: {secretName: root-secret}}
`
const cert = (name: string, spec: string) => `---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: ${name}, namespace: tls}
spec:
  secretName: ${name}
  issuerRef: {name: ca-issuer}
${spec}`

describe('lint: each finding with its exact message', () => {
  it('the seed: only its CA without rotationPolicy', async () => {
    const findings = lintManifests(await readManifests([SEED]))
    expect(findings).toEqual([
      {
        rule: 'ca-rotation-policy',
        certificate: 'tls/selfsigned-ca',
        source: `${SEED} (document 3)`,
        message:
          'Certificate tls/selfsigned-ca is a CA with no rotationPolicy (Always since cert-manager 1.18): each renewal replaces the CA key, and every certificate it signed stops verifying (the Apigee hybrid apigee-ca outage). Set spec.privateKey.rotationPolicy: Never.',
      },
    ])
  })

  it('a CA with rotationPolicy Always; none with Never', async () => {
    const findings = await lint(ISSUER + cert('ca-always', '  isCA: true\n  commonName: ca\n  privateKey: {rotationPolicy: Always}\n') + cert('ca-never', '  isCA: true\n  commonName: ca\n  privateKey: {rotationPolicy: Never}\n'))
    expect(findings.map((f) => f.message)).toEqual([
      'Certificate tls/ca-always is a CA with rotationPolicy Always: each renewal replaces the CA key, and every certificate it signed stops verifying (the Apigee hybrid apigee-ca outage). Set spec.privateKey.rotationPolicy: Never.',
    ])
  })

  it('an etcd server certificate without client auth', async () => {
    const findings = await lint(ISSUER + cert('etcd-server', '  usages: [server auth]\n  dnsNames: [etcd]\n'))
    expect(findings.map((f) => f.message)).toEqual([
      'Certificate tls/etcd-server is an etcd server certificate without client auth: etcd\'s gRPC gateway (/v3/kv/..., what APISIX uses) connects to etcd with it and fails with "incompatible key usage". Add "client auth" to spec.usages.',
    ])
  })

  it('a client certificate with no identity', async () => {
    const findings = await lint(ISSUER + cert('anonymous', '  usages: [client auth]\n  ipAddresses: [10.0.0.1]\n'))
    expect(findings.map((f) => f.message)).toEqual([
      'Certificate tls/anonymous is a client certificate (client auth) with no identity: no commonName, emailAddresses or uris, so the server cannot tell which client it is.',
    ])
  })

  it('a server certificate that does not name the host its clients dial (--expect-host)', async () => {
    const body = ISSUER + cert('etcd-server', '  usages: [client auth, server auth]\n  dnsNames: [etcd, "*.etcd.svc"]\n')
    expect(await lint(body, {'etcd-server': ['etcd', 'a.etcd.svc']})).toEqual([])
    expect((await lint(body, {'etcd-server': ['127.0.0.1'], 'tls/etcd-server': ['etcd.local']})).map((f) => f.message)).toEqual([
      'Certificate tls/etcd-server does not name 127.0.0.1, the host its clients dial: it names DNS:etcd, DNS:*.etcd.svc. Add 127.0.0.1 to spec.ipAddresses.',
      'Certificate tls/etcd-server does not name etcd.local, the host its clients dial: it names DNS:etcd, DNS:*.etcd.svc. Add etcd.local to spec.dnsNames.',
    ])
    const unknown = await refusal(lint(body, {nope: ['x']}), 'INVALID_ARGUMENT')
    expect(unknown.message).toBe('--expect-host names Certificate nope, not in the input.')
  })

  it('renewBefore not shorter than duration', async () => {
    const findings = await lint(ISSUER + cert('short', '  commonName: short\n  duration: 24h\n  renewBefore: 24h\n'))
    expect(findings.map((f) => f.message)).toEqual([
      "Certificate tls/short has renewBefore 24h, not shorter than its duration 24h: cert-manager's webhook refuses it (and an issued certificate would renew after two thirds of its life instead).",
    ])
  })

  it('an issuer used before it is defined', async () => {
    const file = write(cert('early', '  commonName: early\n').slice(4) + '---\n' + ISSUER)
    const findings = lintManifests(await readManifests([file]))
    expect(findings.map((f) => f.message)).toEqual([
      `Certificate tls/early uses Issuer tls/ca-issuer before it is defined (in ${file} (document 2)): applied in this order, it waits, not Ready, until the issuer exists.`,
    ])
  })
})

describe('bad input: a clear error naming the file and document, and nothing written', () => {
  const SELF = `apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {name: self}
spec: {selfSigned: {}}
`
  const cases: [string, string, (file: string) => string][] = [
    ['not YAML', 'kind: Certificate\n  bad: [unclosed\n', (f) => `${f} (document 1) is not valid YAML at line 1, column 7: Nested mappings are not allowed in compact mappings.`],
    ['not an object', 'just some words\n', (f) => `${f} (document 1) is not a Kubernetes object: expected a mapping with apiVersion, kind and metadata.`],
    [
      'a Certificate without secretName',
      SELF + '---\napiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: x}\nspec:\n  commonName: x\n  issuerRef: {name: self, kind: ClusterIssuer}\n',
      (f) => `${f} (document 2): Certificate x: spec.secretName is required.`,
    ],
    [
      'an unknown usage string',
      SELF + '---\napiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: x}\nspec:\n  secretName: x\n  commonName: x\n  usages: [client-auth]\n  issuerRef: {name: self, kind: ClusterIssuer}\n',
      (f) => `${f} (document 2): Certificate x: spec.usages[0] "client-auth" is not one of "signing", "digital signature", `,
    ],
    [
      'an issuerRef to nothing',
      SELF + '---\napiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: x, namespace: tls}\nspec:\n  secretName: x\n  commonName: x\n  issuerRef: {name: ca-issuer}\n',
      (f) => `${f} (document 2): Certificate tls/x: spec.issuerRef names Issuer tls/ca-issuer, which is not defined in the input.`,
    ],
    [
      'a cycle',
      `apiVersion: cert-manager.io/v1
kind: Issuer
metadata: {name: a, namespace: tls}
spec: {ca: {secretName: a-secret}}
---
apiVersion: cert-manager.io/v1
kind: Issuer
metadata: {name: b, namespace: tls}
spec: {ca: {secretName: b-secret}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: a, namespace: tls}
spec: {secretName: a-secret, isCA: true, commonName: a, issuerRef: {name: b}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: b, namespace: tls}
spec: {secretName: b-secret, isCA: true, commonName: b, issuerRef: {name: a}}
`,
      (f) =>
        `${f} (document 3): issuer cycle: Certificate tls/a → Issuer tls/b → Secret tls/b-secret → Certificate tls/b → Issuer tls/a → Secret tls/a-secret → Certificate tls/a: no certificate in it can be issued first.`,
    ],
    [
      'a namespace that would leave the output folder',
      SELF + '---\napiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: x, namespace: ../..}\nspec:\n  secretName: x\n  commonName: x\n  issuerRef: {name: self, kind: ClusterIssuer}\n',
      (f) => `${f} (document 2): Certificate: metadata.namespace "../.." is not an RFC 1123 label (lower-case letters, digits, '-'), as Kubernetes requires.`,
    ],
    [
      'too many YAML aliases (billion laughs)',
      `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [${Array(10).fill('*a').join(', ')}]\nc: &c [${Array(10).fill('*b').join(', ')}]\nd: [${Array(10).fill('*c').join(', ')}]\n`,
      (f) => `${f} (document 1) is not valid YAML: Excessive alias count indicates a resource exhaustion attack.`,
    ],
  ]
  for (const [name, body, message] of cases) {
    it(name, async () => {
      const file = write(body)
      const out = path.join(dir, `out-${n}`)
      const error = await refusal(applyManifests({files: [file], outDir: out}), 'INVALID_ARGUMENT')
      expect(error.message.startsWith(message(file))).toBe(true)
      if (!message(file).endsWith(' ')) expect(error.message).toBe(message(file))
      expect(fs.existsSync(out)).toBe(false)
    })
  }

  it(`limits YAML aliases to ${MAX_YAML_ALIASES} per document`, () => expect(MAX_YAML_ALIASES).toBe(100))
})
