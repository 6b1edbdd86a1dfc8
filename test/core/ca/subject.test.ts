import {describe, expect, it} from 'vitest'

import {formatName, formatSubjectArgument, parseSans, parseSubject} from '../../../src/core/ca/index.js'
import {MtlsError} from '../../../src/core/errors.js'

const invalid = (fn: () => unknown, message: RegExp) => {
  let error: unknown
  try {
    fn()
  } catch (e) {
    error = e
  }
  expect(error).toBeInstanceOf(MtlsError)
  expect((error as MtlsError).status).toBe('INVALID_ARGUMENT')
  expect((error as MtlsError).message).toMatch(message)
}

describe('parseSubject', () => {
  it('reads openssl -subj syntax in DER order, types case-insensitively, with escapes', () => {
    const dn = parseSubject('/c=US/O=Acme\\/West/cn=backend.example.com')
    expect(dn).toEqual([
      {type: 'C', value: 'US'},
      {type: 'O', value: 'Acme/West'},
      {type: 'CN', value: 'backend.example.com'},
    ])
    expect(formatName(dn)).toBe('CN=backend.example.com, O=Acme/West, C=US')
    expect(formatSubjectArgument(dn)).toBe('/C=US/O=Acme\\/West/CN=backend.example.com')
    expect(formatName(parseSubject('/O=A, Inc./CN=x'))).toBe('CN=x, O=A\\, Inc.')
  })

  it('refuses malformed subjects, naming what is wrong', () => {
    invalid(() => parseSubject('CN=x'), /Invalid subject "CN=x": it must start with "\/"/)
    invalid(() => parseSubject('/'), /it must start with "\/" and hold at least one TYPE=value/)
    invalid(() => parseSubject('/CN'), /"CN" is not TYPE=value/)
    invalid(() => parseSubject('/CN='), /CN has an empty value/)
    invalid(() => parseSubject('/XX=y'), /unknown attribute "XX"/)
    invalid(() => parseSubject('/C=USA/CN=x'), /C is longer than 2 characters/)
    invalid(() => parseSubject('/C=1A'), /C must be a two-letter country code/)
    invalid(() => parseSubject(`/CN=${'a'.repeat(65)}`), /CN is longer than 64 characters/)
    invalid(() => parseSubject('/CN=x//O=y'), /"" is not TYPE=value/)
  })
})

describe('parseSans', () => {
  it('reads DNS, IP (v4 and v6), EMAIL and URI, comma-separated or repeated, without duplicates', () => {
    expect(parseSans(['DNS:a.example.com,IP:127.0.0.1', 'email:ops@example.com,URI:spiffe://example.org/gw', 'IP:::1', 'DNS:a.example.com', 'DNS:*.example.com'])).toEqual([
      {type: 'DNS', value: 'a.example.com'},
      {type: 'IP', value: '127.0.0.1'},
      {type: 'EMAIL', value: 'ops@example.com'},
      {type: 'URI', value: 'spiffe://example.org/gw'},
      {type: 'IP', value: '::1'},
      {type: 'DNS', value: '*.example.com'},
    ])
    expect(parseSans(undefined)).toEqual([])
  })

  it('refuses malformed SANs, naming the entry', () => {
    invalid(() => parseSans('backend.example.com'), /Invalid SAN "backend.example.com": the type must be DNS, IP, EMAIL or URI/)
    invalid(() => parseSans('FOO:x'), /Invalid SAN "FOO:x": the type must be/)
    invalid(() => parseSans('DNS:'), /Invalid SAN "DNS:": the value is empty/)
    invalid(() => parseSans('DNS:bad_name!'), /Invalid SAN "DNS:bad_name!": not a DNS name/)
    invalid(() => parseSans('IP:300.1.1.1'), /not an IPv4 or IPv6 address/)
    invalid(() => parseSans('EMAIL:nobody'), /not an email address/)
    invalid(() => parseSans('URI:no-scheme'), /not an absolute URI/)
    invalid(() => parseSans('DNS:a,,DNS:b'), /an entry is empty/)
  })
})
