/**
 * cert-manager manifests without a cluster (issue 15): read ClusterIssuers, Issuers and
 * Certificates, issue what cert-manager would with src/core/ca, write the Secrets, lint.
 */
export {type ApplyAction, type AppliedSecret, applyManifests, type ApplyOptions, type ApplyResult} from './apply.js'
export {inspectSecretManifest, looksLikeSecretManifest, type SecretInspection} from './describe.js'
export {type LintFinding, lintManifests, parseExpectHosts} from './lint.js'
export {MAX_YAML_ALIASES, readManifests} from './manifests.js'
export type {SecretManifest} from './secrets.js'
