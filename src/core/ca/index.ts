/**
 * The local CA engine: keys, names, certificates, CSRs, PKCS#12, verification, handshakes,
 * and the `cas/NAME` registry. No CLI code here; node-forge is loaded only when used.
 */
export {createCa, type CreateCaOptions} from './authority.js'
export {
  type Certificate,
  type CertificateProfile,
  type CertificateTemplate,
  checkDays,
  checkUsage,
  createSelfSignedCertificate,
  type Issuer,
  issueCertificate,
  isSelfSigned,
  parseCertificate,
  parseCertificateChain,
  parseSerial,
  publicKeyOf,
  readCertificateChain,
  toPem,
  type Usage,
  USAGES,
} from './certificates.js'
export {type CertificateRequest, createCsr, parseCsr, readCsr} from './csr.js'
export {checkOutputs, type OutputFile, writeOutputs} from './files.js'
export {
  type CertificateDescription,
  type CertInfo,
  certInfo,
  describeCertificate,
  hexColons,
  validity,
} from './info.js'
export {
  type CaSelection,
  createCertificate,
  type CreateCertificateOptions,
  type IssuedCertificate,
  loadCa,
  signRequest,
  type SignRequestOptions,
} from './issuance.js'
export {checkCaCertificate, loadIssuer, loadIssuerFromFiles, type LoadedIssuer} from './issuer.js'
export {
  checkKeyType,
  describePublicKey,
  encodePrivateKey,
  generateKey,
  isEncryptedPrivateKey,
  KEY_TYPES,
  type KeyType,
  keysMatch,
  newKey,
  parsePrivateKey,
  readInputFile,
  readPrivateKey,
  startKeyGeneration,
} from './keys.js'
export {
  type ClientOutcome,
  connectHandshakeClient,
  type HandshakeResult,
  type HandshakeServer,
  runHandshake,
  startHandshakeServer,
  type TlsIdentity,
} from './handshake.js'
export {createPkcs12, exportPkcs12, type ExportedPkcs12, type Pkcs12Options} from './pkcs12.js'
export {
  caCertificate,
  caResourceName,
  type CertificateAuthority,
  getCa,
  listCas,
  loadRegisteredIssuer,
  registerCa,
} from './registry.js'
export {
  type DistinguishedName,
  formatName,
  formatSan,
  formatSubjectArgument,
  parseSans,
  parseSubject,
  type SubjectAltName,
} from './subject.js'
export {
  type Purpose,
  type VerificationReport,
  verificationError,
  verifyCertificate,
  verifyCertificateFile,
} from './verify.js'
