import {componentId, EXTERNAL_ROWS, INTERNAL_ROWS} from './ports.js'

/**
 * The seed's flows as VPC firewall rules between hybrid's two node pools: `apigee-data`
 * (Cassandra) and `apigee-runtime` (every other component), as network tags on the pools'
 * nodes. Internal flows become INGRESS rules from one pool's tag to the other's (or the same
 * pool's, between nodes); the documented egress on 443 an EGRESS rule to 0.0.0.0/0 (the seed:
 * do not pin *.googleapis.com's addresses); client apps reach the ingress port from anywhere.
 * Flows that never leave a pod (none in the seed) would need no rule.
 */
export interface FirewallOptions {
  network?: string
  runtimeTag?: string
  dataTag?: string
  ingressPort?: number
}

export interface FirewallRule {
  name: string
  direction: 'INGRESS' | 'EGRESS'
  rules: string[]
  sourceTags?: string[]
  sourceRanges?: string[]
  destinationRanges?: string[]
  targetTags: string[]
  description: string
}

const pool = (name: string) => (componentId(name) === 'cassandra' ? 'data' : 'runtime')

export function firewallRules(options: FirewallOptions = {}): FirewallRule[] {
  const tags = {runtime: options.runtimeTag ?? 'apigee-runtime', data: options.dataTag ?? 'apigee-data'}
  const crossings = new Map<string, {from: 'runtime' | 'data'; to: 'runtime' | 'data'; ports: Set<number>; flows: Set<string>}>()
  for (const row of INTERNAL_ROWS) {
    const from = pool(row.source)
    const to = pool(row.destination)
    const entry = crossings.get(`${from}>${to}`) ?? {from, to, ports: new Set<number>(), flows: new Set<string>()}
    for (const p of row.protocolPorts) entry.ports.add(Number(/^TCP\/(\d+)/.exec(p)?.[1]))
    entry.flows.add(`${row.source} to ${row.destination}`)
    crossings.set(`${from}>${to}`, entry)
  }
  const rules: FirewallRule[] = [...crossings.values()].map((c) => ({
    name: `apigee-hybrid-${c.from}-to-${c.to}`,
    direction: 'INGRESS',
    rules: [...c.ports].sort((a, b) => a - b).map((p) => `tcp:${p}`),
    sourceTags: [tags[c.from]],
    targetTags: [tags[c.to]],
    description: [...c.flows].join('; '),
  }))
  const egress = EXTERNAL_ROWS.filter((r) => r.direction !== 'inbound' && r.protocolPorts.includes('TCP/443'))
  rules.push({
    name: 'apigee-hybrid-runtime-egress-443',
    direction: 'EGRESS',
    rules: ['tcp:443'],
    destinationRanges: ['0.0.0.0/0'],
    targetTags: [tags.runtime],
    description: [...new Set(egress.map((r) => r.source))].join(', ') + ' to Google APIs (*.googleapis.com)',
  })
  const inbound = EXTERNAL_ROWS.find((r) => r.direction === 'inbound' && !r.optional)
  if (inbound) {
    rules.push({
      name: 'apigee-hybrid-ingress',
      direction: 'INGRESS',
      rules: [`tcp:${options.ingressPort ?? 443}`],
      sourceRanges: ['0.0.0.0/0'],
      targetTags: [tags.runtime],
      description: `${inbound.source} to ${inbound.destination} (port configurable; Apigee recommends 443)`,
    })
  }
  return rules
}

/** `gcloud compute firewall-rules create ...` lines, each argument shell-quoted where needed. */
export function gcloudCommands(rules: FirewallRule[], network = 'default'): string {
  const quoteValue = (s: string) => (/^[\w.,:/@-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`)
  const quote = (arg: string) => {
    const eq = arg.indexOf('=')
    return arg.startsWith('--') && eq > 0 ? `${arg.slice(0, eq + 1)}${quoteValue(arg.slice(eq + 1))}` : quoteValue(arg)
  }
  return rules
    .map((r) => {
      const args = [
        r.name,
        `--network=${network}`,
        `--direction=${r.direction}`,
        '--action=ALLOW',
        `--rules=${r.rules.join(',')}`,
        ...(r.sourceTags ? [`--source-tags=${r.sourceTags.join(',')}`] : []),
        ...(r.sourceRanges ? [`--source-ranges=${r.sourceRanges.join(',')}`] : []),
        ...(r.destinationRanges ? [`--destination-ranges=${r.destinationRanges.join(',')}`] : []),
        `--target-tags=${r.targetTags.join(',')}`,
        `--description=${r.description}`,
      ]
      return `gcloud compute firewall-rules create ${args.map(quote).join(' ')}\n`
    })
    .join('')
}
