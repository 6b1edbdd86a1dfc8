import type {Alias} from '../aliases.js'
import type {AliasSource} from '../alias-sources.js'
import type {ApiProxy, ArchiveDeployment} from '../archives/deployments.js'
import type {TlsLookup} from '../archives/validate.js'
import type {Environment} from '../environments.js'
import type {Keystore} from '../keystores.js'
import type {Operation, OperationFilter} from '../operations.js'
import type {Reference, ReferenceInput} from '../references.js'

export interface DeployOptions {
  labels?: Record<string, string>
  /** Return once the operation exists (true), or let a local engine run it here first (false). */
  background: boolean
  /** Told the operation as soon as it exists (before a local engine runs it). */
  onCreated?: (operation: Operation) => void
}

/**
 * Apigee's v1 API as mtlsctl's commands use it: the role of gcloud's `api_lib` and apigeecli's
 * `internal/client`. Two implementations: `LocalApigee` (./local.ts, the engine over the
 * state store; the emulator serves it) and `RemoteApigee` (src/remote/apigee.ts, the v1 REST
 * API over HTTP). Every method answers Apigee's own resource shapes, so what a command builds
 * on them (./views.ts, the archive validation) is one piece of code for both backends.
 *
 * Errors are `MtlsError`s either way: the engine's own, or the server's status and words.
 */
export interface ApigeeApi {
  /** `local`, or the v1 endpoint's base URL. */
  readonly backend: 'local' | 'remote'
  /** Where requests go, in words (`the local engine (~/.mtlsctl)`, `https://apigee.googleapis.com/`). */
  readonly where: string

  listEnvironmentNames(org: string): Promise<string[]>
  getEnvironment(org: string, env: string): Promise<Environment>

  createKeystore(org: string, env: string, ks: string): Promise<Keystore>
  getKeystore(org: string, env: string, ks: string): Promise<Keystore>
  listKeystoreNames(org: string, env: string): Promise<string[]>
  deleteKeystore(org: string, env: string, ks: string): Promise<Keystore>

  /**
   * Creates an alias from any source. Sources needing local work (a key to decrypt, the local
   * CA) are checked and resolved on this machine first, whichever backend stores the alias.
   */
  createAlias(org: string, env: string, ks: string, alias: string, source: AliasSource, options?: {ignoreExpiryValidation?: boolean}): Promise<Alias>
  getAlias(org: string, env: string, ks: string, alias: string): Promise<Alias>
  listAliasNames(org: string, env: string, ks: string): Promise<string[]>
  deleteAlias(org: string, env: string, ks: string, alias: string): Promise<Alias>
  updateAliasCertificate(
    org: string,
    env: string,
    ks: string,
    alias: string,
    cert: {data: Buffer; file: string},
    options?: {ignoreExpiryValidation?: boolean},
  ): Promise<Alias>
  /** The alias's certificate chain, PEM. */
  aliasCertificate(org: string, env: string, ks: string, alias: string): Promise<string>
  /** A PKCS#10 CSR for the alias's key, PEM. */
  aliasCsr(org: string, env: string, ks: string, alias: string): Promise<string>

  createReference(org: string, env: string, name: string, input: ReferenceInput): Promise<Reference>
  getReference(org: string, env: string, name: string): Promise<Reference>
  listReferenceNames(org: string, env: string): Promise<string[]>
  updateReference(org: string, env: string, name: string, input: ReferenceInput): Promise<Reference>
  deleteReference(org: string, env: string, name: string): Promise<Reference>

  /**
   * Stores the archive and starts its deployment; answers the operation. `background: false`
   * lets a local engine run it in this process (it is then finished when this returns).
   */
  deployArchive(org: string, env: string, zip: Buffer, options: DeployOptions): Promise<Operation>
  /** Every archive deployment of the environment (all pages). `createdAt`/`updatedAt` in ms. */
  listArchiveDeployments(org: string, env: string): Promise<ArchiveDeployment[]>
  getArchiveDeployment(org: string, env: string, id: string): Promise<ArchiveDeployment>
  deleteArchiveDeployment(org: string, env: string, id: string): Promise<void>
  /** The zip the deployment was created from (`:generateDownloadUrl`, then its GET). */
  getArchiveZip(org: string, env: string, id: string): Promise<Buffer>
  /** The proxy's revisions, or undefined when no deployment created it. */
  getApiProxy(org: string, api: string): Promise<ApiProxy | undefined>

  getOperation(org: string, uuid: string): Promise<Operation>
  listOperations(org: string, filter?: OperationFilter): Promise<Operation[]>

  /**
   * Validation's reads, when the backend has a faster way than the resources above (the local
   * store's documents). The rules are the same either way (archives/validate.ts).
   */
  tlsLookup?(org: string, env: string): TlsLookup

  /** Lets go of connections (the HTTP client's keep-alive pool). */
  close(): Promise<void>
}
