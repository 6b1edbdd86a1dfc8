import * as crypto from 'node:crypto'

import {listCas} from '../ca/registry.js'
import type {Store} from '../store/index.js'
import type {RuntimeSnapshot} from './routes.js'

/**
 * The ready-to-paste curl line `runtime start` prints: the first deployed proxy, called by the
 * host name that selects its environment (`ORG-ENV.apigee.net`, or the --tls-cert's name),
 * with --resolve to this runtime and --cacert the local CA that issued the certificate.
 */
export interface CurlOptions {
  url: string
  snapshot: RuntimeSnapshot
  /** Names of the HTTPS certificate (its DNS SANs). */
  hostnames?: string[]
  certPem?: Buffer
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`)

async function issuingCaFile(store: Store, certPem: Buffer): Promise<string | undefined> {
  let issuer: string
  try {
    issuer = new crypto.X509Certificate(certPem).issuer
  } catch {
    return undefined
  }
  for (const ca of await listCas(store)) {
    try {
      if (new crypto.X509Certificate(ca.certificate).subject === issuer) return ca.certFile
    } catch {}
  }
  return undefined
}

export async function curlCommand(store: Store, options: CurlOptions): Promise<string> {
  const listen = new URL(options.url)
  const address = listen.hostname === '0.0.0.0' ? '127.0.0.1' : listen.hostname === '[::]' ? '[::1]' : listen.hostname
  const first = options.snapshot.environments[0]
  const path = first?.proxies[0]?.basepath ?? '/'
  const envHost = first ? `${first.org}-${first.env}.apigee.net` : 'myorg-dev.apigee.net'
  if (listen.protocol === 'https:') {
    const wanted = first ? options.hostnames?.find((h) => h.split('.')[0] === `${first.org}-${first.env}`) : undefined
    const host = wanted ?? options.hostnames?.find((h) => !h.startsWith('*')) ?? envHost
    const ca = options.certPem ? await issuingCaFile(store, options.certPem) : undefined
    const resolveTo = address.replace(/^\[|\]$/g, '')
    return ['curl', '--resolve', `${host}:${listen.port}:${resolveTo}`, ...(ca ? ['--cacert', quote(ca)] : ['--insecure']), quote(`https://${host}:${listen.port}${path}`)].join(' ')
  }
  // The basepath comes from the archive: quoted, so a pasted line never runs anything.
  return ['curl', '-H', quote(`Host: ${envHost}`), quote(`http://${address}:${listen.port}${path}`)].join(' ')
}
