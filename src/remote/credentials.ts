/**
 * Google credentials for remote mode (issue 12). STUB: the interface is fixed; the chain is
 * being written (see the "Credentials" list).
 */
import {MtlsError} from '../core/errors.js'

export interface CredentialOptions {
  /** --access-token-file FILE */
  accessTokenFile?: string
  env?: NodeJS.ProcessEnv
}

export interface Credentials {
  /** Where the token comes from, in words (never the token): `--access-token-file tok.txt`, `MTLSCTL_ACCESS_TOKEN` ... */
  readonly source: string
  /** A current access token; `refresh` forces a new one where the source can make one (after a 401). */
  token(refresh?: boolean): Promise<string>
  /** Whether token(true) can give a different token (ADC, gcloud) or not (a file or a variable). */
  readonly refreshable: boolean
}

/** The first credentials found, in the order; UNAUTHENTICATED naming every way to give them when none. */
export async function findCredentials(_options: CredentialOptions = {}): Promise<Credentials> {
  const env = _options.env ?? process.env
  const token = env.MTLSCTL_ACCESS_TOKEN
  if (token) return {source: 'MTLSCTL_ACCESS_TOKEN', refreshable: false, token: async () => token}
  throw new MtlsError('UNAUTHENTICATED', 'No credentials for the Apigee API.')
}
