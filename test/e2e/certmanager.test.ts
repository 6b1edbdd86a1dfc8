import * as fs from 'node:fs'
import * as path from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ROOT, rmTemp, runCli, runProcess, tempDir} from '../helpers/cli.js'
import {type RunningPeer, startEtcd, startNginx} from '../helpers/peers.js'

/**
 * The seed's manifests through the built CLI, then its peers for real: Debian's etcd 3.4 with
 * --client-cert-auth and etcdctl, etcd's HTTP gateway with curl, nginx with ssl_verify_client.
 */
const SEED = path.join(ROOT, 'test/fixtures/cert-manager/mtls-everywhere.yaml')
const isRoot = process.getuid?.() === 0
let dir: string
let pki: string
let home: string
const f = (secret: string, file: string) => path.join(pki, 'tls', secret, file)

beforeAll(async () => {
  dir = tempDir('mtlsctl-certmanager-e2e-')
  pki = path.join(dir, 'pki')
  home = path.join(dir, 'home')
  const r = await runCli(['certs', 'apply', '-f', SEED, '--out-dir', pki], {home})
  expect(r.stderr).toContain('Wrote 6 Secret(s)')
  expect(r.code).toBe(0)
}, 180_000)
afterAll(() => rmTemp(dir))

describe('certs apply, lint and describe (the built CLI)', () => {
  it('a second apply prints one unchanged line per Certificate; nothing secret on stdout', async () => {
    const r = await runCli(['certs', 'apply', '-f', SEED, '--out-dir', pki], {home})
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(
      ['selfsigned-ca', 'etcd-server', 'apisix-client', 'curl-client', 'upstream-server', 'apisix-server'].map((n) => `certificate.cert-manager.io/${n} unchanged\n`).join(''),
    )
    expect(r.stderr).toContain(`Skipped v1 Namespace tls (${SEED} (document 2)): mtlsctl takes cert-manager.io/v1 ClusterIssuer, Issuer and Certificate.\n`)
    expect(r.stderr).toContain('WARNING: Certificate tls/selfsigned-ca is a CA with no rotationPolicy (Always since cert-manager 1.18)')
    const json = await runCli(['certs', 'apply', '-f', SEED, '--out-dir', pki, '--format', 'json'], {home})
    const parsed = JSON.parse(json.stdout)
    expect(parsed.certificates.map((c: {action: string}) => c.action)).toEqual(Array(6).fill('unchanged'))
    expect(parsed.secrets).toBeUndefined()
    for (const out of [r.stdout, json.stdout]) {
      expect(out).not.toContain('PRIVATE KEY')
      expect(out).not.toContain('LS0tLS1CRUdJTi')
    }
    // Asked for: the Secret manifests, keys included.
    const shown = await runCli(['certs', 'apply', '-f', SEED, '--out-dir', pki, '--show-secrets', '--verbosity', 'error'], {home})
    expect(shown.stdout).toBe(fs.readFileSync(path.join(pki, 'secrets.yaml'), 'utf8'))
  }, 120_000)

  it('certs lint: the finding on stdout, exit 1', async () => {
    const r = await runCli(['certs', 'lint', '-f', SEED, '--expect-host', 'etcd-server=127.0.0.1'], {home})
    expect(r.code).toBe(1)
    expect(r.stdout).toBe(
      `${SEED} (document 3): Certificate tls/selfsigned-ca is a CA with no rotationPolicy (Always since cert-manager 1.18): each renewal replaces the CA key, and every certificate it signed stops verifying (the Apigee hybrid apigee-ca outage). Set spec.privateKey.rotationPolicy: Never.\n` +
        `${SEED} (document 5): Certificate tls/etcd-server does not name 127.0.0.1, the host its clients dial: it names DNS:etcd. Add 127.0.0.1 to spec.ipAddresses.\n`,
    )
    expect(r.stderr).toBe('ERROR: (mtlsctl.certs.lint) INVALID_ARGUMENT: 2 problem(s) found in the manifests.\n')
    const fixed = path.join(dir, 'fixed.yaml')
    fs.writeFileSync(fixed, fs.readFileSync(SEED, 'utf8').replace('  isCA: true\n', '  isCA: true\n  privateKey:\n    rotationPolicy: Never\n'))
    const clean = await runCli(['certs', 'lint', '-f', fixed], {home})
    expect([clean.code, clean.stdout, clean.stderr]).toEqual([0, '', 'No problems found in 6 Certificate(s).\n'])
  })

  it("certs describe of a Secret manifest prints cmctl inspect secret's sections", async () => {
    const docs = fs.readFileSync(path.join(pki, 'secrets.yaml'), 'utf8').split(/^---\n/m)
    const one = path.join(dir, 'etcd-secret.yaml')
    fs.writeFileSync(one, docs.find((d) => d.includes('name: etcd-secret'))!)
    const r = await runCli(['certs', 'describe', one], {home})
    expect(r.code).toBe(0)
    const lines = r.stdout.split('\n')
    expect(lines.slice(0, 9)).toEqual([
      'Valid for:',
      '\tDNS Names: ',
      '\t\t- etcd',
      '\tURIs: <none>',
      '\tIP Addresses: <none>',
      '\tEmail Addresses: <none>',
      '\tUsages: ',
      '\t\t- client auth',
      '\t\t- server auth',
    ])
    expect(r.stdout).toMatch(/\n\nValidity period:\n\tNot Before: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d UTC\n\tNot After: /)
    expect(r.stdout).toContain('\n\nIssued By:\n\tCommon Name:\tselfsigned-ca\n\tOrganization:\t<none>\n\tOrganizationalUnit:\t<none>\n\tCountry:\t<none>\n')
    expect(r.stdout).toContain('\n\nIssued For:\n\tCommon Name:\t<none>\n')
    expect(r.stdout).toMatch(/\n\nCertificate:\n\tSigning Algorithm:\tSHA256-RSA\n\tPublic Key Algorithm: \tRSA\n\tSerial Number:\t\d+\n\tFingerprints: \t([0-9A-F]{2}:){31}[0-9A-F]{2}\n\tIs a CA certificate: false\n\tCRL:\t<none>\n\tOCSP:\t<none>\n$/)
  })

  it('bad input through the CLI: the error names the file and document, exit 1, nothing written', async () => {
    const bad = path.join(dir, 'bad.yaml')
    fs.writeFileSync(bad, 'apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: x}\nspec:\n  commonName: x\n  issuerRef: {name: y}\n')
    const out = path.join(dir, 'never')
    const r = await runCli(['certs', 'apply', '-f', bad, '--out-dir', out], {home})
    expect([r.code, r.stdout, r.stderr]).toEqual([1, '', `ERROR: (mtlsctl.certs.apply) INVALID_ARGUMENT: ${bad} (document 1): Certificate x: spec.secretName is required.\n`])
    expect(fs.existsSync(out)).toBe(false)
  })
})

