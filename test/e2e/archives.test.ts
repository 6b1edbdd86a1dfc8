import {execFile} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {promisify} from 'node:util'
import {afterAll, beforeAll, beforeEach, expect, it} from 'vitest'

import {getApiProxy} from '../../src/core/archives/deployments.js'
import {FileStore} from '../../src/core/store/index.js'
import {backendSuite, type Backend} from '../helpers/backends.js'
import {BIN, failedDeployStderr, rmTemp, ROOT, tempDir, UUID} from '../helpers/cli.js'
import {expiredCertificate, seedStep1, snapshot} from '../helpers/pki.js'
import {craftZip, deflateBomb} from '../helpers/zip.js'

const EXAMPLES = path.join(ROOT, 'examples/archives')

/** The seed's four `operations describe` examples, in order, with its placeholders. */
function seedExamples(): string[] {
  const text = fs.readFileSync(path.join(ROOT, 'test/fixtures/seed/configurable-proxy-southbound-mtls.txt'), 'utf8')
  return [...text.matchAll(/operations describe \S+ (?:Using Apigee organization '\w+' )?(done: true .*? uuid: [0-9a-f-]+)/g)].map((m) => m[1])
}

/** gcloud's YAML on one line, as the seed's page flattens it. */
const flatten = (yaml: string) => yaml.trimEnd().replace(/\n\s*(?:- )?/g, ' ')

/**
 * Archive deployments and their operations, run twice with the same assertions: on the local
 * engine, and in remote mode against `mtlsctl emulator start` on another state folder. Remote
 * deployments expected to fail in the server's operation pass --skip-preflight (the preflight
 * would refuse them before any upload: test/e2e/remote.test.ts).
 */
let certs: string
let home: string
let b: Backend
const flags = ['--organization', 'myorg', '--environment', 'dev']
const cli = (args: string[], env: Record<string, string> = {}) => b.cli(args, {cwd: certs, env})
/** --skip-preflight in remote mode: the verdict of the server's operation, as in local mode. */
const serverVerdict = () => (b.kind === 'remote' ? ['--skip-preflight'] : [])
/** Remote: the archive uploads (PUTs) the emulator logged so far; locally none. */
const uploads = () => (b.emulator?.stderr() ?? '').split('\n').filter((l) => / PUT /.test(l))

beforeAll(async () => {
  certs = tempDir()
  seedStep1(certs)
  await expiredCertificate(certs)
})
afterAll(() => rmTemp(certs))

/** The state of every test: the seed's environment, keystores and aliases. */
async function setup(backend: Backend): Promise<void> {
  b = backend
  home = await b.setup()
  expect((await b.local(['environments', 'create', 'dev', '--organization', 'myorg'])).code).toBe(0)
  const setup = [
    ['keystores', 'create', 'mtls_keystore', ...flags],
    ['keystores', 'create', 'mtls_truststore', ...flags],
    ['keystores', 'create', 'docs-keystore', ...flags],
    ['keystores', 'create', 'expired-keystore', ...flags],
    ['aliases', 'add', 'mtls_alias', '--keystore', 'mtls_keystore', '--cert-file', 'my_gateway.pem', '--key-file', 'my_gateway.key', ...flags],
    ['aliases', 'add', 'rootca', '--keystore', 'mtls_truststore', '--cert-file', 'RootCA.pem', ...flags],
    ['aliases', 'add', 'expired', '--keystore', 'expired-keystore', '--cert-file', 'expired.pem', '--ignore-expiry-validation', ...flags],
  ]
  for (const args of setup) expect((await cli(args)).code, args.join(' ')).toBe(0)
}

const deploy = (example: string, extra: string[] = []) =>
  cli(['archives', 'deploy', ...flags, '--source', path.join(EXAMPLES, example, 'src'), ...extra])

