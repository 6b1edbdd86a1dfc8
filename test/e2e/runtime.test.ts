import {execFile} from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {addAlias} from '../../src/core/aliases.js'
import {encodePrivateKey} from '../../src/core/ca/keys.js'
import {createEnvironment} from '../../src/core/environments.js'
import {createKeystore} from '../../src/core/keystores.js'
import {FileStore} from '../../src/core/store/index.js'
import {DAY, makeCa, makeCert, type TestCert} from '../helpers/ca.js'
import {rmTemp, runCli, runProcess, tempDir} from '../helpers/cli.js'
import {freePort, mtlsBackend, NGINX, startNginx, type Nginx} from '../helpers/nginx.js'
import {startOpensslServer, type OpensslServer} from '../helpers/openssl.js'
import {call, startRuntime, type RunningRuntime} from '../helpers/runtime.js'

/**
 * `mtlsctl runtime start` against real peers: Debian's nginx as the seed article's mTLS
 * backend (and broken variants of it), `openssl s_server -Verify 1 -verify_return_error`,
 * curl as the client. Replies are checked byte for byte against the seed's and Envoy's texts.
 */
const SEED_503 =
  'upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED'
const tlsReply = (code: number, name: string) =>
  `upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS error: ${code}:SSL routines:OPENSSL_internal:${name}`
const HELLO = '{"message": "Hello world!"}'
const exec = promisify(execFile)
/** examples/archives/runtime's helloworld, plus a slow download for the in-flight check. */
const HELLOWORLD_CONFIG = `basepath: /helloworld
target:
  target_server_id: mymtlstarget
operations:
  - id: root
    http_match:
      - path_template: "/"
        method: GET
  - id: mTLSOperation
    target:
      target_server_id: "mymtlstarget"
    http_match:
      - path_template: "/foo"
        method: GET
  - id: slow
    http_match:
      - path_template: "/slow"
        method: GET
`

if (!NGINX) console.log('SKIPPED test/e2e/runtime.test.ts: nginx is not installed (scripts/test.sh installs it).')

/** The serial as nginx's $ssl_client_serial prints it: the magnitude's bytes in hex (an even number of digits). */
const serialOf = (pem: string) => {
  const hex = new crypto.X509Certificate(pem).serialNumber.replace(/^0+/, '').toUpperCase()
  return hex.length % 2 === 1 ? `0${hex}` : hex
}

