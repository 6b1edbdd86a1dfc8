import * as fs from 'node:fs'
import * as path from 'node:path'

import {Secret} from 'kubernetes-models/v1/Secret'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import YAML from 'yaml'

import {applyManifests, type ApplyResult} from '../../../src/core/certmanager/index.js'
import {ROOT, rmTemp, tempDir} from '../../helpers/cli.js'
import {mode, openssl, snapshot} from '../../helpers/openssl.js'

/** The seed's manifests (test/fixtures/cert-manager/mtls-everywhere.yaml) applied, judged by openssl. */
const SEED = path.join(ROOT, 'test/fixtures/cert-manager/mtls-everywhere.yaml')
const LEAVES = ['etcd-secret', 'apisix-client-secret', 'curl-secret', 'upstream-secret', 'apisix-server-secret']

let dir: string
let out: string
let first: ApplyResult

beforeAll(async () => {
  dir = tempDir('mtlsctl-certmanager-')
  out = path.join(dir, 'pki')
  first = await applyManifests({files: [SEED], outDir: out})
}, 180_000)
afterAll(() => rmTemp(dir))

const secret = (name: string, file: string) => path.join(out, 'tls', name, file)
const text = (name: string) => openssl(['x509', '-in', secret(name, 'tls.crt'), '-noout', '-text'], dir).stdout