describe('etcd 3.4 with the etcd Secret and --client-cert-auth', () => {
  let etcd: RunningPeer
  beforeAll(async () => {
    etcd = await startEtcd(dir, {cert: f('etcd-secret', 'tls.crt'), key: f('etcd-secret', 'tls.key'), ca: f('etcd-secret', 'ca.crt')})
  }, 120_000)
  afterAll(async () => etcd?.stop())

  // etcd-server names only DNS:etcd (the Kubernetes Service): etcdctl dials that name, resolved
  // to 127.0.0.1 by an /etc/hosts of a mount namespace of its own (root only).
  const etcdctl = (args: string[], tls: string[]) => {
    const hosts = path.join(dir, 'hosts')
    fs.writeFileSync(hosts, '127.0.0.1 localhost etcd\n')
    const cmd = ['etcdctl', '--endpoints', `https://etcd:${etcd.port}`, '--dial-timeout', '3s', '--command-timeout', '5s', ...tls, ...args]
    const quoted = cmd.map((a) => `'${a}'`).join(' ')
    return runProcess('unshare', ['--mount', 'sh', '-c', `mount --bind '${hosts}' /etc/hosts && exec ${quoted}`], {cwd: dir, env: {...process.env, ETCDCTL_API: '3'}})
  }
  const apisix = () => ['--cacert', f('apisix-client-secret', 'ca.crt'), '--cert', f('apisix-client-secret', 'tls.crt'), '--key', f('apisix-client-secret', 'tls.key')]

  it.skipIf(!isRoot)('etcdctl with the apisix-client Secret puts and gets a key (needs root for its own mount namespace)', async () => {
    const put = await etcdctl(['put', '/apisix/routes/1', '{"uri":"/"}'], apisix())
    expect([put.code, put.stdout.trim()]).toEqual([0, 'OK'])
    const get = await etcdctl(['get', '/apisix/routes/1', '--print-value-only'], apisix())
    expect([get.code, get.stdout.trim()]).toEqual([0, '{"uri":"/"}'])
  }, 120_000)

  it.skipIf(!isRoot)('etcdctl with no client certificate is refused (needs root for its own mount namespace)', async () => {
    const r = await etcdctl(['get', '/apisix/routes/1'], ['--cacert', f('apisix-client-secret', 'ca.crt')])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('context deadline exceeded')
    await etcd.waitFor("tls: client didn't provide a certificate")
  }, 120_000)

  it("curl to etcd's HTTP gateway (/v3/kv/range) with the client certificate works; without it, no answer", async () => {
    const key = Buffer.from('/mtlsctl/gateway').toString('base64')
    const curl = (tls: string[], body: string, endpoint: string) =>
      runProcess('curl', ['-sS', '--resolve', `etcd:${etcd.port}:127.0.0.1`, '--cacert', f('curl-secret', 'ca.crt'), ...tls, '-X', 'POST', '-d', body, `https://etcd:${etcd.port}/v3/kv/${endpoint}`], {cwd: dir})
    const certs = ['--cert', f('apisix-client-secret', 'tls.crt'), '--key', f('apisix-client-secret', 'tls.key')]
    const put = await curl(certs, JSON.stringify({key, value: Buffer.from('hello').toString('base64')}), 'put')
    expect(put.code).toBe(0)
    expect(JSON.parse(put.stdout).header.revision).toBeDefined()
    const range = await curl(certs, JSON.stringify({key}), 'range')
    expect(range.code).toBe(0)
    const kvs = JSON.parse(range.stdout).kvs
    expect(kvs.map((kv: {key: string; value: string}) => [Buffer.from(kv.key, 'base64').toString(), Buffer.from(kv.value, 'base64').toString()])).toEqual([['/mtlsctl/gateway', 'hello']])
    const refused = await curl([], JSON.stringify({key}), 'range')
    expect(refused.code).not.toBe(0)
    expect(refused.stdout).toBe('')
  }, 120_000)
})

