import * as fs from 'node:fs'
import * as path from 'node:path'
import {describe, expect, it} from 'vitest'

import {CONFIGURABLE_NOTE, EXTERNAL_ROWS, GOOGLEAPIS_NOTE, hybridPorts, INTERNAL_ROWS, PORT_ROWS, type SeedRow} from '../../../src/core/hybrid/ports.js'
import {ROOT} from '../../helpers/cli.js'

/**
 * The seed's tables, read back from the data: each row printed as the seed lays it out (merged
 * cells once, the OPTIONAL note under its source, section headings) must give the seed's
 * table text word for word (whitespace, non-breaking spaces included, compared as one space).
 * Every row is there, in order, and nothing else.
 */
const seed = fs.readFileSync(path.join(ROOT, 'test/fixtures/seed/hybrid-secure-ports.txt'), 'utf8')
const words = (text: string) => text.replace(/[\s\u00a0]+/g, ' ').trim()

function between(start: string, end: string): string {
  const a = seed.indexOf(start)
  const b = seed.indexOf(end, a)
  expect(a).toBeGreaterThan(-1)
  expect(b).toBeGreaterThan(a)
  return seed.slice(a + start.length, b)
}

function asSeedLine(row: SeedRow): string {
  const merged = new Set(row.continues ?? [])
  const source = row.optional ? `OPTIONAL: ${row.source} ${row.optional.note}` : row.source
  return [
    merged.has('source') ? '' : source,
    row.destination,
    merged.has('protocolPorts') ? '' : row.protocolPorts.join(' '),
    merged.has('security') ? '' : row.security,
    merged.has('description') ? '' : row.description,
  ].join(' ')
}

const HEADINGS = {inbound: 'Inbound Connections (exposed externally)', outbound: 'Outbound Connections', 'two-way': 'Two-way Connections', internal: ''}

describe("the seed's tables as data", () => {
  it('the internal table, row by row, word for word', () => {
    const table = between('Source Destination Protocol/Ports Security protocol Description\n', '\nExternal connections')
    expect(words(INTERNAL_ROWS.map(asSeedLine).join(' '))).toBe(words(table))
    expect(INTERNAL_ROWS).toHaveLength(13)
  })

  it('the external tables (inbound, outbound, two-way), with their headings, word for word', () => {
    const table = between('Source Destination Protocol/Port(s) Security Protocol Description\n', CONFIGURABLE_NOTE)
    let last = ''
    const lines: string[] = []
    for (const row of EXTERNAL_ROWS) {
      if (row.direction !== last) lines.push(HEADINGS[row.direction])
      last = row.direction
      lines.push(asSeedLine(row))
    }
    expect(words(lines.join(' '))).toBe(words(table))
    expect(EXTERNAL_ROWS.map((r) => r.direction).filter((d, i, all) => all.indexOf(d) === i)).toEqual(['inbound', 'outbound', 'two-way'])
  })

  it("the footnotes are the seed's", () => {
    expect(seed).toContain(CONFIGURABLE_NOTE)
    expect(words(seed)).toContain(words(GOOGLEAPIS_NOTE))
  })

  it('configurable ports are the `*` ones, and only they', () => {
    expect(PORT_ROWS.filter((r) => r.configurable).map((r) => `${r.source} -> ${r.destination}`)).toEqual([
      'Client Apps -> Default Istio Ingress',
      'Message Processor -> Backend services',
    ])
  })

  it('filters by component (name or id), security and direction', () => {
    expect(hybridPorts({destination: 'cassandra', security: 'mtls'}).map((r) => r.source)).toEqual(['MART', 'Message Processor', 'Cassandra', 'Synchronizer'])
    expect(hybridPorts({destination: 'Cassandra', security: 'tls'}).map((r) => r.protocolPorts)).toEqual([['TCP/7070 (HTTPS)']])
    expect(hybridPorts({source: 'message-processor'}).map((r) => r.destination)).toEqual([
      'Cassandra',
      'fluentd (analytics / logging)',
      'Backend services',
      'Distributed Trace back end',
    ])
    expect(hybridPorts({direction: 'two-way'}).map((r) => r.source)).toEqual(['Apigee Connect', 'Watcher'])
    // "None/OAuth over TLS 1.2": none and tls both match.
    expect(hybridPorts({security: 'none'}).map((r) => r.destination)).toEqual(['Default Istio Ingress', 'Backend services'])
    expect(hybridPorts({source: 'nobody'})).toEqual([])
  })
})