backendSuite('archives deploy (built CLI): the seed\'s documented errors, word for word', (backend) => {
  beforeEach(() => setup(backend))

  const cases = ['missing-keystore', 'missing-alias', 'missing-truststore', 'expired-certificate']
  for (const [i, example] of cases.entries()) {
    it(`${example}: gcloud's failure lines and the seed's operations describe YAML`, async () => {
      const r = await deploy(example, serverVerdict())
      expect(r.code).toBe(1)
      expect(r.stdout).toBe('')
      const m = failedDeployStderr('mtlsctl.archives.deploy').exec(r.stderr)
      expect(m, r.stderr).not.toBeNull()
      const uuid = m![1]

      const described = await cli(['operations', 'describe', uuid], {MTLSCTL_ORGANIZATION: 'myorg'})
      expect(described.code).toBe(0)
      expect(described.stderr).toBe("Using Apigee organization 'myorg'\n")
      const archive = /targetResourceName: organizations\/myorg\/environments\/dev\/archiveDeployments\/([a-z0-9]{18})\n/.exec(described.stdout)![1]
      const seedUuid = /uuid: ([0-9a-f-]+)$/.exec(seedExamples()[i])![1]
      const expected = seedExamples()[i]
        .replaceAll('{org}', 'myorg')
        .replaceAll('{env}', 'dev')
        .replaceAll('{api}', 'helloworld')
        .replaceAll(seedUuid, uuid)
        .replace(/archiveDeployments\/\S+/, `archiveDeployments/${archive}`)
      expect(flatten(described.stdout)).toBe(expected)
      // The Details line is the operation's message, exactly (folded at 80 columns in the YAML,
      // as gcloud folds it).
      expect(described.stdout).toMatch(/^  message: 'generic::invalid_argument: [^\n]{40,}\n    \S/m)
      expect(`'${m![2]}'`).toBe(/message: ('.*?') metadata:/.exec(flatten(described.stdout))![1])
    })
  }

  it('the valid archive deploys: nothing on stdout, gcloud\'s done line, listed as Deployed', async () => {
    const r = await deploy('valid', ['--labels', 'team=edge,tier=gold'])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(new RegExp(`^Waiting for operation \\[${UUID}\\] to complete\\.\\.\\.\\n\\.+done\\.\\n$`))
    const list = await cli(['archives', 'list', ...flags])
    expect(list.stdout).toMatch(/^ARCHIVE ID\s+ENVIRONMENT\s+DEPLOYED AT\s+LABELS\s+OPERATION STATUS\n[a-z0-9]{18}\s+dev\s+\S+\s+team=edge;tier=gold\s+Deployed\n$/)
    // A later failure is numbered after the revision the success created.
    const failed = await deploy('missing-alias', serverVerdict())
    expect(failed.stderr).toContain('proxy "organizations/myorg/apis/helloworld/revisions/2"')
    const rows = await cli(['archives', 'list', ...flags, '--format', 'value(operationStatus)'])
    expect(rows.stdout).toBe('Failed\nDeployed\n')
  })

  it('--async prints the operation at once; a shell polling loop on value(done) reaches True', async () => {
    const r = await deploy('valid', ['--async'])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('') // the hint is for terminals only
    const m = new RegExp(
      `^metadata:\\n  '@type': type.googleapis.com/google.cloud.apigee.v1.OperationMetadata\\n  operationType: INSERT\\n  state: IN_PROGRESS\\n  targetResourceName: organizations/myorg/environments/dev/archiveDeployments/[a-z0-9]{18}\\nname: organizations/myorg/operations/(${UUID})\\norganization: myorg\\nuuid: \\1\\n$`,
    ).exec(r.stdout)
    expect(m, r.stdout).not.toBeNull()
    const script = `for i in $(seq 600); do v=$(node "${BIN}" operations describe ${m![1]} --organization myorg --format='value(done)'); [ "$v" = True ] && echo "$v" && exit 0; sleep 0.1; done; exit 1`
    const {stdout} = await promisify(execFile)('bash', ['-c', script], {env: {...process.env, ...b.env, MTLSCTL_HOME: b.home}})
    expect(stdout).toBe('True\n')
    const done = await cli(['operations', 'describe', m![1], '--organization', 'myorg', '--format', 'json'])
    expect(JSON.parse(done.stdout)).toMatchObject({done: true, metadata: {state: 'FINISHED'}, response: {operation: `organizations/myorg/operations/${m![1]}`}})
  })

  // Local only: the CLI's own worker process and its lease (the emulator's workers: test/emulator).
  if (backend.kind === 'local') it('a worker killed with SIGKILL mid-operation does not leave the operation IN_PROGRESS', async () => {
    const pause = path.join(path.dirname(home), 'never-created')
    const env = {MTLSCTL_WORKER_PAUSE_FILE: pause, MTLSCTL_OPERATION_LEASE_MS: '1500'}
    const r = await cli(['archives', 'deploy', ...flags, '--source', path.join(EXAMPLES, 'valid', 'src'), '--async', '--format', 'value(uuid)'], env)
    const uuid = r.stdout.trim()
    const file = path.join(home, 'organizations/myorg/operations', `${uuid}.json`)
    // The worker takes the lease over from the command that started it.
    const started = await promisify(execFile)('bash', ['-c', `for i in $(seq 300); do p=$(node -e 'const d=require("${file}");if(d.lease&&d.lease.pid!==${process.pid})console.log(d.lease.pid)' 2>/dev/null); [ -n "$p" ] && kill -0 "$p" 2>/dev/null && [ "$(ps -o args= -p "$p" | grep -c worker.js)" = 1 ] && echo "$p" && exit 0; sleep 0.05; done; exit 1`])
    const pid = Number(started.stdout.trim())
    process.kill(pid, 'SIGKILL')
    const waited = await cli(['operations', 'wait', uuid, '--organization', 'myorg', '--timeout', '60s'], env)
    expect(waited.code).toBe(1)
    expect(waited.stderr).toContain(`Details: The process working on this operation (pid ${pid}) stopped before finishing it.`)
    const described = await cli(['operations', 'describe', uuid, '--organization', 'myorg', '--format', 'json'])
    expect(JSON.parse(described.stdout)).toMatchObject({done: true, error: {code: 13}, metadata: {state: 'FINISHED'}})
    const list = await cli(['archives', 'list', ...flags, '--format', 'value(operationStatus)'])
    expect(list.stdout).toBe('Failed\n')
  })

  it('refuses bad archives before storing anything', async () => {
    const scratch = tempDir()
    try {
      fs.writeFileSync(path.join(scratch, 'file.txt'), 'x')
      fs.mkdirSync(path.join(scratch, 'escape/src/main/apigee/apiproxies/helloworld'), {recursive: true})
      fs.symlinkSync('/etc/hostname', path.join(scratch, 'escape/src/main/apigee/apiproxies/helloworld/config.yaml'))
      fs.mkdirSync(path.join(scratch, 'empty'))
      fs.cpSync(path.join(EXAMPLES, 'valid/src'), path.join(scratch, 'yaml/src'), {recursive: true})
      fs.writeFileSync(path.join(scratch, 'yaml/src/main/apigee/apiproxies/helloworld/config.yaml'), 'operations:\n  - id: [broken\n')
      const before = snapshot(home)
      const cases: Array<[string[], string]> = [
        [['--source', path.join(scratch, 'missing')], `INVALID_ARGUMENT: Path to archive deployment does not exist: ${path.join(scratch, 'missing')}`],
        [['--source', path.join(scratch, 'file.txt')], `INVALID_ARGUMENT: Source path is not a directory: ${path.join(scratch, 'file.txt')}`],
        [['--source', path.join(scratch, 'empty')], `INVALID_ARGUMENT: No archive root in ${path.join(scratch, 'empty')}: expected ${path.join(scratch, 'empty/src/main/apigee')} or ${path.join(scratch, 'empty/main/apigee')}.\nPoint --source at the folder that holds src/main/apigee/ (apiproxies/ and environments/ go under it).`],
        [['--source', path.join(scratch, 'escape')], `INVALID_ARGUMENT: Symbolic link ${path.join(scratch, 'escape/src/main/apigee/apiproxies/helloworld/config.yaml')} points outside the source folder (/etc/hostname).\nCopy the file into the source folder instead of linking to it.`],
        [['--source', path.join(EXAMPLES, 'seed-targetservers/src')], 'INVALID_ARGUMENT: Invalid JSON in src/main/apigee/environments/dev/targetservers.json at line 1, column 317: Expected double-quoted property name (a trailing comma before it?).'],
        [['--source', path.join(scratch, 'yaml/src')], 'INVALID_ARGUMENT: Invalid YAML in src/main/apigee/apiproxies/helloworld/config.yaml at line 3, column 1: unexpected end of the stream within a flow collection.'],
        [['--bundle-file', path.join(scratch, 'file.txt')], `INVALID_ARGUMENT: Bundle file is not a valid zip archive: ${path.join(scratch, 'file.txt')}`],
      ]
      for (const [args, message] of cases) {
        const r = await cli(['archives', 'deploy', ...flags, ...args])
        expect(r.stderr).toBe(`ERROR: (mtlsctl.archives.deploy) ${message}\n`)
        expect(r.code).toBe(1)
        expect(snapshot(home)).toEqual(before)
      }
      expect(uploads()).toEqual([])
      const unknownEnv = await cli(['archives', 'deploy', '--organization', 'myorg', '--environment', 'prod', '--source', path.join(EXAMPLES, 'valid/src')])
      expect(unknownEnv.code).toBe(1)
      expect(unknownEnv.stderr).toContain('NOT_FOUND: Environment "organizations/myorg/environments/prod" not found.')
      expect((await b.local(['environments', 'create', 'legacy', '--organization', 'myorg', '--deployment-type', 'proxy'])).code).toBe(0)
      const proxyEnv = await cli(['archives', 'deploy', '--organization', 'myorg', '--environment', 'legacy', '--source', path.join(EXAMPLES, 'valid/src')])
      expect(proxyEnv.code).toBe(1)
      expect(proxyEnv.stderr).toContain('FAILED_PRECONDITION: Environment "organizations/myorg/environments/legacy" has deployment type PROXY')
      expect(uploads()).toEqual([])
      const noSource = await cli(['archives', 'deploy', ...flags])
      expect(noSource.code).toBe(2)
    } finally {
      rmTemp(scratch)
    }
  })

  it('archives validate lists every problem with its resolution and exits 1', async () => {
    const scratch = tempDir()
    try {
      fs.cpSync(path.join(EXAMPLES, 'valid/src'), path.join(scratch, 'src'), {recursive: true})
      const ts = path.join(scratch, 'src/main/apigee/environments/dev/targetservers.json')
      const targets = JSON.parse(fs.readFileSync(ts, 'utf8'))
      targets[0].sSLInfo = {...targets[0].sSLInfo, keyStore: 'ref://missing_ref', trustStore: 'does-not-exist'}
      targets.push({name: 'second', host: 'b', port: 443, sSLInfo: {enabled: true, clientAuthEnabled: true, keyStore: 'mtls_truststore', keyAlias: 'rootca'}})
      fs.writeFileSync(ts, JSON.stringify(targets))
      fs.appendFileSync(path.join(scratch, 'src/main/apigee/apiproxies/helloworld/config.yaml'), '  - id: second\n    target:\n      target_server_id: "second"\n  - id: third\n    target:\n      target_server_id: "nowhere"\n')
      const before = snapshot(home)
      const r = await cli(['archives', 'validate', ...flags, '--source', path.join(scratch, 'src')])
      expect(r.code).toBe(1)
      expect(r.stdout).toBe(
        'Problem 1 (proxy "helloworld", target server "mymtlstarget"): reference "organizations/myorg/environments/dev/references/missing_ref" not found\n' +
          '  Resolution: Create the reference (mtlsctl references create NAME --refers KEYSTORE), or name the keystore directly.\n' +
          'Problem 2 (proxy "helloworld", target server "mymtlstarget"): missing required certificate(s) for truststore "organizations/myorg/environments/dev/keystores/does-not-exist"\n' +
          '  Resolution: Create a truststore within the specified keystore with the same name that is referenced in the targetservers.json file, or update the targetservers.json file to reference an existing, valid Apigee keystore and truststore combination.\n' +
          'Problem 3 (proxy "helloworld", target server "nowhere"): target server "nowhere" does not exist in environments/dev/targetservers.json\n' +
          "  Resolution: Add the target server to environments/dev/targetservers.json, or fix target_server_id in the proxy's config.yaml.\n" +
          'Problem 4 (proxy "helloworld", target server "second"): missing required private key for "alias \\"organizations/myorg/environments/dev/keystores/mtls_truststore/aliases/rootca\\""\n' +
          '  Resolution: Create a key and certificate alias (mtlsctl aliases add ALIAS --keystore KS --cert-file F --key-file F) and reference it in targetservers.json: a certificate-only alias cannot authenticate the client.\n',
      )
      expect(r.stderr).toContain('ERROR: (mtlsctl.archives.validate) INVALID_ARGUMENT: 4 problem(s) in the archive; a deployment would fail with:\ngeneric::invalid_argument: proxy "organizations/myorg/apis/helloworld/revisions/1" contains reference(s) to invalid target server(s): target server "mymtlstarget" contains invalid TLS settings: reference "organizations/myorg/environments/dev/references/missing_ref" not found; missing required certificate(s) for truststore "organizations/myorg/environments/dev/keystores/does-not-exist"; target server "nowhere" does not exist in environments/dev/targetservers.json; target server "second" contains invalid TLS settings: missing required private key for "alias \\"organizations/myorg/environments/dev/keystores/mtls_truststore/aliases/rootca\\""\n')
      expect(snapshot(home)).toEqual(before)
      const ok = await cli(['archives', 'validate', ...flags, '--source', path.join(EXAMPLES, 'valid/src')])
      expect(ok).toMatchObject({code: 0, stdout: ''})
      expect(ok.stderr).toBe('Archive is valid: 1 proxy(ies) for environment [dev].\n')
    } finally {
      rmTemp(scratch)
    }
  })

  it('ref:// names resolve through references; a bundle file deploys like its source', async () => {
    await cli(['references', 'create', 'ks_ref', '--refers', 'mtls_keystore', ...flags])
    await cli(['references', 'create', 'ts_ref', '--refers', 'mtls_truststore', '--resource-type', 'TrustStore', ...flags])
    const scratch = tempDir()
    try {
      fs.cpSync(path.join(EXAMPLES, 'valid/src'), path.join(scratch, 'src'), {recursive: true})
      const ts = path.join(scratch, 'src/main/apigee/environments/dev/targetservers.json')
      fs.writeFileSync(ts, fs.readFileSync(ts, 'utf8').replace('"mtls_keystore"', '"ref://ks_ref"').replace('"mtls_truststore"', '"ref://ts_ref"'))
      expect((await cli(['archives', 'deploy', ...flags, '--source', path.join(scratch, 'src')])).code).toBe(0)
      // The stored zip, given back as --bundle-file.
      const [id] = (await cli(['archives', 'list', ...flags, '--format', 'value(archiveId)'])).stdout.trim().split('\n')
      const zip = path.join(home, 'organizations/myorg/environments/dev/archiveDeployments', id, 'archive.zip')
      fs.copyFileSync(zip, path.join(scratch, 'bundle.zip'))
      expect((await cli(['archives', 'deploy', ...flags, '--bundle-file', path.join(scratch, 'bundle.zip')])).code).toBe(0)
    } finally {
      rmTemp(scratch)
    }
    const described = await cli(['archives', 'describe', (await cli(['archives', 'list', ...flags, '--format', 'value(archiveId)'])).stdout.split('\n')[0], ...flags, '--format', 'json'])
    expect(JSON.parse(described.stdout)).toMatchObject({operationStatus: 'Deployed'})
    const ops = await cli(['operations', 'list', '--organization', 'myorg', '--filter', 'state=FINISHED', '--format', 'value(done)'])
    expect(ops.stdout).toBe('True\nTrue\n')
    const badFilter = await cli(['operations', 'list', '--organization', 'myorg', '--filter', 'done=yes'])
    expect(badFilter.code).toBe(2)
  })

  it('archives delete asks (or --quiet) and prints gcloud\'s lines', async () => {
    await deploy('valid')
    const id = (await cli(['archives', 'list', ...flags, '--format', 'value(archiveId)'])).stdout.trim()
    const r = await cli(['archives', 'delete', id, ...flags, '--quiet'])
    expect(r).toMatchObject({code: 0, stdout: ''})
    expect(r.stderr).toBe(`Archive deployment [${id}] will be deleted.\nArchive deployment [${id}] deleted.\n`)
    expect((await cli(['archives', 'describe', id, ...flags])).stderr).toContain(`NOT_FOUND: Archive deployment "organizations/myorg/environments/dev/archiveDeployments/${id}" not found.`)
  })
})

backendSuite('archives deploy and validate (built CLI): hostile and careless archives (issue 11)', (backend) => {
  beforeEach(() => setup(backend))

  const refused = async (args: string[], message: string) => {
    const before = snapshot(home)
    const r = await cli(['archives', 'deploy', ...flags, ...args])
    expect(r.stderr).toBe(`ERROR: (mtlsctl.archives.deploy) INVALID_ARGUMENT: ${message}\n`)
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(snapshot(home)).toEqual(before)
    expect(uploads()).toEqual([])
  }

  it('refuses zip bombs, huge documents, bad JSON and YAML alias bombs before storing anything', async () => {
    const scratch = tempDir()
    try {
      // Item 1: a 4 MB zip inflating to 4 GiB, with an honest header, then a lying one.
      const bomb = deflateBomb(255)
      const honest = path.join(scratch, 'honest.zip')
      fs.writeFileSync(honest, craftZip([{name: 'src/main/apigee/big.json', data: bomb, size: 255 * 16 * 1024 * 1024}]))
      const lying = path.join(scratch, 'lying.zip')
      fs.writeFileSync(lying, craftZip([{name: 'src/main/apigee/big.json', data: bomb, size: 1000}]))
      const start = performance.now()
      await refused(['--bundle-file', honest], `Bundle file ${honest}: entry src/main/apigee/big.json inflates to 4080 MiB, past the 16 MiB limit for a JSON or YAML document.`)
      await refused(['--bundle-file', lying], `Bundle file ${lying}: entry src/main/apigee/big.json inflates to more than the 1000 bytes its header declares: the zip is corrupt or crafted.`)
      expect(performance.now() - start).toBeLessThan(10_000)

      // Item 7: a 2 GiB sparse document in --source, refused by its size.
      const copy = (name: string) => {
        fs.cpSync(path.join(EXAMPLES, 'valid/src'), path.join(scratch, name, 'src'), {recursive: true})
        return path.join(scratch, name, 'src')
      }
      const big = copy('big')
      const targets = path.join(big, 'main/apigee/environments/dev/targetservers.json')
      fs.truncateSync(targets, 2 * 1024 ** 3)
      await refused(['--source', big], `${targets} is 2 GiB, larger than the 16 MiB limit for a JSON or YAML document of an archive.\nCheck that the file belongs in the archive.`)

      // Item 9: the error where it is, and a BOM accepted.
      const json = copy('json')
      fs.writeFileSync(path.join(json, 'main/apigee/environments/dev/targetservers.json'), 'x\n[]\n\n\n\n')
      await refused(['--source', json], "Invalid JSON in src/main/apigee/environments/dev/targetservers.json at line 1, column 1: Unexpected token 'x'.")

      // Item 5: a billion laughs as config.yaml.
      const laughs = copy('laughs')
      const levels = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]', ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`)]
      fs.writeFileSync(path.join(laughs, 'main/apigee/apiproxies/helloworld/config.yaml'), `${levels.join('\n')}\n`)
      await refused(
        ['--source', laughs],
        'Invalid YAML in src/main/apigee/apiproxies/helloworld/config.yaml: its aliases expand it by more than 1,000,000 values (a "billion laughs"?).\nWrite the values out instead of repeating them through aliases.',
      )
      const validated = await cli(['archives', 'validate', ...flags, '--source', laughs])
      expect(validated.code).toBe(1)
      expect(validated.stdout).toBe(
        'Problem 1: Invalid YAML in src/main/apigee/apiproxies/helloworld/config.yaml: its aliases expand it by more than 1,000,000 values (a "billion laughs"?)\n  Resolution: Fix the file and deploy again.\n',
      )

      const bom = copy('bom')
      const file = path.join(bom, 'main/apigee/environments/dev/targetservers.json')
      fs.writeFileSync(file, `\ufeff${fs.readFileSync(file, 'utf8')}`)
      expect(await cli(['archives', 'deploy', ...flags, '--source', bom])).toMatchObject({code: 0, stdout: ''})
    } finally {
      rmTemp(scratch)
    }
  })

  it('misshapen documents fail the deployment with every violation, and deploy nothing (item 6)', async () => {
    const scratch = tempDir()
    try {
      fs.cpSync(path.join(EXAMPLES, 'valid/src'), path.join(scratch, 'src'), {recursive: true})
      const apigee = path.join(scratch, 'src/main/apigee')
      fs.writeFileSync(path.join(apigee, 'apiproxies/helloworld/config.yaml'), 'operations: [null, 5, "x"]\n')
      const r = await cli(['archives', 'deploy', ...flags, '--source', path.join(scratch, 'src'), ...serverVerdict()])
      expect(r.code).toBe(1)
      const details = /\nDetails: (.*)\n$/.exec(r.stderr)
      expect(r.stderr).toMatch(/^Waiting for operation \[[0-9a-f-]{36}\] to complete\.\.\.\n\.+failed\.\nERROR: \(mtlsctl\.archives\.deploy\) Failed to await operation:\n/)
      const config = 'src/main/apigee/apiproxies/helloworld/config.yaml'
      expect(details?.[1]).toBe(
        `generic::invalid_argument: ${config}: operations[0] must be a mapping (found null); ${config}: operations[1] must be a mapping (found the number 5); ${config}: operations[2] must be a mapping (found a string)`,
      )
      expect(await getApiProxy(new FileStore(home), 'myorg', 'helloworld')).toBeUndefined()
      expect((await cli(['archives', 'list', ...flags, '--format', 'value(operationStatus)'])).stdout).toBe('Failed\n')

      fs.writeFileSync(path.join(apigee, 'apiproxies/helloworld/config.yaml'), 'operations:\n  - target:\n      target_server_id: 123\n')
      fs.writeFileSync(path.join(apigee, 'environments/dev/deployments.json'), '{"proxies": "helloworld"}')
      const before = snapshot(home)
      const v = await cli(['archives', 'validate', ...flags, '--source', path.join(scratch, 'src')])
      expect(v.code).toBe(1)
      expect(v.stdout).toBe(
        'Problem 1: src/main/apigee/environments/dev/deployments.json: proxies must be an array (found a string)\n  Resolution: Fix the file and deploy again.\n' +
          `Problem 2: ${config}: operations[0].target.target_server_id must be a string (found the number 123)\n  Resolution: Fix the file and deploy again.\n`,
      )
      expect(snapshot(home)).toEqual(before)
    } finally {
      rmTemp(scratch)
    }
  })
})
