import {listArchiveDeployments} from '../archives/deployments.js'
import {parseJsonFile, parseYamlFile} from '../archives/parse.js'
import {unzipArchive} from '../archives/source.js'
import type {TargetServer} from '../archives/validate.js'
import {listEnvironments, listOrganizations} from '../environments.js'
import type {Store} from '../store/index.js'
import {parseTemplate, type EnvironmentRoutes, type OperationRoute, type ProxyRoute, type ResolvedTarget, type RuntimeSnapshot, type TargetRef} from './routes.js'
import {targetTls} from './tls.js'

/**
 * What the runtime serves, read from the state store: for each environment, the proxies of
 * its latest successful archive deployment, with their target servers' TLS material read
 * now (so a deleted alias shows at the next reload, not at the next restart).
 */

/** An archive's routing, parsed once per deployment (archives never change once stored). */
interface ParsedArchive {
  proxies: ProxyRoute[]
  targetServers: TargetServer[]
  uris: URL[]
}

export interface SnapshotEvents {
  /**
   * A deployment starts or stops being served, or one could not be read. `key` names what the
   * message is about (`ORG/ENV`, or `broken:ORG/ENV/TARGET` for a target server's TLS material):
   * a later message with the same key replaces it.
   */
  onChange?: (message: string, key: string) => void
  /** What the message of `key` said is no longer so (a target server's material is back). */
  onClear?: (key: string) => void
}

const ARCHIVE_BLOB = 'archive.zip'

function targetRef(target: unknown, where: string): TargetRef | undefined {
  if (!target || typeof target !== 'object') return undefined
  const t = target as {uri?: unknown; target_server_id?: unknown; targetServerId?: unknown}
  const id = t.target_server_id ?? t.targetServerId
  if (typeof id === 'string' && id !== '') return {kind: 'server', id}
  if (typeof t.uri === 'string') {
    try {
      return {kind: 'uri', url: new URL(t.uri)}
    } catch {
      throw new Error(`${where}: target.uri "${t.uri}" is not a URL`)
    }
  }
  return undefined
}

interface ProxyConfig {
  basepath?: unknown
  target?: unknown
  operations?: Array<{id?: unknown; target?: unknown; http_match?: Array<{path_template?: unknown; method?: unknown}>}>
}

/** Reads an archive's proxies (deployments.json, else every apiproxies/ folder) and target servers. */
export async function parseArchive(files: Map<string, Buffer>, env: string): Promise<ParsedArchive> {
  const text = (p: string) => files.get(p)?.toString('utf8')
  const deploymentsText = text(`environments/${env}/deployments.json`)
  const listed = deploymentsText ? parseJsonFile<{proxies?: Array<{name?: string}>}>(deploymentsText, `environments/${env}/deployments.json`).proxies : undefined
  const names = listed
    ? listed.map((p) => String(p?.name ?? ''))
    : [...new Set([...files.keys()].filter((p) => p.startsWith('apiproxies/')).map((p) => p.split('/')[1]))]
  const proxies: ProxyRoute[] = []
  const uris: URL[] = []
  for (const name of listed ? names : names.sort()) {
    const file = `apiproxies/${name}/config.yaml`
    const source = text(file)
    if (source === undefined) continue
    const config = ((await parseYamlFile<ProxyConfig>(source, file)) ?? {}) as ProxyConfig
    // The seed's config.yaml has no basepath: the proxy's name is its path then (/helloworld).
    const basepath = typeof config.basepath === 'string' && config.basepath !== '' ? config.basepath : `/${name}`
    const operations: OperationRoute[] = (config.operations ?? []).map((op, i) => ({
      id: typeof op?.id === 'string' ? op.id : `operation-${i + 1}`,
      target: targetRef(op?.target, file),
      matches: (op?.http_match ?? []).map((m) => ({
        segments: typeof m?.path_template === 'string' ? parseTemplate(m.path_template) : undefined,
        method: typeof m?.method === 'string' ? m.method.toUpperCase() : undefined,
      })),
    }))
    for (const op of operations) if (op.matches.length === 0) op.matches.push({})
    const proxy: ProxyRoute = {name, basepath: basepath.startsWith('/') ? basepath : `/${basepath}`, target: targetRef(config.target, file), operations}
    for (const ref of [proxy.target, ...operations.map((o) => o.target)]) if (ref?.kind === 'uri') uris.push(ref.url)
    proxies.push(proxy)
  }
  const targetsText = text(`environments/${env}/targetservers.json`)
  const targetServers = targetsText ? parseJsonFile<TargetServer[]>(targetsText, `environments/${env}/targetservers.json`) : []
  return {proxies, targetServers: Array.isArray(targetServers) ? targetServers : [], uris}
}