describe('the seed applied', () => {
  it('issues every Certificate in issuer order and skips the Namespace with one line', () => {
    expect(first.certificates.map((c) => [c.certificate, c.secretName, c.action])).toEqual([
      ['selfsigned-ca', 'root-secret', 'created'],
      ['etcd-server', 'etcd-secret', 'created'],
      ['apisix-client', 'apisix-client-secret', 'created'],
      ['curl-client', 'curl-secret', 'created'],
      ['upstream-server', 'upstream-secret', 'created'],
      ['apisix-server', 'apisix-server-secret', 'created'],
    ])
    expect(first.skipped).toEqual([
      `Skipped v1 Namespace tls (${SEED} (document 2)): mtlsctl takes cert-manager.io/v1 ClusterIssuer, Issuer and Certificate.`,
    ])
  })

  it('an --out-dir that already exists keeps its mode (--out-dir . must not chmod the working folder)', async () => {
    const shared = path.join(dir, 'shared')
    fs.mkdirSync(shared, {mode: 0o755})
    fs.chmodSync(shared, 0o755)
    await applyManifests({files: [SEED], outDir: shared})
    expect(mode(shared)).toBe(0o755)
    expect(mode(path.join(shared, 'tls'))).toBe(0o700)
    expect(mode(path.join(shared, 'tls', 'etcd-secret', 'tls.key'))).toBe(0o600)
  })

  it('writes DIR 0700, tls.key 0600 (PKCS#1), and chains openssl verifies against ca.crt', () => {
    expect(mode(out)).toBe(0o700)
    expect(mode(path.join(out, 'tls'))).toBe(0o700)
    for (const name of ['root-secret', ...LEAVES]) {
      expect(mode(secret(name, 'tls.key'))).toBe(0o600)
      expect(fs.readFileSync(secret(name, 'tls.key'), 'utf8')).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/)
      const verify = openssl(['verify', '-CAfile', secret(name, 'ca.crt'), secret(name, 'tls.crt')], dir)
      expect(verify.stdout.trim()).toBe(`${secret(name, 'tls.crt')}: OK`)
      // Every leaf's ca.crt is the root's certificate.
      expect(fs.readFileSync(secret(name, 'ca.crt'), 'utf8')).toBe(fs.readFileSync(secret('root-secret', 'tls.crt'), 'utf8'))
    }
    // The self-signed CA's ca.crt is itself.
    expect(fs.readFileSync(secret('root-secret', 'ca.crt'), 'utf8')).toBe(fs.readFileSync(secret('root-secret', 'tls.crt'), 'utf8'))
  })

  it('the CA: CN=selfsigned-ca, CA:TRUE critical, cert manager default usages plus cert sign, 90 days, RSA 2048', () => {
    const t = text('root-secret')
    expect(t).toContain('Subject: CN = selfsigned-ca')
    expect(t).toContain('Issuer: CN = selfsigned-ca')
    expect(t).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment, Certificate Sign\n/)
    expect(t).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:TRUE\n/)
    expect(t).toContain('Public-Key: (2048 bit)')
    const ca = first.certificates[0]
    expect(Date.parse(ca.notAfter) - Date.parse(ca.notBefore)).toBe(2160 * 3_600_000)
  })

  it("etcd-server is what the seed printed: empty subject, EKU client+server, no keyUsage, SAN critical DNS:etcd", () => {
    const t = text('etcd-secret')
    expect(t).toMatch(/Subject: *\n/)
    expect(t).toContain('Issuer: CN = selfsigned-ca')
    expect(t).toContain('Signature Algorithm: sha256WithRSAEncryption')
    expect(t).toContain('Public-Key: (2048 bit)')
    expect(t).toMatch(/X509v3 Extended Key Usage: \n\s+TLS Web Client Authentication, TLS Web Server Authentication\n/)
    expect(t).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/)
    expect(t).toMatch(/X509v3 Subject Alternative Name: critical\n\s+DNS:etcd\n/)
    expect(t).not.toContain('X509v3 Key Usage')
    // The seed's printed etcd certificate (MIIDBjCC...) is 4 + 0x306 = 778 bytes of DER: the same
    // layout (16-byte serial, no subject key id, AKI, critical SAN) gives the same length.
    const pem = fs.readFileSync(secret('etcd-secret', 'tls.crt'), 'utf8')
    expect(Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64').length).toBe(778)
  })

  it('the clients carry their email identity and client auth only; the servers their DNS names and server auth only', () => {
    expect(text('apisix-client-secret')).toMatch(/Extended Key Usage: \n\s+TLS Web Client Authentication\n[\s\S]*Alternative Name: critical\n\s+email:apisix@apache.org\n/)
    expect(text('curl-secret')).toMatch(/Extended Key Usage: \n\s+TLS Web Client Authentication\n[\s\S]*Alternative Name: critical\n\s+email:curl@localhost.dev\n/)
    expect(text('upstream-secret')).toMatch(/Extended Key Usage: \n\s+TLS Web Server Authentication\n[\s\S]*Alternative Name: critical\n\s+DNS:upstream\n/)
    expect(text('apisix-server-secret')).toMatch(/Alternative Name: critical\n\s+DNS:admin, DNS:apisix\n/)
  })

  it('secrets.yaml: one schema-valid kubernetes.io/tls Secret per Certificate, decoding to the files beside it', () => {
    const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(out, 'secrets.yaml'), 'utf8')).map((d) => d.toJS())
    expect(mode(path.join(out, 'secrets.yaml'))).toBe(0o600)
    expect(docs.map((d) => `${d.metadata.namespace}/${d.metadata.name}`)).toEqual(['tls/root-secret', ...LEAVES.map((l) => `tls/${l}`)])
    for (const doc of docs) {
      expect(() => new Secret(doc).validate()).not.toThrow()
      expect(doc.type).toBe('kubernetes.io/tls')
      expect(doc.metadata.labels).toEqual({'controller.cert-manager.io/fao': 'true'})
      for (const key of ['tls.crt', 'tls.key', 'ca.crt']) {
        expect(Buffer.from(doc.data[key], 'base64').toString('utf8')).toBe(fs.readFileSync(secret(doc.metadata.name, key), 'utf8'))
      }
    }
    // The annotations of the seed's `kubectl describe apisix-client-secret`, plus email-sans (cert-manager 1.12+).
    expect(docs.find((d) => d.metadata.name === 'apisix-client-secret').metadata.annotations).toEqual({
      'cert-manager.io/alt-names': '',
      'cert-manager.io/certificate-name': 'apisix-client',
      'cert-manager.io/common-name': '',
      'cert-manager.io/email-sans': 'apisix@apache.org',
      'cert-manager.io/ip-sans': '',
      'cert-manager.io/issuer-group': '',
      'cert-manager.io/issuer-kind': 'Issuer',
      'cert-manager.io/issuer-name': 'ca-issuer',
      'cert-manager.io/uri-sans': '',
    })
  })
})

