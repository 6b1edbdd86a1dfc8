import * as aliases from '../aliases.js'
import type {AliasSource} from '../alias-sources.js'
import {
  createArchiveDeployment,
  deleteArchiveDeployment,
  getApiProxy,
  getArchiveDeployment,
  getArchiveZip,
  listArchiveDeploymentDocs,
  runArchiveDeployment,
  type ArchiveDeployment,
} from '../archives/deployments.js'
import {storeLookup} from '../archives/validate.js'
import {getEnvironment, listEnvironments} from '../environments.js'
import * as keystores from '../keystores.js'
import {getOperation, listOperations, type Operation, type OperationFilter} from '../operations.js'
import * as references from '../references.js'
import type {ReferenceInput} from '../references.js'
import type {Store} from '../store/index.js'
import type {ApigeeApi, DeployOptions} from './api.js'

export interface LocalApigeeOptions {
  /** Words for `where` (the state folder). */
  where?: string
  /**
   * Runs a deployment after this process returns (`archives deploy --async`: the CLI starts
   * the detached worker). Without it, background deployments run in this process.
   */
  startWorker?: (deployment: {org: string; deployment: string; operation: string}) => void
}

/** The engine over the state store: what the CLI uses by default and the emulator serves. */
export class LocalApigee implements ApigeeApi {
  readonly backend = 'local' as const
  readonly where: string

  constructor(
    readonly store: Store,
    private readonly options: LocalApigeeOptions = {},
  ) {
    this.where = options.where ?? 'the local engine'
  }

  async listEnvironmentNames(org: string) {
    return (await listEnvironments(this.store, org)).map((e) => e.name)
  }

  getEnvironment(org: string, env: string) {
    return getEnvironment(this.store, org, env)
  }

  createKeystore(org: string, env: string, ks: string) {
    return keystores.createKeystore(this.store, org, env, ks)
  }

  getKeystore(org: string, env: string, ks: string) {
    return keystores.getKeystore(this.store, org, env, ks)
  }

  listKeystoreNames(org: string, env: string) {
    return keystores.listKeystores(this.store, org, env)
  }

  deleteKeystore(org: string, env: string, ks: string) {
    return keystores.deleteKeystore(this.store, org, env, ks)
  }

  createAlias(org: string, env: string, ks: string, alias: string, source: AliasSource, options?: {ignoreExpiryValidation?: boolean}) {
    return aliases.addAlias(this.store, org, env, ks, alias, source, options)
  }

  getAlias(org: string, env: string, ks: string, alias: string) {
    return aliases.getAlias(this.store, org, env, ks, alias)
  }

  async listAliasNames(org: string, env: string, ks: string) {
    return (await keystores.getKeystore(this.store, org, env, ks)).aliases
  }

  deleteAlias(org: string, env: string, ks: string, alias: string) {
    return aliases.deleteAlias(this.store, org, env, ks, alias)
  }

  updateAliasCertificate(org: string, env: string, ks: string, alias: string, cert: {data: Buffer; file: string}, options?: {ignoreExpiryValidation?: boolean}) {
    return aliases.updateAliasCertificate(this.store, org, env, ks, alias, cert, options)
  }

  aliasCertificate(org: string, env: string, ks: string, alias: string) {
    return aliases.aliasCertificate(this.store, org, env, ks, alias)
  }

  aliasCsr(org: string, env: string, ks: string, alias: string) {
    return aliases.aliasCsr(this.store, org, env, ks, alias)
  }

  createReference(org: string, env: string, name: string, input: ReferenceInput) {
    return references.createReference(this.store, org, env, name, input)
  }

  getReference(org: string, env: string, name: string) {
    return references.getReference(this.store, org, env, name)
  }

  async listReferenceNames(org: string, env: string) {
    return (await references.listReferences(this.store, org, env)).map((r) => r.name)
  }

  updateReference(org: string, env: string, name: string, input: ReferenceInput) {
    return references.updateReference(this.store, org, env, name, input)
  }

  deleteReference(org: string, env: string, name: string) {
    return references.deleteReference(this.store, org, env, name)
  }

  async deployArchive(org: string, env: string, zip: Buffer, options: DeployOptions): Promise<Operation> {
    const {deployment, operation} = await createArchiveDeployment(this.store, org, env, zip, {labels: options.labels, workerPid: process.pid})
    options.onCreated?.(operation)
    if (options.background && this.options.startWorker) {
      this.options.startWorker({org, deployment: deployment.name, operation: operation.name})
      return operation
    }
    if (options.background) {
      void runArchiveDeployment(this.store, org, deployment.name).catch(() => {})
      return operation
    }
    await runArchiveDeployment(this.store, org, deployment.name)
    return getOperation(this.store, org, operation.name.split('/').pop() as string)
  }

  async listArchiveDeployments(org: string, env: string): Promise<ArchiveDeployment[]> {
    return listArchiveDeploymentDocs(this.store, org, env)
  }

  async getArchiveDeployment(org: string, env: string, id: string): Promise<ArchiveDeployment> {
    const {operationStatus: _status, ...deployment} = await getArchiveDeployment(this.store, org, env, id)
    return deployment
  }

  getArchiveZip(org: string, env: string, id: string) {
    return getArchiveZip(this.store, org, env, id)
  }

  deleteArchiveDeployment(org: string, env: string, id: string) {
    return deleteArchiveDeployment(this.store, org, env, id)
  }

  getApiProxy(org: string, api: string) {
    return getApiProxy(this.store, org, api)
  }

  getOperation(org: string, uuid: string) {
    return getOperation(this.store, org, uuid)
  }

  listOperations(org: string, filter?: OperationFilter) {
    return listOperations(this.store, org, filter)
  }

  tlsLookup(org: string, env: string) {
    return storeLookup(this.store, org, env)
  }

  async close(): Promise<void> {}
}