async function resolveServer(store: Store, org: string, env: string, t: TargetServer): Promise<ResolvedTarget> {
  const host = String(t.host ?? '')
  const port = Number(t.port ?? (t.sSLInfo?.enabled ? 443 : 80))
  const base = {name: t.name, host, port, enabled: t.isEnabled !== false}
  if (t.sSLInfo?.enabled !== true) return {...base, poolKey: `http://${host}:${port}`}
  const result = await targetTls(store, org, env, host, t.sSLInfo)
  if ('problem' in result) return {...base, broken: result.problem, poolKey: `broken:${host}:${port}`}
  return {...base, tls: result.tls, poolKey: `https://${host}:${port}#${result.tls.fingerprint}`}
}

function resolveUri(url: URL): ResolvedTarget {
  const https = url.protocol === 'https:'
  const port = Number(url.port || (https ? 443 : 80))
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const tls = https ? {options: {servername: /^[\d.]+$/.test(host) || host.includes(':') ? undefined : host}, fingerprint: 'default'} : undefined
  return {name: url.href, host, port, enabled: true, tls, poolKey: `${url.protocol}//${host}:${port}#default`}
}

/** Loads snapshots; parsed archives are kept between loads. */
export class SnapshotLoader {
  private archives = new Map<string, Promise<ParsedArchive>>()
  private generation = 0
  private served = new Map<string, string>()

  constructor(
    private readonly store: Store,
    private readonly events: SnapshotEvents = {},
  ) {}

  private archive(deployment: string, env: string): Promise<ParsedArchive> {
    let found = this.archives.get(deployment)
    if (!found) {
      found = (async () => {
        const zip = await this.store.getBlob(deployment, ARCHIVE_BLOB)
        if (!zip) throw new Error(`the archive of ${deployment} is missing`)
        return parseArchive(await unzipArchive(zip, deployment), env)
      })()
      this.archives.set(deployment, found)
    }
    return found
  }

  /** Reads the store now. Environments whose deployment cannot be read are left out, with a message. */
  async load(): Promise<RuntimeSnapshot> {
    const environments: EnvironmentRoutes[] = []
    const seen = new Set<string>()
    for (const {name: org} of await listOrganizations(this.store)) {
      for (const environment of await listEnvironments(this.store, org)) {
        const env = environment.name
        const key = `${org}/${env}`
        let rows
        try {
          rows = await listArchiveDeployments(this.store, org, env)
        } catch {
          continue // Deleted while we read.
        }
        const latest = rows.find((r) => r.operationStatus === 'Deployed')
        if (!latest) continue
        seen.add(key)
        try {
          const parsed = await this.archive(latest.name, env)
          const targets = new Map<string, ResolvedTarget>()
          for (const t of parsed.targetServers) {
            if (t && typeof t.name === 'string') targets.set(t.name, await resolveServer(this.store, org, env, t))
          }
          const uriTargets = new Map(parsed.uris.map((u) => [u.href, resolveUri(u)]))
          environments.push({org, env, deployment: latest.name, proxies: parsed.proxies, targets, uriTargets})
          const description = `${latest.name} (${parsed.proxies.map((p) => `${p.name} at ${p.basepath}`).join(', ') || 'no proxies'})`
          if (this.served.get(key) !== description) {
            this.served.set(key, description)
            this.events.onChange?.(`Serving ${org}-${env}: archive deployment ${description}.`, key)
          }
          for (const t of targets.values()) {
            const brokenKey = `broken:${key}/${t.name}`
            const broken = `${key}/${t.name}: ${t.broken}`
            if (t.broken && this.served.get(brokenKey) !== broken) {
              this.served.set(brokenKey, broken)
              this.events.onChange?.(`Target server "${t.name}" of ${org}-${env} cannot connect: ${t.broken}; requests to it get 503.`, brokenKey)
            } else if (!t.broken && this.served.delete(brokenKey)) this.events.onClear?.(brokenKey)
          }
        } catch (error) {
          const message = `Cannot serve ${latest.name}: ${(error as Error).message}`
          if (this.served.get(key) !== message) {
            this.served.set(key, message)
            this.events.onChange?.(message, key)
          }
        }
      }
    }
    // Only the deployments served now stay parsed: a runtime redeployed many times keeps no old
    // ones, and an archive whose read failed is read again at the next load (not remembered as
    // broken until a restart).
    const current = new Set(environments.map((e) => e.deployment))
    for (const deployment of this.archives.keys()) if (!current.has(deployment)) this.archives.delete(deployment)
    for (const key of [...this.served.keys()]) {
      if (!key.startsWith('broken:') && !seen.has(key)) {
        this.served.delete(key)
        this.events.onChange?.(`No longer serving ${key.replace('/', '-')}: it has no successful archive deployment.`, key)
      }
    }
    return {generation: ++this.generation, environments}
  }
}
