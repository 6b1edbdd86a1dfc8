import {expect} from 'vitest'

import {MtlsError} from '../../src/core/errors.js'

/**
 * The MtlsError a promise rejects with: the test fails if it resolves or rejects with anything
 * else, or, when `status` is given, with another status.
 */
export async function refusal(promise: Promise<unknown>, status?: MtlsError['status']): Promise<MtlsError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(MtlsError)
  if (status !== undefined) expect((error as MtlsError).status).toBe(status)
  return error as MtlsError
}
