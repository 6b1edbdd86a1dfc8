/**
 * The seed's tables (`hybrid-secure-ports.txt`, Apigee's "Secure ports usage" for the hybrid
 * runtime plane) as data: every row, in the seed's order, each cell as the seed writes it
 * (non-breaking spaces read as spaces; "managemennt" is the seed's spelling). Where the seed's
 * table merges a cell with the row above (Prometheus's four scrape targets, Synchronizer's second
 * destination), the row repeats the value and `continues` names the merged cells, so that the
 * table can be printed back as the seed lays it out.
 */
export type Direction = 'internal' | 'inbound' | 'outbound' | 'two-way'
export type SecurityKind = 'mtls' | 'tls' | 'none'
type MergedCell = 'source' | 'protocolPorts' | 'security' | 'description'

export interface SeedRow {
  direction: Direction
  source: string
  destination: string
  /** `TCP/9042`, `TCP/7070 (HTTPS)`, `TCP/*`, `http or https`. */
  protocolPorts: string[]
  security: string
  description: string
  /** The seed marks the source `OPTIONAL:` and adds this note under it. */
  optional?: {note: string}
  /** Cells the seed merges with the row above. */
  continues?: MergedCell[]
}

export interface PortRow extends SeedRow {
  /** The port numbers (none for `*` or `http or https`). */
  ports: number[]
  /** A `*` port: the seed says it is configurable (Apigee recommends 443). */
  configurable: boolean
  /** What `--security` matches: `None/OAuth over TLS 1.2` is both none and tls. */
  securityKinds: SecurityKind[]
}

const PERSIST = 'Sends data for persistence.'
const SCRAPE = 'Scrapes metrics data from various services.'

export const INTERNAL_ROWS: SeedRow[] = [
  {direction: 'internal', source: 'MART', destination: 'Cassandra', protocolPorts: ['TCP/9042', 'TCP/9142'], security: 'mTLS', description: PERSIST},
  {direction: 'internal', source: 'Apigee Connect', destination: 'MART', protocolPorts: ['TCP/8443'], security: 'TLS', description: 'Requests from the management plane go through Apigee Connect. Apigee Connect initiates the connection.'},
  {direction: 'internal', source: 'Default Istio Ingress', destination: 'Message Processor', protocolPorts: ['TCP/8443'], security: 'TLS (Apigee-generated, self-signed cert)', description: 'Processes incoming API requests.'},
  {direction: 'internal', source: 'Message Processor', destination: 'Cassandra', protocolPorts: ['TCP/9042', 'TCP/9142'], security: 'mTLS', description: PERSIST},
  {direction: 'internal', source: 'Message Processor', destination: 'fluentd (analytics / logging)', protocolPorts: ['TCP/20001'], security: 'mTLS', description: 'Streams data to the data collection pod.'},
  {direction: 'internal', source: 'Cassandra', destination: 'Cassandra', protocolPorts: ['TCP/7001'], security: 'mTLS', description: 'Intra-node cluster communications. Note that you can also leave port 7000 open for firewall configuration as a backup option for potential troubleshooting.'},
  {direction: 'internal', source: 'Synchronizer', destination: 'Cassandra', protocolPorts: ['TCP/9042', 'TCP/9142'], security: 'mTLS', description: PERSIST},
  {direction: 'internal', source: 'Prometheus (metrics)', destination: 'Cassandra', protocolPorts: ['TCP/7070 (HTTPS)'], security: 'TLS', description: SCRAPE},
  {direction: 'internal', source: 'Prometheus (metrics)', destination: 'MART', protocolPorts: ['TCP/8843 (HTTPS)'], security: 'TLS', description: SCRAPE, continues: ['source', 'description']},
  {direction: 'internal', source: 'Prometheus (metrics)', destination: 'Message Processor', protocolPorts: ['TCP/8843 (HTTPS)'], security: 'TLS', description: SCRAPE, continues: ['source', 'description']},
  {direction: 'internal', source: 'Prometheus (metrics)', destination: 'Synchronizer', protocolPorts: ['TCP/8843 (HTTPS)'], security: 'TLS', description: SCRAPE, continues: ['source', 'description']},
  {direction: 'internal', source: 'Prometheus (metrics)', destination: 'UDCA', protocolPorts: ['TCP/7070 (HTTPS)'], security: 'TLS', description: SCRAPE, continues: ['source', 'description']},
  {direction: 'internal', source: 'Watcher', destination: 'Default Istio Ingress', protocolPorts: ['TCP/8843'], security: 'TLS', description: 'Makes virtual hosts related changes to configure istio ingress.'},
]

const OAUTH = 'OAuth over TLS 1.2'
const CLOUD_OPS = 'Sends data to Cloud Operations in the management plane; connects to'