describe('idempotence', () => {
  it('a second apply changes no file and says unchanged', async () => {
    const before = snapshot(out)
    const again = await applyManifests({files: [SEED], outDir: out})
    expect(again.certificates.map((c) => c.action)).toEqual(Array(6).fill('unchanged'))
    expect(snapshot(out)).toEqual(before)
  })

  it('editing one Certificate’s dnsNames reissues only that one; --renew renews one and keeps the others', async () => {
    const edited = path.join(dir, 'edited.yaml')
    fs.writeFileSync(edited, fs.readFileSync(SEED, 'utf8').replace('    - upstream\n', '    - upstream\n    - localhost\n'))
    const before = snapshot(out)
    const reissued = await applyManifests({files: [edited], outDir: out})
    expect(reissued.certificates.map((c) => `${c.certificate} ${c.action}${c.reason ? ` (${c.reason})` : ''}`)).toEqual([
      'selfsigned-ca unchanged',
      'etcd-server unchanged',
      'apisix-client unchanged',
      'curl-client unchanged',
      'upstream-server reissued (spec changed)',
      'apisix-server unchanged',
    ])
    expect(text('upstream-secret')).toMatch(/DNS:upstream, DNS:localhost\n/)
    const after = snapshot(out)
    const changed = Object.keys(after).filter((f) => after[f] !== before[f]).sort()
    // rotationPolicy unset = Always: a new key too.
    expect(changed).toEqual(['secrets.yaml', 'state.json', 'tls/upstream-secret/tls.crt', 'tls/upstream-secret/tls.key'])

    const renewed = await applyManifests({files: [edited], outDir: out, renew: ['etcd-server']})
    expect(renewed.certificates.map((c) => c.action)).toEqual(['unchanged', 'renewed', 'unchanged', 'unchanged', 'unchanged', 'unchanged'])
    const last = snapshot(out)
    expect(Object.keys(last).filter((f) => last[f] !== after[f]).sort()).toEqual(['secrets.yaml', 'tls/etcd-secret/tls.crt', 'tls/etcd-secret/tls.key'])
    expect(openssl(['verify', '-CAfile', secret('etcd-secret', 'ca.crt'), secret('etcd-secret', 'tls.crt')], dir).code).toBe(0)
  }, 120_000)
})

