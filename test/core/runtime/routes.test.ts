import {describe, expect, it} from 'vitest'

import {curlCommand, normalizePath, parseArchive, route, type EnvironmentRoutes, type ResolvedTarget, type RuntimeSnapshot} from '../../../src/core/runtime/index.js'

const target = (name: string): ResolvedTarget => ({name, host: '127.0.0.1', port: 1, enabled: true, poolKey: name})

async function environment(org: string, env: string, files: Record<string, string>): Promise<EnvironmentRoutes> {
  const parsed = await parseArchive(new Map(Object.entries(files).map(([k, v]) => [k, Buffer.from(v)])), env)
  const targets = new Map(parsed.targetServers.map((t) => [t.name, target(t.name)]))
  const uriTargets = new Map(parsed.uris.map((u) => [u.href, target(u.href)]))
  return {org, env, deployment: `organizations/${org}/environments/${env}/archiveDeployments/x`, proxies: parsed.proxies, targets, uriTargets}
}

const SEED_CONFIG = `operations:
  - id: mTLSOperation
    target:
      target_server_id: "mymtlstarget"
    http_match:
      - path_template: "/foo"
        method: GET
`
const TARGETS = JSON.stringify([{name: 'mymtlstarget'}, {name: 'other'}])

describe('routing as configurable proxies route', () => {
  it("the printed curl line quotes the archive's basepath for the shell", async () => {
    const dev = await environment('myorg', 'dev', {'apiproxies/p/config.yaml': 'basepath: "/x$(id>/tmp/pwned)"\ntarget:\n  uri: http://127.0.0.1:1/\n'})
    const line = await curlCommand(undefined as never, {url: 'http://127.0.0.1:8998/', snapshot: {generation: 1, environments: [dev]}})
    expect(line).toBe("curl -H 'Host: myorg-dev.apigee.net' 'http://127.0.0.1:8998/x$(id>/tmp/pwned)'")
  })

  it('dot segments are resolved before matching: no climbing out of an operation or a target.uri path', async () => {
    const config = `basepath: /helloworld
target:
  uri: http://127.0.0.1:18081/v1
operations:
  - id: public
    http_match:
      - path_template: "/public/**"
`
    const dev = await environment('myorg', 'dev', {'apiproxies/p/config.yaml': config})
    const snapshot: RuntimeSnapshot = {generation: 1, environments: [dev]}
    expect(route(snapshot, 'h', 'GET', '/helloworld/public/a?x=1')).toMatchObject({upstreamPath: '/v1/public/a?x=1'})
    expect(route(snapshot, 'h', 'GET', '/helloworld/public/../admin')).toBeUndefined()
    expect(route(snapshot, 'h', 'GET', '/helloworld/public/%2e%2E/admin')).toBeUndefined()
    expect(route(snapshot, 'h', 'GET', '/helloworld/../../admin')).toBeUndefined()
    expect(route(snapshot, 'h', 'GET', '/helloworld/public/./b/../c')).toMatchObject({upstreamPath: '/v1/public/c'})
    expect(route(snapshot, 'h', 'GET', 'http://evil.example/helloworld/public/a')).toBeUndefined()
    expect(route(snapshot, 'h', 'GET', '//evil.example/helloworld/public/a')).toBeUndefined()
  })

  it("the seed's config.yaml (no basepath: the proxy's name) sends GET /helloworld/foo to its target server, query kept", async () => {
    const dev = await environment('myorg', 'dev', {'apiproxies/helloworld/config.yaml': SEED_CONFIG, 'environments/dev/targetservers.json': TARGETS})
    const snapshot: RuntimeSnapshot = {generation: 1, environments: [dev]}
    const m = route(snapshot, 'anything.example', 'GET', '/helloworld/foo?a=1&b=2')
    expect(m).toMatchObject({proxy: {name: 'helloworld', basepath: '/helloworld'}, operation: {id: 'mTLSOperation'}, target: {name: 'mymtlstarget'}, upstreamPath: '/foo?a=1&b=2'})
    expect(route(snapshot, 'x', 'POST', '/helloworld/foo')).toBeUndefined()
    expect(route(snapshot, 'x', 'GET', '/helloworld/foo/bar')).toBeUndefined()
    expect(route(snapshot, 'x', 'GET', '/helloworldfoo')).toBeUndefined()
  })

  it('first match wins; * is one segment, ** the rest; an operation without a target uses the proxy default', async () => {
    const config = `basepath: /v1/api
target:
  target_server_id: other
operations:
  - id: status
    http_match:
      - path_template: "/status/*"
        method: GET
  - id: first
    target:
      target_server_id: mymtlstarget
    http_match:
      - path_template: "/items/**"
  - id: never
    http_match:
      - path_template: "/items/*"
`
    const dev = await environment('myorg', 'dev', {'apiproxies/p/config.yaml': config, 'environments/dev/targetservers.json': TARGETS})
    const snapshot = {generation: 1, environments: [dev]}
    expect(route(snapshot, 'h', 'GET', '/v1/api/status/42')).toMatchObject({operation: {id: 'status'}, target: {name: 'other'}, upstreamPath: '/status/42'})
    expect(route(snapshot, 'h', 'GET', '/v1/api/status/42/x')).toBeUndefined()
    expect(route(snapshot, 'h', 'DELETE', '/v1/api/items/7')).toMatchObject({operation: {id: 'first'}, target: {name: 'mymtlstarget'}})
  })

  it('a target.uri keeps its path before the rest; no operations: everything under the basepath', async () => {
    const dev = await environment('myorg', 'dev', {'apiproxies/pass/config.yaml': 'basepath: "/helloworld"\ntarget:\n  uri: https://mocktarget.example:8443/v1\n'})
    const m = route({generation: 1, environments: [dev]}, 'h', 'PUT', '/helloworld/json?x')
    expect(m).toMatchObject({target: {name: 'https://mocktarget.example:8443/v1'}, upstreamPath: '/v1/json?x'})
  })

  it('the host ORG-ENV.<anything> picks the environment; with several, an unknown host has no route', async () => {
    const files = {'apiproxies/helloworld/config.yaml': 'target:\n  target_server_id: mymtlstarget\n', 'environments/dev/targetservers.json': TARGETS, 'environments/test/targetservers.json': TARGETS}
    const dev = await environment('myorg', 'dev', files)
    const test = await environment('myorg', 'test', files)
    const snapshot = {generation: 1, environments: [dev, test]}
    expect(route(snapshot, 'myorg-test.apigee.net:8443', 'GET', '/helloworld')?.environment.env).toBe('test')
    expect(route(snapshot, 'MYORG-DEV.apigee.net', 'GET', '/helloworld')?.environment.env).toBe('dev')
    expect(route(snapshot, 'localhost', 'GET', '/helloworld')).toBeUndefined()
    expect(route({generation: 1, environments: [test]}, 'localhost', 'GET', '/helloworld')?.environment.env).toBe('test')
  })

  it('a target_server_id missing from targetservers.json is reported, not thrown', async () => {
    const dev = await environment('myorg', 'dev', {'apiproxies/helloworld/config.yaml': SEED_CONFIG})
    expect(route({generation: 1, environments: [dev]}, 'h', 'GET', '/helloworld/foo')).toMatchObject({target: undefined, missingTarget: 'mymtlstarget'})
  })

  it('a path is normalised as the WHATWG URL parser does, with or without its fast path for plain paths', () => {
    // Every path of up to 4 characters from an alphabet of the characters that matter (dots,
    // percent signs, backslashes, characters the parser encodes, and plain ones).
    const alphabet = ['a', 'Z', '0', '-', '_', '~', '!', '$', "'", '(', '*', ',', ';', '=', ':', '@', '/', '.', '%', '2', 'e', '\\', ' ', '"', '<', '`', '{', '|', '^', '[', 'é', '\t']
    let paths = ['/']
    const all = ['/']
    for (let length = 1; length <= 3; length++) {
      paths = paths.flatMap((p) => alphabet.map((c) => p + c))
      all.push(...paths)
    }
    for (const p of all) expect(normalizePath(p), JSON.stringify(p)).toBe(new URL(`http://runtime.invalid${p}`).pathname)
    expect(all.length).toBe(1 + 32 + 32 ** 2 + 32 ** 3)
  })
})