export const EXTERNAL_ROWS: SeedRow[] = [
  {direction: 'inbound', source: 'Apigee Services', destination: 'MART Istio Ingress', protocolPorts: ['TCP/443'], security: OAUTH, description: 'Hybrid API calls from the management plane.', optional: {note: 'Only if not using Apigee Connect (recommended). See Two-way Connections below.'}},
  {direction: 'inbound', source: 'Client Apps', destination: 'Default Istio Ingress', protocolPorts: ['TCP/*'], security: `None/${OAUTH}`, description: 'API requests from external apps.'},
  {direction: 'outbound', source: 'Message Processor', destination: 'Backend services', protocolPorts: ['TCP/*', 'UDP/*'], security: `None/${OAUTH}`, description: 'Sends requests to customer-defined hosts.'},
  {direction: 'outbound', source: 'Synchronizer', destination: 'Apigee Services', protocolPorts: ['TCP/443'], security: OAUTH, description: 'Fetches configuration data; connects to apigee.googleapis.com.'},
  {direction: 'outbound', source: 'Synchronizer', destination: 'Google Cloud', protocolPorts: ['TCP/443'], security: OAUTH, description: 'Connects to iamcredentials.googleapis.com for authorization.', continues: ['source', 'protocolPorts', 'security']},
  {direction: 'outbound', source: 'UDCA (Analytics)', destination: 'Apigee Services (UAP)', protocolPorts: ['TCP/443'], security: OAUTH, description: 'Sends data to UAP in the management plane and to Google Cloud; connects to apigee.googleapis.com and storage.googleapis.com.'},
  {direction: 'outbound', source: 'Apigee Connect', destination: 'Apigee Services', protocolPorts: ['TCP/443'], security: 'TLS', description: 'Establishes the connection with the management plane; connects to apigeeconnect.googleapis.com.'},
  {direction: 'outbound', source: 'Prometheus (metrics)', destination: 'Google Cloud (Cloud Operations)', protocolPorts: ['TCP/443'], security: 'TLS', description: `${CLOUD_OPS} monitoring.googleapis.com.`},
  {direction: 'outbound', source: 'fluentd (logging)', destination: 'Google Cloud (Cloud Operations)', protocolPorts: ['TCP/443'], security: 'TLS', description: `${CLOUD_OPS} logging.googleapis.com`},
  {direction: 'outbound', source: 'MART', destination: 'Google Cloud', protocolPorts: ['TCP/443'], security: OAUTH, description: 'Connects to iamcredentials.googleapis.com for authorization.'},
  {direction: 'outbound', source: 'Message Processor', destination: 'Distributed Trace back end', protocolPorts: ['http or https'], security: 'TLS (configurable)', description: '(Optional) Communicates trace information to the Distributed Trace back end service. Configure the service and protocol in the TraceConfig API. The back end for Distributed Trace is usually Cloud Trace or Jaeger.'},
  {direction: 'two-way', source: 'Apigee Connect', destination: 'Apigee Services', protocolPorts: ['TCP/443'], security: 'TLS', description: 'Communicates management data between the managemennt plane and the Management API for runtime data (MART) in the runtime plane. Apigee Connect initiates the connection; connects to apigeeconnect.googleapis.com. Therefore, you do not need to configure your firewall for inbound connectivity.'},
  {direction: 'two-way', source: 'Watcher', destination: 'Google Cloud', protocolPorts: ['TCP/443'], security: OAUTH, description: 'Pulls virtual hosts related changes for an org to configure istio ingress.'},
]

/** The seed's footnote on `*`, and its warning on Google's addresses. */
export const CONFIGURABLE_NOTE = '* indicates that the port is configurable. Apigee recommends using port 443.'
export const GOOGLEAPIS_NOTE =
  'You should not allow external connections for specific IP addresses associated with *.googleapis.com. The IP addresses can change since the domain currently resolves to multiple addresses.'

/** `message-processor` for `Message Processor`, `prometheus` for `Prometheus (metrics)`. */
export function componentId(name: string): string {
  return name
    .replace(/\([^)]*\)/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
}

export function securityKinds(security: string): SecurityKind[] {
  if (security.startsWith('None/')) return ['none', 'tls']
  if (security.includes('mTLS')) return ['mtls']
  return security.includes('TLS') ? ['tls'] : ['none']
}

function enrich(row: SeedRow): PortRow {
  const ports = row.protocolPorts.flatMap((p) => {
    const match = /^(?:TCP|UDP)\/(\d+)/.exec(p)
    return match ? [Number(match[1])] : []
  })
  return {...row, ports, configurable: row.protocolPorts.some((p) => p.includes('*')), securityKinds: securityKinds(row.security)}
}

export const PORT_ROWS: PortRow[] = [...INTERNAL_ROWS, ...EXTERNAL_ROWS].map(enrich)

export interface PortFilter {
  source?: string
  destination?: string
  security?: SecurityKind
  direction?: Direction
}

/** The rows that match every filter given (components by name or id, case-insensitive). */
export function hybridPorts(filter: PortFilter = {}): PortRow[] {
  const source = filter.source === undefined ? undefined : componentId(filter.source)
  const destination = filter.destination === undefined ? undefined : componentId(filter.destination)
  return PORT_ROWS.filter(
    (row) =>
      (source === undefined || componentId(row.source) === source) &&
      (destination === undefined || componentId(row.destination) === destination) &&
      (filter.security === undefined || row.securityKinds.includes(filter.security)) &&
      (filter.direction === undefined || row.direction === filter.direction),
  )
}

/** Every component id named in the tables, sorted. */
export function componentIds(): string[] {
  return [...new Set(PORT_ROWS.flatMap((r) => [componentId(r.source), componentId(r.destination)]))].sort()
}
