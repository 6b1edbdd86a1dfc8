import type {TargetServer} from '../archives/validate.js'
import type {UpstreamTls} from './tls.js'

/**
 * Which proxy, operation and target answer a request, as configurable proxies route:
 * the host `ORG-ENV.<anything>` picks the environment, the longest matching `basepath` the
 * proxy, and the rest of the path is matched against the proxy's `operations` in order
 * (first match wins) on `path_template` (`*` is one segment, `**` the rest) and `method`.
 */

export type TargetRef = {kind: 'uri'; url: URL} | {kind: 'server'; id: string}

export interface HttpMatch {
  /** Path template segments; undefined matches any path. */
  segments?: string[]
  /** Upper-case method; undefined matches any. */
  method?: string
}

export interface OperationRoute {
  id: string
  target?: TargetRef
  matches: HttpMatch[]
}

export interface ProxyRoute {
  name: string
  basepath: string
  target?: TargetRef
  /** Empty: every request under the basepath goes to the proxy's target. */
  operations: OperationRoute[]
}

/** A target server as the runtime calls it, with its TLS settings resolved (or why they cannot be). */
export interface ResolvedTarget {
  name: string
  host: string
  port: number
  enabled: boolean
  /** Absent: plain HTTP. */
  tls?: UpstreamTls
  /** Why the TLS material of the deployment cannot be used now (an alias deleted since). */
  broken?: string
  /** Identifies the connection pool: same host, port and TLS material share one. */
  poolKey: string
}

export interface EnvironmentRoutes {
  org: string
  env: string
  /** Full name of the archive deployment served. */
  deployment: string
  proxies: ProxyRoute[]
  /** Target servers of the deployment's targetservers.json, by name. */
  targets: Map<string, ResolvedTarget>
  /** Targets given by `target.uri`, by URL. */
  uriTargets: Map<string, ResolvedTarget>
}

/** What the runtime serves: one entry per environment that has a successful deployment. */
export interface RuntimeSnapshot {
  generation: number
  environments: EnvironmentRoutes[]
}

export interface RouteMatch {
  environment: EnvironmentRoutes
  proxy: ProxyRoute
  operation?: OperationRoute
  target?: ResolvedTarget
  /** Why no target: the id or URI that resolves to nothing. */
  missingTarget?: string
  /** Path forwarded to the target (the target URI's path + the rest after the basepath) with the query. */
  upstreamPath: string
}

const segmentsOf = (path: string) => path.split('/').filter((s) => s !== '')

/** Parses a config.yaml `path_template` into segments. */
export function parseTemplate(template: string): string[] {
  return segmentsOf(template)
}

function templateMatches(template: string[], path: string[]): boolean {
  for (let i = 0; i < template.length; i++) {
    if (template[i] === '**') return true
    if (i >= path.length) return false
    if (template[i] !== '*' && template[i] !== path[i]) return false
  }
  return template.length === path.length
}

/** The environment a request's host selects: `ORG-ENV.anything`, else the only one deployed. */
export function selectEnvironment(snapshot: RuntimeSnapshot, hostHeader: string | undefined): EnvironmentRoutes | undefined {
  const host = (hostHeader ?? '').replace(/:\d+$/, '').toLowerCase()
  const label = host.split('.')[0]
  const named = snapshot.environments.find((e) => `${e.org}-${e.env}` === label)
  if (named) return named
  return snapshot.environments.length === 1 ? snapshot.environments[0] : undefined
}

/**
 * RFC 3986's removal of dot segments, as the WHATWG URL parser does it (`%2e` counts as a dot),
 * on a path alone: the fixed origin makes `//host/x` a path, never another host.
 */
export function normalizePath(path: string): string {
  // Nothing a URL parser would change (no dot, percent sign, backslash or character it encodes):
  // the path as it is, without parsing a URL on every request.
  if (PLAIN_PATH.test(path)) return path
  return new URL(`http://runtime.invalid${path}`).pathname
}
const PLAIN_PATH = /^\/[\w\-~!$&'()*+,;=:@/]*$/

function underBasepath(path: string, basepath: string): string | undefined {
  const base = basepath.replace(/\/+$/, '')
  if (base === '') return path
  if (path === base) return ''
  if (path.startsWith(base + '/')) return path.slice(base.length)
  return undefined
}

/** Routes a request; undefined when nothing matches (Envoy's 404). */
export function route(snapshot: RuntimeSnapshot, host: string | undefined, method: string, url: string): RouteMatch | undefined {
  const environment = selectEnvironment(snapshot, host)
  if (!environment) return undefined
  const q = url.indexOf('?')
  const raw = q < 0 ? url : url.slice(0, q)
  const query = q < 0 ? '' : url.slice(q)
  // Origin-form only; dot segments (`..`, `%2e%2e`) resolved before any matching, so a path
  // cannot climb out of an operation's template or a target.uri's path.
  if (!raw.startsWith('/')) return undefined
  const path = normalizePath(raw)
  let best: {proxy: ProxyRoute; rest: string} | undefined
  for (const proxy of environment.proxies) {
    const rest = underBasepath(path, proxy.basepath)
    if (rest !== undefined && (!best || proxy.basepath.length > best.proxy.basepath.length)) best = {proxy, rest}
  }
  if (!best) return undefined
  const {proxy, rest} = best
  let operation: OperationRoute | undefined
  if (proxy.operations.length > 0) {
    const segments = segmentsOf(rest)
    operation = proxy.operations.find((op) =>
      op.matches.some((m) => (m.method === undefined || m.method === method) && (m.segments === undefined || templateMatches(m.segments, segments))),
    )
    if (!operation) return undefined
  }
  const ref = operation?.target ?? proxy.target
  let target: ResolvedTarget | undefined
  let missingTarget: string | undefined
  let prefix = ''
  if (ref?.kind === 'server') {
    target = environment.targets.get(ref.id)
    if (!target) missingTarget = ref.id
  } else if (ref?.kind === 'uri') {
    target = environment.uriTargets.get(ref.url.href)
    prefix = ref.url.pathname.replace(/\/+$/, '')
  } else {
    missingTarget = '(no target)'
  }
  const forwarded = prefix + rest
  return {environment, proxy, operation, target, missingTarget, upstreamPath: (forwarded === '' ? '/' : forwarded) + query}
}

/** A target server of targetservers.json, before its TLS material is read. */
export type TargetServerSpec = TargetServer
