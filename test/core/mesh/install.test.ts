import {execFileSync} from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as tls from 'node:tls'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type InstallResult, installMesh, planMesh} from '../../../src/core/mesh/plan.js'
import {rmTemp, tempDir} from '../../helpers/cli.js'
import {listFiles, readNodes, TOPOLOGIES, unpackBundles} from '../../helpers/mesh.js'

/**
 * The four supported topologies installed once each; every certificate checked by openssl,
 * a real mutual-TLS handshake with Node's tls, the bundles unpacked with tar.
 */
let root: string
const installs = new Map<number, {dir: string; result: InstallResult}>()

beforeAll(async () => {
  root = tempDir('mtlsctl-mesh-install-')
  for (const [count, file] of Object.entries(TOPOLOGIES)) {
    const dir = path.join(root, `out-${count}`)
    const planned = await planMesh({topologyFile: file, outDir: dir})
    installs.set(Number(count), {dir, result: await installMesh(planned, {outDir: dir})})
  }
})
afterAll(() => rmTemp(root))

const openssl = (...args: string[]) => execFileSync('openssl', args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})

function agentCertificates(dir: string): string[] {
  return fs
    .readdirSync(path.join(dir, 'certs'))
    .filter((f) => /-(server|client)-consul-\d+\.pem$/.test(f))
    .sort()
}

describe('mesh install: Consul certificates', () => {
  for (const [count, file] of Object.entries(TOPOLOGIES)) {
    it(`${count} nodes: every agent certificate verifies against the Consul CA, with Consul's SANs`, () => {
      const {dir} = installs.get(Number(count))!
      const nodes = readNodes(file)
      const certs = agentCertificates(dir)
      expect(certs).toHaveLength(nodes.length)
      const ca = path.join(dir, 'certs/consul-agent-ca.pem')
      const verified = openssl('verify', '-CAfile', ca, ...certs.map((c) => path.join(dir, 'certs', c)))
      expect(verified.trim().split('\n')).toEqual(certs.map((c) => `${path.join(dir, 'certs', c)}: OK`))

      for (const dc of [...new Set(nodes.map((n) => n.datacenter))]) {
        const inDc = nodes.filter((n) => n.datacenter === dc)
        const servers = inDc.filter((n) => n.components.includes('zookeeper')).length
        expect(certs.filter((c) => c.startsWith(`${dc}-server-consul-`))).toHaveLength(servers)
        expect(certs.filter((c) => c.startsWith(`${dc}-client-consul-`))).toHaveLength(inDc.length - servers)
      }
      for (const cert of certs) {
        const [, dc, role] = /^(.+)-(server|client)-consul-\d+\.pem$/.exec(cert)!
        const text = openssl('x509', '-in', path.join(dir, 'certs', cert), '-noout', '-ext', 'subjectAltName')
        expect(text.split('\n')[1].trim(), cert).toBe(`DNS:${role}.${dc}.consul, DNS:localhost, IP Address:127.0.0.1`)
        const key = crypto.createPrivateKey(fs.readFileSync(path.join(dir, 'certs', cert.replace(/\.pem$/, '-key.pem'))))
        expect(key.asymmetricKeyType).toBe('ec')
        expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1')
        const x509 = new crypto.X509Certificate(fs.readFileSync(path.join(dir, 'certs', cert)))
        expect(x509.checkPrivateKey(key)).toBe(true)
        const days = (Date.parse(x509.validTo) - Date.parse(x509.validFrom)) / 86_400_000
        expect(days).toBe(365)
      }
      const caText = openssl('x509', '-in', ca, '-noout', '-subject', '-ext', 'basicConstraints')
      expect(caText).toMatch(/subject=CN = Consul Agent CA \d+/)
      expect(caText).toContain('CA:TRUE')
      const caCert = new crypto.X509Certificate(fs.readFileSync(ca))
      expect((Date.parse(caCert.validTo) - Date.parse(caCert.validFrom)) / 86_400_000).toBe(1825)
    })
  }

  it('a server certificate (server.dc-1.consul) and a client certificate complete a mutual TLS round trip', async () => {
    const {dir} = installs.get(13)!
    const read = (f: string) => fs.readFileSync(path.join(dir, 'certs', f))
    const ca = read('consul-agent-ca.pem')
    let peerCn = ''
    const server = tls.createServer(
      {key: read('dc-1-server-consul-0-key.pem'), cert: read('dc-1-server-consul-0.pem'), ca, requestCert: true, rejectUnauthorized: true},
      (socket) => {
        peerCn = String(socket.getPeerCertificate().subject?.CN)
        socket.once('data', (data) => socket.end(`pong:${data}`))
      },
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const {port} = server.address() as {port: number}
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = tls.connect(
          {host: '127.0.0.1', port, servername: 'server.dc-1.consul', ca, key: read('dc-1-client-consul-0-key.pem'), cert: read('dc-1-client-consul-0.pem')},
          () => socket.write('ping'),
        )
        let text = ''
        socket.setEncoding('utf8').on('data', (d) => (text += d))
        socket.on('end', () => resolve(text))
        socket.on('error', reject)
      })
      expect(answer).toBe('pong:ping')
      expect(peerCn).toBe('client.dc-1.consul')

      // verify_server_hostname: a client certificate cannot pose as a server.
      const posing = tls.createServer({key: read('dc-1-client-consul-1-key.pem'), cert: read('dc-1-client-consul-1.pem')})
      await new Promise<void>((resolve) => posing.listen(0, '127.0.0.1', resolve))
      const posingPort = (posing.address() as {port: number}).port
      const refused = await new Promise<Error>((resolve) => {
        const socket = tls.connect({host: '127.0.0.1', port: posingPort, servername: 'server.dc-1.consul', ca}, () => resolve(new Error('connected')))
        socket.on('error', resolve)
      })
      posing.close()
      expect((refused as NodeJS.ErrnoException).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID')
    } finally {
      server.close()
    }
  })
})

