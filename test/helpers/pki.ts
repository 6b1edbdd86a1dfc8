import * as fs from 'node:fs'
import * as path from 'node:path'

import {addAlias} from '../../src/core/aliases.js'
import {issueCertificate, parseCertificate} from '../../src/core/ca/certificates.js'
import {generateKey, parsePrivateKey} from '../../src/core/ca/keys.js'
import {parseSubject} from '../../src/core/ca/subject.js'
import {createEnvironment} from '../../src/core/environments.js'
import {createKeystore} from '../../src/core/keystores.js'
import {FileStore} from '../../src/core/store/index.js'

import {openssl as runOpenssl} from './openssl.js'

export {snapshot} from './openssl.js'

/** openssl's stdout; a failure throws with its stderr. */
export function openssl(args: string[], cwd: string): string {
  const r = runOpenssl(args, cwd)
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r.stdout
}

/**
 * The seed's Step 1, with real openssl: RootCA.{key,pem}, my_gateway.{key,csr,pem} and
 * my_server.{key,csr,pem} in dir (the eight files).
 */
export function seedStep1(dir: string): void {
  openssl(['req', '-new', '-x509', '-nodes', '-days', '365', '-subj', '/CN=my-ca', '-keyout', 'RootCA.key', '-out', 'RootCA.pem'], dir)
  for (const [name, cn] of [['my_gateway', 'gateway'], ['my_server', 'localhost']]) {
    openssl(['genrsa', '-out', `${name}.key`, '2048'], dir)
    openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`], dir)
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'RootCA.pem', '-CAkey', 'RootCA.key', '-set_serial', '01', '-out', `${name}.pem`, '-days', '365', '-sha256'], dir)
  }
}

/** A certificate of RootCA (in dir) with the given validity window: NAME.pem and NAME.key. */
export async function certWithValidity(dir: string, name: string, notBefore: Date, notAfter: Date): Promise<void> {
  const issuer = {
    certificate: await parseCertificate(fs.readFileSync(path.join(dir, 'RootCA.pem'))),
    privateKey: parsePrivateKey(fs.readFileSync(path.join(dir, 'RootCA.key'))),
  }
  const key = generateKey('rsa-2048')
  const pem = await issueCertificate({subject: parseSubject(`/CN=${name}`), publicKey: key, profile: {kind: 'leaf', usage: 'client'}, notBefore, notAfter}, issuer)
  fs.writeFileSync(path.join(dir, `${name}.pem`), pem)
  fs.writeFileSync(path.join(dir, `${name}.key`), key.export({type: 'pkcs8', format: 'pem'}) as string, {mode: 0o600})
}

/** `expired.pem` and `expired.key` in dir: a certificate of its RootCA valid from 30 days ago until yesterday. */
export function expiredCertificate(dir: string): Promise<void> {
  return certWithValidity(dir, 'expired', new Date(Date.now() - 30 * 86_400_000), new Date(Date.now() - 86_400_000))
}

/** `PARENT/certs` with the seed's Step 1 files (seedStep1) and, with `expired`, expiredCertificate's; its path. */
export async function seedCertsFolder(parent: string, options: {expired?: boolean} = {}): Promise<string> {
  const certs = path.join(parent, 'certs')
  fs.mkdirSync(certs)
  seedStep1(certs)
  if (options.expired) await expiredCertificate(certs)
  return certs
}

/**
 * The seed's environment (myorg/dev), keystores and aliases in the state folder `home`, made by
 * the engine directly from a seedCertsFolder(..., {expired: true}) folder `certs`.
 */
export async function seedState(home: string, certs: string): Promise<void> {
  const store = new FileStore(home)
  const file = (name: string) => fs.readFileSync(path.join(certs, name))
  await createEnvironment(store, 'myorg', 'dev')
  for (const ks of ['mtls_keystore', 'mtls_truststore', 'docs-keystore', 'expired-keystore']) await createKeystore(store, 'myorg', 'dev', ks)
  await addAlias(store, 'myorg', 'dev', 'mtls_keystore', 'mtls_alias', {format: 'keycertfile', cert: file('my_gateway.pem'), certFile: 'my_gateway.pem', key: file('my_gateway.key'), keyFile: 'my_gateway.key'})
  await addAlias(store, 'myorg', 'dev', 'mtls_truststore', 'rootca', {format: 'keycertfile', cert: file('RootCA.pem'), certFile: 'RootCA.pem'})
  await addAlias(store, 'myorg', 'dev', 'expired-keystore', 'expired', {format: 'keycertfile', cert: file('expired.pem'), certFile: 'expired.pem'}, {ignoreExpiryValidation: true})
}
