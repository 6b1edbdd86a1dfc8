export {
  boringSslReason,
  CERTIFICATE_VERIFY_FAILED_REPLY,
  classifyUpstreamError,
  failureReply,
  packedCode,
  REPLIES,
  tlsFailureReason,
  tlsFailureReply,
  type BoringSslReason,
  type LocalReply,
  type UpstreamFailure,
} from './replies.js'
export {
  normalizePath,
  parseTemplate,
  route,
  selectEnvironment,
  type EnvironmentRoutes,
  type OperationRoute,
  type ProxyRoute,
  type ResolvedTarget,
  type RouteMatch,
  type RuntimeSnapshot,
  type TargetRef,
} from './routes.js'
export {parseArchive, SnapshotLoader, type SnapshotEvents} from './snapshot.js'
export {commonNameMatches, protocolRange, targetTls, type TargetTls, type UpstreamTls} from './tls.js'
export {serverCertificate, type ServerCertificate} from './server-certificate.js'
export {curlCommand, type CurlOptions} from './curl.js'