describe('nginx with the upstream Secret and ssl_verify_client on', () => {
  let nginx: RunningPeer
  beforeAll(async () => {
    nginx = await startNginx(
      dir,
      () => `    server_name upstream;
    ssl_certificate ${f('upstream-secret', 'tls.crt')};
    ssl_certificate_key ${f('upstream-secret', 'tls.key')};
    ssl_client_certificate ${f('upstream-secret', 'ca.crt')};
    ssl_verify_client on;
    location / { default_type application/json; return 200 '{ "hello": "world" }'; }`,
    )
  }, 120_000)
  afterAll(async () => nginx?.stop())

  const curl = (tls: string[]) =>
    runProcess('curl', ['-sS', '--resolve', `upstream:${nginx.port}:127.0.0.1`, '--cacert', f('curl-secret', 'ca.crt'), ...tls, '-w', '\n%{http_code}', `https://upstream:${nginx.port}/`], {cwd: dir})

  it('curl with the curl-client Secret gets 200 and the body', async () => {
    const r = await curl(['--cert', f('curl-secret', 'tls.crt'), '--key', f('curl-secret', 'tls.key')])
    expect([r.code, r.stdout]).toEqual([0, '{ "hello": "world" }\n200'])
  })

  it('curl without a client certificate gets 400', async () => {
    const r = await curl([])
    expect(r.code).toBe(0)
    expect(r.stdout.split('\n').at(-1)).toBe('400')
    expect(r.stdout).toContain('No required SSL certificate was sent')
  })
})
