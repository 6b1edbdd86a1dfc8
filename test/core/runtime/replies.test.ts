import {describe, expect, it} from 'vitest'

import {boringSslReason, classifyUpstreamError, failureReply, packedCode, REPLIES, tlsFailureReply} from '../../../src/core/runtime/index.js'

/**
 * BoringSSL's codes and names from the errors Node reports. The three shapes below are the
 * ones Node 20 and 24 give (checked against real peers in test/e2e/runtime.test.ts): an
 * `ERR_SSL_*` code, a verification code, and EPROTO with OpenSSL's text in the message.
 */
const err = (fields: Record<string, unknown>) => Object.assign(new Error(String(fields.message ?? 'x')), fields)

describe('BoringSSL codes (reference: runtime.md table)', () => {
  it('packs reasons as (16 << 24) + reason', () => {
    expect(packedCode(125)).toBe(268435581)
    expect(packedCode(192)).toBe(268435648)
    expect(packedCode(247)).toBe(268435703)
  })

  it.each([
    ['ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'SSLV3_ALERT_HANDSHAKE_FAILURE', 268436496],
    ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'SSLV3_ALERT_BAD_CERTIFICATE', 268436498],
    ['ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED', 'SSLV3_ALERT_CERTIFICATE_EXPIRED', 268436501],
    ['ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN', 'SSLV3_ALERT_CERTIFICATE_UNKNOWN', 268436502],
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'TLSV1_ALERT_UNKNOWN_CA', 268436504],
    ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'TLSV1_ALERT_PROTOCOL_VERSION', 268436526],
    // OpenSSL says TLSV13_ALERT_..., BoringSSL TLSV1_ALERT_...: mapped by the alert.
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'TLSV1_ALERT_CERTIFICATE_REQUIRED', 268436572],
    ['ERR_SSL_TLSV1_UNRECOGNIZED_NAME', 'TLSV1_ALERT_UNRECOGNIZED_NAME', 268436568],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'WRONG_VERSION_NUMBER', 268435703],
    ['ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE', 'PEER_DID_NOT_RETURN_A_CERTIFICATE', 268435648],
  ])('%s → %s (%i)', (code, name, packed) => {
    expect(boringSslReason(err({code}))).toEqual({name, code: packed})
  })

  it.each(['CERT_HAS_EXPIRED', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_NOT_YET_VALID'])(
    'a failed verification (%s) is CERTIFICATE_VERIFY_FAILED',
    (code) => expect(boringSslReason(err({code}))).toEqual({name: 'CERTIFICATE_VERIFY_FAILED', code: 268435581}),
  )

  it("EPROTO during the handshake: the reason from OpenSSL's message, else its alert number", () => {
    const message =
      'write EPROTO 80ECECF1AC7F0000:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 40\n'
    expect(boringSslReason(err({code: 'EPROTO', message}))).toEqual({name: 'SSLV3_ALERT_HANDSHAKE_FAILURE', code: 268436496})
    const renamed = 'write EPROTO 00:error:0A0004FF:SSL routines:ssl3_read_bytes:some future wording:file.c:1:SSL alert number 70\n'
    expect(boringSslReason(err({code: 'EPROTO', message: renamed}))).toEqual({name: 'TLSV1_ALERT_PROTOCOL_VERSION', code: 268436526})
  })

  it('errors that are not TLS errors have no BoringSSL reason', () => {
    expect(boringSslReason(err({code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1'}))).toBeUndefined()
    expect(boringSslReason(err({code: 'ECONNRESET', message: 'socket hang up'}))).toBeUndefined()
  })
})

describe("Envoy's local replies", () => {
  it("the seed's documented 503, byte for byte", () => {
    expect(tlsFailureReply({name: 'CERTIFICATE_VERIFY_FAILED', code: 268435581})).toEqual({
      status: 503,
      body: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED',
    })
  })

  it('refused, reset, timeout, unhealthy, no route', () => {
    expect(failureReply(classifyUpstreamError(err({code: 'ECONNREFUSED'}), false))).toEqual({
      status: 503,
      body: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
    })
    expect(failureReply(classifyUpstreamError(err({code: 'ECONNRESET'}), true)).body).toBe(
      'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
    )
    expect(failureReply({kind: 'timeout'})).toEqual({status: 504, body: 'upstream request timeout'})
    expect(failureReply({kind: 'unhealthy'})).toEqual({status: 503, body: 'no healthy upstream'})
    expect(REPLIES.noRoute).toEqual({status: 404, body: ''})
  })
})
