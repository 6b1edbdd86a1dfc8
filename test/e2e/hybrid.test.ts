import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseAllDocuments} from 'yaml'

import {networkPolicies} from '../../src/core/hybrid/policies.js'
import {PORT_ROWS} from '../../src/core/hybrid/ports.js'
import {BIN, cliEnv, rmTemp, runCli, runProcess, tempDir} from '../helpers/cli.js'
import {createNetns, type Netns, netnsUnavailable} from '../helpers/netns.js'
import {makeProbePki} from '../helpers/probe-peers.js'

/** The hybrid commands as a user runs them; `hybrid check` against listeners in a namespace of its own. */
let dir: string
beforeAll(() => {
  dir = tempDir('mtlsctl-hybrid-')
})
afterAll(() => rmTemp(dir))
const cli = (args: string[]) => runCli(args, {home: path.join(dir, 'state'), cwd: dir})

describe('hybrid ports', () => {
  it('prints every row of the seed, in its order, as JSON and as a table', async () => {
    const json = await cli(['hybrid', 'ports', '--format', 'json'])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toEqual(PORT_ROWS)
    const table = await cli(['hybrid', 'ports'])
    expect(table.stdout.split('\n')[0].split(/\s{2,}/)).toEqual(['DIRECTION', 'SOURCE', 'DESTINATION', 'PROTOCOL/PORTS', 'SECURITY', 'DESCRIPTION'])
    expect(table.stdout.trimEnd().split('\n')).toHaveLength(PORT_ROWS.length + 1)
  })

  it('filters: --destination cassandra --security mtls', async () => {
    const r = await cli(['hybrid', 'ports', '--destination', 'cassandra', '--security', 'mtls', '--format', 'value(source,protocolPorts,security)'])
    expect(r.stdout).toBe('MART\tTCP/9042;TCP/9142\tmTLS\nMessage Processor\tTCP/9042;TCP/9142\tmTLS\nCassandra\tTCP/7001\tmTLS\nSynchronizer\tTCP/9042;TCP/9142\tmTLS\n')
    const bad = await cli(['hybrid', 'ports', '--security', 'strong'])
    expect(bad.code).toBe(2)
  })
})

describe('hybrid network-policies', () => {
  it('prints YAML documents for kubectl apply, the engine\'s policies, and writes them with --out', async () => {
    const r = await cli(['hybrid', 'network-policies', '--namespace', 'apigee-rt'])
    expect(r.code).toBe(0)
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS())
    expect(docs).toEqual(JSON.parse(JSON.stringify(networkPolicies({namespace: 'apigee-rt'}))))
    expect(docs.every((d) => d.metadata.namespace === 'apigee-rt')).toBe(true)
    const out = path.join(dir, 'netpol.yaml')
    const w = await cli(['hybrid', 'network-policies', '--namespace', 'apigee-rt', '--out', out])
    expect(w.stdout).toBe('')
    expect(fs.readFileSync(out, 'utf8')).toBe(r.stdout)
  })

  it('--format gcloud: firewall rules between the node pools', async () => {
    const r = await cli(['hybrid', 'network-policies', '--format', 'gcloud', '--network', 'hybrid-vpc'])
    expect(r.code).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines.every((l) => l.startsWith('gcloud compute firewall-rules create apigee-hybrid-') && l.includes(' --network=hybrid-vpc '))).toBe(true)
    expect(lines[0]).toBe(
      "gcloud compute firewall-rules create apigee-hybrid-runtime-to-data --network=hybrid-vpc --direction=INGRESS --action=ALLOW --rules=tcp:7070,tcp:9042,tcp:9142 --source-tags=apigee-runtime --target-tags=apigee-data --description='MART to Cassandra; Message Processor to Cassandra; Synchronizer to Cassandra; Prometheus (metrics) to Cassandra'",
    )
    expect(lines).toContain("gcloud compute firewall-rules create apigee-hybrid-data-to-data --network=hybrid-vpc --direction=INGRESS --action=ALLOW --rules=tcp:7001 --source-tags=apigee-data --target-tags=apigee-data --description='Cassandra to Cassandra'")
    expect(lines.some((l) => l.includes('--direction=EGRESS --action=ALLOW --rules=tcp:443 --destination-ranges=0.0.0.0/0 --target-tags=apigee-runtime'))).toBe(true)
  })
})

const noNetns = netnsUnavailable()
describe.skipIf(noNetns !== undefined)(`hybrid check in a network namespace of its own${noNetns ? ` (skipped: ${noNetns})` : ''}`, () => {
  let ns: Netns
  beforeAll(async () => {
    makeProbePki(dir)
    ns = createNetns('mtlsctl-check')
    // Cassandra's 9142 as mTLS (client certificate required), 9042 plain TCP; 7000, 7001 and 7070 closed.
    await ns.start(
      ['openssl', 's_server', '-accept', '127.0.0.1:9142', '-cert', path.join(dir, 'my_server.pem'), '-key', path.join(dir, 'my_server.key'), '-Verify', '1', '-verify_return_error', '-CAfile', path.join(dir, 'RootCA.pem')],
      /ACCEPT/,
    )
    // A plain-text service answers a TLS ClientHello with its own protocol's error, as CQL does.
    const plain = "require('net').createServer((s) => { s.on('error', () => {}); s.once('data', () => s.end('ERROR: unsupported protocol\\n')) }).listen(9042, '127.0.0.1', () => console.log('LISTENING'))"
    await ns.start([process.execPath, '-e', plain], /LISTENING/)
  }, 60_000)
  afterAll(async () => {
    await ns?.remove()
  })

  it('cassandra: 9142 mTLS as the seed says, 9042 plain and 7001 closed differ; exit 14', async () => {
    const r = await runProcess(
      ns.exec[0],
      [...ns.exec.slice(1), process.execPath, BIN, 'hybrid', 'check', '127.0.0.1', '--component', 'cassandra', '--cert', 'my_gateway.pem', '--key', 'my_gateway.key', '--timeout', '5s'],
      {cwd: dir, env: cliEnv(path.join(dir, 'state'))},
    )
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe(
      [
        'cassandra at 127.0.0.1',
        'PORT  EXPECTED        OBSERVED   VERDICT  DETAIL',
        '7000  open or closed  closed     ok       connection refused',
        '7001  mTLS            closed     differs  connection refused',
        '7070  TLS             closed     differs  connection refused',
        '9042  mTLS            plain TCP  differs  the server does not speak TLS (ERR_SSL_WRONG_VERSION_NUMBER)',
        '9142  mTLS            mTLS       ok       client certificate CN=gateway accepted',
        '3 of 5 ports differ from the seed.',
        '',
      ].join('\n'),
    )
    expect(r.code).toBe(14)
  })
})