describe('mesh install: files and bundles', () => {
  it('makes the out dir 0700 and every file with key material 0600', () => {
    const {dir, result} = installs.get(13)!
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700)
    expect(listFiles(dir)).toEqual([...result.files].sort())
    for (const rel of result.files) {
      const mode = fs.statSync(path.join(dir, rel)).mode & 0o777
      const text = fs.readFileSync(path.join(dir, rel)).toString('latin1')
      const secret = /PRIVATE KEY|"encrypt"|ENCRYPT_DATA/.test(text) || rel === 'gossip.key' || rel.endsWith('.tar.gz')
      expect(mode, rel).toBe(secret ? 0o600 : 0o644)
    }
    const gossip = Buffer.from(fs.readFileSync(path.join(dir, 'gossip.key'), 'utf8').trim(), 'base64')
    expect(gossip).toHaveLength(32)
    const plan = fs.readFileSync(path.join(dir, 'plan.json'), 'utf8')
    expect(plan).not.toContain(gossip.toString('base64'))
    expect(plan).not.toContain('PRIVATE KEY')
  })

  it('gives each node a bundle with its own key only, the CA key, its config, rules and runbook', () => {
    const {dir} = installs.get(13)!
    const unpacked = path.join(root, 'unpacked')
    const allKeys = fs.readdirSync(path.join(dir, 'certs')).filter((f) => f.endsWith('-key.pem') && f !== 'consul-agent-ca-key.pem')
    for (const node of readNodes(TOPOLOGIES[13])) {
      const target = path.join(unpacked, node.ip)
      fs.mkdirSync(target, {recursive: true})
      execFileSync('tar', ['-xzf', path.join(dir, 'bundles', `${node.ip}.tar.gz`), '-C', target])
      const files = listFiles(target)
      const role = node.components.includes('zookeeper') ? 'server' : 'client'
      const own = files.filter((f) => f.endsWith('-key.pem') && f !== 'consul-agent-ca-key.pem')
      expect(own, node.ip).toHaveLength(1)
      expect(own[0]).toMatch(new RegExp(`^dc-1-${role}-consul-\\d+-key\\.pem$`))
      expect(allKeys).toContain(own[0])
      expect(files).toEqual(
        [
          'apigee-mtls.conf', 'consul-agent-ca.pem', 'consul-agent-ca-key.pem', own[0].replace('-key.pem', '.pem'), own[0],
          'consul-agent.json', 'iptables.rules', 'runbook.md', 'port-report.json',
        ].sort(),
      )
      // The key is the one of the node's own certificate, and the same as in certs/.
      expect(fs.readFileSync(path.join(target, own[0]), 'utf8')).toBe(fs.readFileSync(path.join(dir, 'certs', own[0]), 'utf8'))
      for (const secret of ['apigee-mtls.conf', 'consul-agent-ca-key.pem', own[0], 'consul-agent.json']) {
        expect(fs.statSync(path.join(target, secret)).mode & 0o777, `${node.ip} ${secret}`).toBe(0o600)
      }
      const agent = JSON.parse(fs.readFileSync(path.join(target, 'consul-agent.json'), 'utf8'))
      expect(agent).toMatchObject({datacenter: 'dc-1', server: role === 'server', bind_addr: node.ip, connect: {enabled: true}, verify_server_hostname: true})
      expect(agent.cert_file).toBe(`/opt/apigee/mtls-bundle/${own[0].replace('-key.pem', '.pem')}`)
      const report = JSON.parse(fs.readFileSync(path.join(target, 'port-report.json'), 'utf8'))
      expect(Object.keys(report)).toEqual([node.ip])
    }
  })

  it('writes the apigee-mtls configuration and Consul agent configs from the plan', () => {
    const {dir} = installs.get(13)!
    const conf = fs.readFileSync(path.join(dir, 'config/apigee-mtls-dc-1.conf'), 'utf8')
    const gossip = fs.readFileSync(path.join(dir, 'gossip.key'), 'utf8').trim()
    expect(conf).toContain(`ALL_IP="${readNodes(TOPOLOGIES[13]).map((n) => n.ip).join(' ')}"`)
    expect(conf).toContain('ZK_MTLS_HOSTS="10.0.0.1 10.0.0.2 10.0.0.3"')
    expect(conf).toContain('LDAP_MTLS_HOSTS="10.0.0.4 10.0.0.5"')
    expect(conf).toContain('PG_MTLS_HOSTS="10.0.0.12 10.0.0.13"')
    expect(conf).toContain(`ENCRYPT_DATA="${gossip}"`)
    expect(conf).toContain('PATH_TO_CA_CERT="/opt/apigee/mtls-bundle/consul-agent-ca.pem"')
    expect(conf).toContain('PATH_TO_CA_KEY="/opt/apigee/mtls-bundle/consul-agent-ca-key.pem"')
    expect(conf).not.toContain('MULTI_DC')
    expect(conf).not.toContain('SMI_PROXY')

    const nodes = path.join(root, 'nodes-13')
    unpackBundles(dir, nodes)
    const server = JSON.parse(fs.readFileSync(path.join(nodes, '10.0.0.1/consul-agent.json'), 'utf8'))
    expect(server).toMatchObject({server: true, bootstrap_expect: 3, retry_join: ['10.0.0.2', '10.0.0.3'], encrypt: gossip, verify_incoming: true, verify_outgoing: true})
    const client = JSON.parse(fs.readFileSync(path.join(nodes, '10.0.0.8/consul-agent.json'), 'utf8'))
    expect(client.server).toBe(false)
    expect(client.bootstrap_expect).toBeUndefined()
    expect(client.retry_join).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3'])

    const twoDc = installs.get(12)!.dir
    const dc2 = fs.readFileSync(path.join(twoDc, 'config/apigee-mtls-dc-2.conf'), 'utf8')
    for (const line of [
      'APIGEE_MTLS_MULTI_DC_ENABLE="y"',
      'REGION="dc-2"',
      'MTLS_LOCAL_REGION_IP="10.0.2.1 10.0.2.2 10.0.2.3"',
      'MTLS_REMOTE_REGION_1_NAME="dc-1"',
      'MTLS_REMOTE_REGION_1_IP="10.0.1.1 10.0.1.2 10.0.1.3"',
    ]) expect(dc2).toContain(line)
    const twoDcNodes = path.join(root, 'nodes-12')
    unpackBundles(twoDc, twoDcNodes)
    const dc2server = JSON.parse(fs.readFileSync(path.join(twoDcNodes, '10.0.2.2/consul-agent.json'), 'utf8'))
    expect(dc2server).toMatchObject({datacenter: 'dc-2', bootstrap_expect: 3, retry_join_wan: ['10.0.1.1', '10.0.1.2', '10.0.1.3']})
    expect(dc2server.cert_file).toMatch(/dc-2-server-consul-1\.pem$/)
  })

  it('writes the port report in the shape of apigee-mtls report, and an ordered runbook', () => {
    const {dir} = installs.get(13)!
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'port-report.json'), 'utf8'))
    expect(Object.keys(report)).toHaveLength(13)
    expect(report['10.0.0.1'].datacenter_member).toBe('dc-1')
    expect(report['10.0.0.1'].daemons).toContain('consul-server')
    expect(report['10.0.0.1'].listeners).toContainEqual({purpose: 'zookeeper-ingress-proxy', ip_address: '10.0.0.1', port: 10000})
    expect(report['10.0.0.1'].listeners).toContainEqual({purpose: 'consul-server-rpc', ip_address: '10.0.0.1', port: 8300})
    expect(report['10.0.0.13'].listeners).toContainEqual({purpose: 'egress-proxy', ip_address: '10.0.0.13', port: 10712})

    const nodes = path.join(root, 'nodes-runbook')
    unpackBundles(dir, nodes)
    const runbook = fs.readFileSync(path.join(nodes, '10.0.0.8/runbook.md'), 'utf8')
    const order = [
      'systemctl stop firewalld',
      'iptables-restore <',
      'apigee-all stop',
      'apigee-service apigee-mtls install',
      'apigee-service apigee-mtls setup -f /opt/apigee/mtls-bundle/apigee-mtls.conf',
      'apigee-service apigee-mtls start',
      'apigee-all start',
      'iptables.sh validate',
      'consul operator raft list-peers',
    ].map((step) => runbook.indexOf(step))
    expect(order.every((at) => at >= 0)).toBe(true)
    expect([...order].sort((a, b) => a - b)).toEqual(order)
    expect(runbook).toContain('should list 3 voters in dc-1: 10.0.0.1, 10.0.0.2, 10.0.0.3')
    const cluster = fs.readFileSync(path.join(dir, 'runbook.md'), 'utf8')
    expect(cluster).toContain('scp bundles/10.0.0.13.tar.gz root@10.0.0.13:')
    expect(cluster).toContain('Consul servers first: 10.0.0.1, 10.0.0.2, 10.0.0.3; then 10.0.0.4,')
  })
})