describe.skipIf(!NGINX)('mtlsctl runtime against nginx, openssl s_server and curl', () => {
  let dir: string
  let home: string
  let certs: string
  let gateway: TestCert
  let gateway2: TestCert
  let backend: Nginx
  let expiredBackend: Nginx
  let tls13Backend: Nginx
  let sserver: OpensslServer
  let closedPort: number
  let runtime: RunningRuntime
  let archiveV1: string
  let archiveV2: string

  const write = (name: string, data: string, mode = 0o644) => {
    fs.writeFileSync(path.join(certs, name), data, {mode})
    return path.join(certs, name)
  }

  /** An archive source folder: one proxy per target server (basepath /NAME), plus the seed's helloworld. */
  function archive(name: string, keyAlias: string): string {
    const root = path.join(dir, name, 'src/main/apigee')
    const ssl = (extra: object) => ({enabled: true, clientAuthEnabled: true, keyStore: 'mtls_keystore', keyAlias, trustStore: 'mtls_truststore', ignoreValidationErrors: false, ...extra})
    const targets = [
      {name: 'mymtlstarget', host: '127.0.0.1', port: backend.port, isEnabled: true, sSLInfo: ssl({protocols: ['1.2', '1.3']}), protocol: 'HTTP'},
      {name: 'expired', host: '127.0.0.1', port: expiredBackend.port, isEnabled: true, sSLInfo: ssl({}), protocol: 'HTTP'},
      {name: 'otherca', host: '127.0.0.1', port: backend.port, isEnabled: true, sSLInfo: ssl({trustStore: 'ref://other_truststore_ref'}), protocol: 'HTTP'},
      {name: 'noclient', host: '127.0.0.1', port: backend.port, isEnabled: true, sSLInfo: {enabled: true, trustStore: 'mtls_truststore'}, protocol: 'HTTP'},
      {name: 'sserver13', host: '127.0.0.1', port: sserver.port, isEnabled: true, sSLInfo: {enabled: true, trustStore: 'mtls_truststore'}, protocol: 'HTTP'},
      {name: 'sserver12', host: '127.0.0.1', port: sserver.port, isEnabled: true, sSLInfo: {enabled: true, trustStore: 'mtls_truststore', protocols: ['1.2']}, protocol: 'HTTP'},
      {name: 'tls12', host: '127.0.0.1', port: tls13Backend.port, isEnabled: true, sSLInfo: ssl({protocols: ['1.2']}), protocol: 'HTTP'},
      {name: 'disabled', host: '127.0.0.1', port: backend.port, isEnabled: false, sSLInfo: ssl({}), protocol: 'HTTP'},
      {name: 'refused', host: '127.0.0.1', port: closedPort, isEnabled: true, protocol: 'HTTP'},
    ]
    fs.mkdirSync(path.join(root, 'environments/dev'), {recursive: true})
    fs.writeFileSync(path.join(root, 'environments/dev/targetservers.json'), JSON.stringify(targets, null, 2))
    const proxies = ['helloworld', ...targets.slice(1).map((t) => t.name)]
    fs.writeFileSync(path.join(root, 'environments/dev/deployments.json'), JSON.stringify({proxies: proxies.map((name) => ({name}))}))
    for (const t of targets.slice(1)) {
      fs.mkdirSync(path.join(root, 'apiproxies', t.name), {recursive: true})
      fs.writeFileSync(
        path.join(root, 'apiproxies', t.name, 'config.yaml'),
        `basepath: /${t.name}\noperations:\n  - id: all\n    target:\n      target_server_id: ${t.name}\n    http_match:\n      - path_template: "/**"\n`,
      )
    }
    fs.mkdirSync(path.join(root, 'apiproxies/helloworld'), {recursive: true})
    fs.writeFileSync(path.join(root, 'apiproxies/helloworld/config.yaml'), HELLOWORLD_CONFIG)
    return path.join(dir, name, 'src')
  }

  const cli = (args: string[]) => runCli(args, {home, cwd: certs})

  beforeAll(async () => {
    dir = tempDir('mtlsctl-runtime-')
    home = path.join(dir, 'state')
    certs = path.join(dir, 'certs')
    fs.mkdirSync(certs)
    const ca = await makeCa('RootCA')
    const other = await makeCa('OtherCA')
    const server = await makeCert(ca, 'localhost', {usage: 'server', sans: 'DNS:localhost,IP:127.0.0.1'})
    const expired = await makeCert(ca, 'localhost', {usage: 'server', sans: 'DNS:localhost,IP:127.0.0.1', notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - DAY)})
    gateway = await makeCert(ca, 'gateway', {usage: 'client'})
    gateway2 = await makeCert(ca, 'gateway-rotated', {usage: 'client'})
    const stranger = await makeCert(other, 'stranger', {usage: 'client'})
    const files = {
      ca: write('RootCA.pem', ca.pem),
      cert: write('server.pem', server.pem),
      key: write('server.key', encodePrivateKey(server.privateKey), 0o600),
      expiredCert: write('expired.pem', expired.pem),
      expiredKey: write('expired.key', encodePrivateKey(expired.privateKey), 0o600),
    }
    fs.writeFileSync(path.join(dir, 'slow.bin'), Buffer.alloc(450 * 1024, 0x61))
    const slow = `location = /slow { alias ${dir}/slow.bin; default_type application/octet-stream; limit_rate 150k; }`
    backend = await startNginx(path.join(dir, 'nginx'), {server: mtlsBackend({cert: files.cert, key: files.key, clientCa: files.ca}, slow)})
    expiredBackend = await startNginx(path.join(dir, 'nginx-expired'), {server: mtlsBackend({cert: files.expiredCert, key: files.expiredKey, clientCa: files.ca})})
    tls13Backend = await startNginx(path.join(dir, 'nginx-tls13'), {server: mtlsBackend({cert: files.cert, key: files.key, clientCa: files.ca}, 'ssl_protocols TLSv1.3;')})
    sserver = await startOpensslServer(['-cert', files.cert, '-key', files.key, '-CAfile', files.ca, '-Verify', '1', '-verify_return_error', '-www'], certs)
    closedPort = await freePort()

    const store = new FileStore(home)
    await createEnvironment(store, 'myorg', 'dev')
    for (const ks of ['mtls_keystore', 'mtls_truststore', 'other_truststore']) await createKeystore(store, 'myorg', 'dev', ks)
    const keycert = (c: TestCert, name: string) => ({format: 'keycertfile' as const, cert: Buffer.from(c.pem), certFile: `${name}.pem`, key: Buffer.from(encodePrivateKey(c.privateKey)), keyFile: `${name}.key`})
    await addAlias(store, 'myorg', 'dev', 'mtls_keystore', 'mtls_alias', keycert(gateway, 'gateway'))
    await addAlias(store, 'myorg', 'dev', 'mtls_keystore', 'new_mtls_alias', keycert(gateway2, 'gateway2'))
    await addAlias(store, 'myorg', 'dev', 'mtls_keystore', 'stranger', keycert(stranger, 'stranger'))
    await addAlias(store, 'myorg', 'dev', 'mtls_truststore', 'rootca', {format: 'keycertfile', cert: Buffer.from(ca.pem), certFile: 'RootCA.pem'})
    await addAlias(store, 'myorg', 'dev', 'other_truststore', 'otherca', {format: 'keycertfile', cert: Buffer.from(other.pem), certFile: 'OtherCA.pem'})
    expect((await cli(['references', 'create', 'other_truststore_ref', '--refers', 'other_truststore', '--resource-type', 'TrustStore', '--organization', 'myorg', '--environment', 'dev'])).code).toBe(0)

    archiveV1 = archive('v1', 'mtls_alias')
    archiveV2 = archive('v2', 'new_mtls_alias')
    const deployed = await cli(['archives', 'deploy', '--source', archiveV1, '--organization', 'myorg', '--environment', 'dev'])
    expect(deployed.stderr).toContain('done.')
    // Two workers whatever the machine's CPUs: the multi-process runtime is what is tested.
    runtime = await startRuntime(home, ['--workers', '2'], {cwd: certs})
    await runtime.waitFor(/Serving myorg-dev: archive deployment/)
  }, 60_000)

  afterAll(async () => {
    await runtime?.stop()
    await Promise.all([backend?.stop(), expiredBackend?.stop(), tls13Backend?.stop(), sserver?.stop()])
    await cli(['runtime', 'stop'])
    rmTemp(dir)
  })

  it("Step 5: the seed's helloworld through the runtime, over HTTP, with the curl line it prints", async () => {
    const [url, curlLine] = runtime.stdout().trim().split('\n')
    expect(url).toBe(runtime.url)
    expect(curlLine).toBe(`curl -H 'Host: myorg-dev.apigee.net' http://127.0.0.1:${runtime.port}/helloworld`)
    const curl = await runProcess('sh', ['-c', `${curlLine} -sS`], {cwd: certs})
    expect(curl.stdout).toBe(HELLO)
    const foo = await call(runtime.port, '/helloworld/foo?x=1')
    expect(foo).toMatchObject({status: 200, body: HELLO})
    // The client certificate nginx saw is the key alias's.
    await backend.waitForLine(`${serialOf(gateway.pem)} /foo?x=1 200`)
  })

  it('routes as configurable proxies do: a path no operation matches, or no basepath, is a 404 with an empty body', async () => {
    for (const p of ['/helloworld/nothing-here', '/unknown']) {
      const reply = await call(runtime.port, p)
      expect(reply.status).toBe(404)
      expect(reply.body).toBe('')
    }
    expect((await call(runtime.port, '/helloworld/foo', 'myorg-dev.apigee.net', 'POST')).status).toBe(404)
  })

  it("the backend's expired certificate: the seed's 503, byte for byte", async () => {
    const mark = runtime.stderr().length
    const reply = await call(runtime.port, '/expired')
    expect(reply.status).toBe(503)
    expect(reply.headers['content-type']).toBe('text/plain')
    expect(reply.body).toBe(SEED_503)
    await runtime.waitFor(new RegExp(`GET myorg-dev.apigee.net /expired 503 target=expired upstream=127.0.0.1:${expiredBackend.port} \\d+ms failure="TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED \\(CERT_HAS_EXPIRED`), mark)
  })

  it("a truststore (through ref://) holding another CA: the seed's 503, byte for byte", async () => {
    const reply = await call(runtime.port, '/otherca')
    expect(reply).toMatchObject({status: 503, body: SEED_503})
  })

  it("no client certificate in front of nginx: nginx's own 400 reaches the client untouched", async () => {
    const reply = await call(runtime.port, '/noclient')
    expect(reply.status).toBe(400)
    expect(reply.headers['content-type']).toBe('text/html')
    expect(reply.body).toContain('<center>No required SSL certificate was sent</center>')
  })

  it('openssl s_server -Verify 1 -verify_return_error aborts the handshake: 503 naming its alert (TLS 1.3 and 1.2)', async () => {
    expect((await call(runtime.port, '/sserver13')).body).toBe(tlsReply(268436572, 'TLSV1_ALERT_CERTIFICATE_REQUIRED'))
    expect((await call(runtime.port, '/sserver12')).body).toBe(tlsReply(268436496, 'SSLV3_ALERT_HANDSHAKE_FAILURE'))
  })

  it('protocols ["1.2"] against a TLS-1.3-only nginx: 503 naming the protocol failure', async () => {
    const reply = await call(runtime.port, '/tls12')
    expect(reply).toMatchObject({status: 503, body: tlsReply(268436526, 'TLSV1_ALERT_PROTOCOL_VERSION')})
  })

  it('a disabled target server: no healthy upstream; a refused connection: connection failure without a TLS part', async () => {
    expect(await call(runtime.port, '/disabled')).toMatchObject({status: 503, body: 'no healthy upstream'})
    expect(await call(runtime.port, '/refused')).toMatchObject({
      status: 503,
      body: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
    })
  })

  it('rotation without restart: the next request presents the new alias, the request in flight is not cut', async () => {
    const inFlight = call(runtime.port, '/helloworld/slow')
    // The slow download has started on the old configuration when nginx has its connection.
    const mark = runtime.stderr().length
    const deployed = await cli(['archives', 'deploy', '--source', archiveV2, '--organization', 'myorg', '--environment', 'dev'])
    expect(deployed.code).toBe(0)
    await runtime.waitFor(/Serving myorg-dev: archive deployment \S+ \(/, mark)
    const reply = await call(runtime.port, '/helloworld')
    expect(reply).toMatchObject({status: 200, body: HELLO})
    await backend.waitForLine(`${serialOf(gateway2.pem)} / 200`)
    const slow = await inFlight
    expect(slow.status).toBe(200)
    expect(slow.body.length).toBe(450 * 1024)
    await backend.waitForLine(`${serialOf(gateway.pem)} /slow 200`)
    // It was in flight across the switch: it ended after the new deployment was served.
    expect(backend.accessLog().indexOf(`${serialOf(gateway.pem)} /slow 200`)).toBeGreaterThan(backend.accessLog().indexOf(`${serialOf(gateway2.pem)} / 200`))
  }, 30_000)

  it('HTTPS with --tls-cert and --detach: the seed\'s own curl with --resolve; then an alias deleted under the deployment gives the seed\'s 503', async () => {
    await runtime.stop()
    expect((await cli(['ca', 'create', 'RuntimeCA', '--subject', '/CN=my-ca'])).code).toBe(0)
    expect((await cli(['certs', 'create', 'myorg-dev', '--ca', 'RuntimeCA', '--subject', '/CN=myorg-dev.apigee.net', '--san', 'DNS:myorg-dev.apigee.net', '--usage', 'server'])).code).toBe(0)
    const port = await freePort()
    const started = await cli(['runtime', 'start', '--detach', '--workers', '2', '--port', String(port), '--tls-cert', 'myorg-dev'])
    expect(started.code, started.stderr).toBe(0)
    const [url, curlLine] = started.stdout.trim().split('\n')
    expect(url).toBe(`https://127.0.0.1:${port}/`)
    expect(curlLine).toBe(`curl --resolve myorg-dev.apigee.net:${port}:127.0.0.1 --cacert ${path.join(certs, 'RuntimeCA.pem')} https://myorg-dev.apigee.net:${port}/helloworld`)
    const curl = await exec('curl', ['-sS', '--resolve', `myorg-dev.apigee.net:${port}:127.0.0.1`, '--cacert', 'RuntimeCA.pem', `https://myorg-dev.apigee.net:${port}/helloworld`], {cwd: certs})
    expect(curl.stdout).toBe(HELLO)
    const status = await cli(['runtime', 'status', '--format', 'json'])
    expect(JSON.parse(status.stdout)).toMatchObject({url, https: true, serving: [{organization: 'myorg', environment: 'dev', proxies: expect.arrayContaining([{name: 'helloworld', basepath: '/helloworld'}])}]})

    expect((await cli(['aliases', 'delete', 'new_mtls_alias', '--keystore', 'mtls_keystore', '--organization', 'myorg', '--environment', 'dev', '--force'])).code).toBe(0)
    const log = path.join(home, 'runtime.log')
    // Wait for the runtime to read the change: it says so in its log.
    for (let i = 0; !fs.readFileSync(log, 'utf8').includes('cannot connect: alias'); i++) {
      if (i > 500) throw new Error(fs.readFileSync(log, 'utf8'))
      await new Promise((r) => setTimeout(r, 20))
    }
    const broken = await exec('curl', ['-sS', '-w', '\\n%{http_code}', '--resolve', `myorg-dev.apigee.net:${port}:127.0.0.1`, '--cacert', 'RuntimeCA.pem', `https://myorg-dev.apigee.net:${port}/helloworld`], {cwd: certs})
    expect(broken.stdout).toBe(`${SEED_503}\n503`)
    expect((await cli(['runtime', 'stop'])).stderr).toMatch(/Stopped the runtime at https:\/\/127\.0\.0\.1:\d+\/ \(pid \d+\)\./)
    expect((await cli(['runtime', 'status'])).code).toBe(1)
  }, 30_000)
})