describe('what cert-manager would issue, beyond the seed', () => {
  const write = (name: string, body: string) => {
    const file = path.join(dir, name)
    fs.writeFileSync(file, body)
    return file
  }
  const ISSUERS = `apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {name: root}
spec: {selfSigned: {}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: ca, namespace: apps}
spec:
  isCA: true
  commonName: Apps CA
  secretName: ca
  privateKey: {algorithm: ECDSA, size: 384, rotationPolicy: Never}
  issuerRef: {name: root, kind: ClusterIssuer}
---
apiVersion: cert-manager.io/v1
kind: Issuer
metadata: {name: ca, namespace: apps}
spec: {ca: {secretName: ca}}
`

  it('subject fields in Go order, IP and URI SANs, ECDSA and Ed25519 keys, PKCS8, duration, the CA clamp, rotationPolicy Never', async () => {
    const file = write(
      'beyond.yaml',
      `${ISSUERS}---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: web, namespace: apps}
spec:
  secretName: web-tls
  commonName: web.apps
  subject: {organizations: [Acme], countries: [US], organizationalUnits: [Edge], localities: [Paris], provinces: [IDF], postalCodes: ["75001"], streetAddresses: [1 rue], serialNumber: "42"}
  dnsNames: [web.apps]
  ipAddresses: [127.0.0.1, "::1"]
  uris: [spiffe://apps/web]
  duration: 1h30m
  usages: [server auth, digital signature]
  privateKey: {algorithm: ECDSA, encoding: PKCS8}
  issuerRef: {name: ca}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: ed, namespace: apps}
spec:
  secretName: ed-tls
  literalSubject: "CN=ed,O=Acme"
  duration: 200000h
  additionalOutputFormats: [{type: DER}]
  privateKey: {algorithm: Ed25519, rotationPolicy: Never}
  issuerRef: {name: ca}
`,
    )
    const target = path.join(dir, 'beyond')
    const result = await applyManifests({files: [file], outDir: target})
    expect(result.notes).toEqual(['Certificate apps/ed: spec.additionalOutputFormats not applied by mtlsctl (ignored).'])
    const f = (s: string, n: string) => path.join(target, 'apps', s, n)
    const web = openssl(['x509', '-in', f('web-tls', 'tls.crt'), '-noout', '-text', '-nameopt', 'RFC2253'], dir).stdout
    expect(web).toContain('Subject: serialNumber=42,CN=web.apps,OU=Edge,O=Acme,postalCode=75001,street=1 rue,L=Paris,ST=IDF,C=US')
    expect(web).toContain('Signature Algorithm: ecdsa-with-SHA384')
    expect(web).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature\n/)
    // The commonName is not copied into the SANs; the subject is not empty, so the SAN is not critical.
    expect(web).toMatch(/X509v3 Subject Alternative Name: \n\s+DNS:web.apps, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, URI:spiffe:\/\/apps\/web\n/)
    expect(web).toContain('NIST CURVE: P-256')
    expect(fs.readFileSync(f('web-tls', 'tls.key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
    expect(fs.readFileSync(f('ca', 'tls.key'), 'utf8')).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n/)
    const webResult = result.certificates.find((c) => c.certificate === 'web')!
    expect(Date.parse(webResult.notAfter) - Date.parse(webResult.notBefore)).toBe(90 * 60_000)
    // renewBefore unset: a third of the lifetime before the end.
    expect(Date.parse(webResult.notAfter) - Date.parse(webResult.renewalTime)).toBe(30 * 60_000)
    const ed = openssl(['x509', '-in', f('ed-tls', 'tls.crt'), '-noout', '-text', '-nameopt', 'RFC2253'], dir).stdout
    expect(ed).toContain('Subject: CN=ed,O=Acme')
    expect(ed).toContain('Public Key Algorithm: ED25519')
    // Default usages; 200000h is past the CA's end, so the CA issuer stops at the CA's notAfter.
    expect(ed).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/)
    const ca = result.certificates.find((c) => c.certificate === 'ca')!
    expect(result.certificates.find((c) => c.certificate === 'ed')!.notAfter).toBe(ca.notAfter)

    // rotationPolicy Never keeps the key on renewal; unset (Always) replaces it.
    const keyOf = (s: string) => fs.readFileSync(f(s, 'tls.key'), 'utf8')
    const [caKey, edKey, webKey] = [keyOf('ca'), keyOf('ed-tls'), keyOf('web-tls')]
    const renewed = await applyManifests({files: [file], outDir: target, renew: ['ca', 'ed', 'apps/web']})
    expect(renewed.certificates.map((c) => [c.certificate, c.action, c.keyReused])).toEqual([
      ['ca', 'renewed', true],
      ['web', 'renewed', false],
      ['ed', 'renewed', true],
    ])
    expect([keyOf('ca'), keyOf('ed-tls')]).toEqual([caKey, edKey])
    expect(keyOf('web-tls')).not.toBe(webKey)
    // The leaf signed before the CA's renewal still verifies: the CA kept its key.
    expect(openssl(['verify', '-CAfile', f('ca', 'tls.crt'), f('ed-tls', 'tls.crt')], dir).code).toBe(0)
  }, 120_000)

  it('renews a certificate once it is inside renewBefore', async () => {
    const file = write(
      'due.yaml',
      `${ISSUERS}---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: due, namespace: apps}
spec:
  secretName: due
  commonName: due
  duration: 2h
  renewBefore: 30m
  privateKey: {algorithm: ECDSA}
  issuerRef: {name: ca}
`,
    )
    const target = path.join(dir, 'due')
    const now = new Date()
    await applyManifests({files: [file], outDir: target, now})
    const at = (minutes: number) => new Date(now.getTime() + minutes * 60_000)
    expect((await applyManifests({files: [file], outDir: target, now: at(80)})).certificates.map((c) => c.action)).toEqual(['unchanged', 'unchanged'])
    const due = await applyManifests({files: [file], outDir: target, now: at(91)})
    expect(due.certificates.map((c) => c.action)).toEqual(['unchanged', 'renewed'])
    expect(due.certificates[1].reason).toMatch(/^due since /)
  }, 120_000)
})
