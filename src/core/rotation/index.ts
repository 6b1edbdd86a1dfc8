/**
 * Certificate rotation for configurable proxies (issue 14): the seed's "Update a certificate for
 * your proxy" as one command. plan.ts decides (new names, the targetservers.json rewrite, the
 * preflight), json-edit.ts rewrites bytes, run.ts carries it out through the ApigeeApi seam,
 * source-folder.ts locks and writes the source folder.
 */
export {describeFailure, describePlan} from './describe.js'
export {editTargetServers, unifiedDiff, type SslField, type ValueEdit} from './json-edit.js'
export {
  dateSuffix,
  planAliasRotation,
  planKeystoreRotation,
  type AliasRotationRequest,
  type KeystoreRotationRequest,
  type PreparedRotation,
  type RotationPlan,
} from './plan.js'
export {renewalOf, type Renewal} from './renewal.js'
export {DeploymentFailed, problemLines, rotateAlias, rotateKeystore, RotationFailed, type RotationEvents, type RotationResult} from './run.js'
export {lockSourceFolder, SOURCE_LOCK, writeFileAtomically} from './source-folder.js'
