import {execFile} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type ApiServer} from '../../src/emulator/index.js'
import {ALIAS_UPDATE_DISABLED} from '../../src/core/aliases.js'
import {REFERENCE_UPDATE_DISABLED} from '../../src/core/references.js'
import {json, request, startServer} from '../helpers/api.js'
import {rmTemp, tempDir} from '../helpers/cli.js'
import {openssl, seedCertsFolder} from '../helpers/pki.js'

/**
 * Aliases through the API with curl, as Apigee's documentation writes the requests:
 * `-F certFile=@... -F keyFile=@...` for keycertfile, `-F file=@... -F password=...` for pkcs12.
 */
let dir: string
let certs: string
let server: ApiServer
const BASE = '/v1/organizations/myorg/environments'

interface Curl {
  status: number
  body: any
}

async function curl(args: string[]): Promise<Curl> {
  const {stdout} = await promisify(execFile)('curl', ['-sS', '-H', 'Authorization: Bearer any-token', '-w', '\n%{http_code}', ...args], {cwd: certs})
  const at = stdout.lastIndexOf('\n')
  const text = stdout.slice(0, at)
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // PEM answers (certificate, csr) stay text.
  }
  return {status: Number(stdout.slice(at + 1)), body}
}

const url = (p: string) => `${server.url.replace(/\/$/, '')}${BASE}${p}`

async function setup(env: string, type: string): Promise<void> {
  const r = await request(server.url, 'POST', `/v1/organizations/myorg/environments?name=${env}`, json({apiProxyType: type.toUpperCase(), deploymentType: 'ARCHIVE'}))
  expect(r.status).toBe(200)
  expect(r.json()).toMatchObject({done: true, metadata: {operationType: 'INSERT', state: 'FINISHED', targetResourceName: `organizations/myorg/environments/${env}`}, response: {name: env, apiProxyType: type.toUpperCase()}})
  for (const ks of ['mtls_keystore', 'mtls_truststore']) {
    expect((await curl(['-X', 'POST', url(`/${env}/keystores`), '-H', 'Content-Type: application/json', '-d', JSON.stringify({name: ks})])).status).toBe(200)
  }
}

beforeAll(async () => {
  dir = tempDir()
  certs = await seedCertsFolder(dir, {expired: true})
  openssl(['pkcs12', '-export', '-in', 'my_gateway.pem', '-inkey', 'my_gateway.key', '-certfile', 'RootCA.pem', '-passout', 'pass:p12secret', '-out', 'gateway.p12'], certs)
  fs.writeFileSync(path.join(certs, 'combined.pem'), fs.readFileSync(path.join(certs, 'my_server.pem'), 'utf8') + fs.readFileSync(path.join(certs, 'my_server.key'), 'utf8'))
  server = await startServer(path.join(dir, 'state'))
  await setup('dev', 'configurable')
  await setup('prog', 'programmable')
})
afterAll(async () => {
  await server.close()
  rmTemp(dir)
})

describe('aliases over the API, with curl and the documented multipart form', () => {
  it('keycertfile with certFile and keyFile: a KEY_CERT alias; with certFile only: a CERT (truststore) alias', async () => {
    const keyCert = await curl(['-X', 'POST', url('/dev/keystores/mtls_keystore/aliases?alias=mtls_alias&format=keycertfile'), '-H', 'Content-Type: multipart/form-data', '-F', 'certFile=@my_gateway.pem', '-F', 'keyFile=@my_gateway.key'])
    expect(keyCert.status).toBe(200)
    expect(keyCert.body).toMatchObject({alias: 'mtls_alias', type: 'KEY_CERT', certsInfo: {certInfo: [{subject: 'CN=gateway', issuer: 'CN=my-ca', isValid: 'Yes', basicConstraints: 'CA:FALSE', serialNumber: '01'}]}})
    const certOnly = await curl(['-X', 'POST', url('/dev/keystores/mtls_truststore/aliases?alias=rootca&format=keycertfile'), '-F', 'certFile=@RootCA.pem'])
    expect(certOnly.status).toBe(200)
    expect(certOnly.body).toMatchObject({alias: 'rootca', type: 'CERT', certsInfo: {certInfo: [{subject: 'CN=my-ca', basicConstraints: 'CA:TRUE'}]}})

    expect((await curl([url('/dev/keystores/mtls_keystore')])).body).toEqual({name: 'mtls_keystore', aliases: ['mtls_alias']})
    expect((await curl([url('/dev/keystores/mtls_keystore/aliases')])).body).toEqual(['mtls_alias'])
    expect((await curl([url('/dev/keystores/mtls_keystore/aliases/mtls_alias')])).body).toEqual(keyCert.body)
    const pem = await curl([url('/dev/keystores/mtls_keystore/aliases/mtls_alias/certificate')])
    expect(pem.body).toBe(fs.readFileSync(path.join(certs, 'my_gateway.pem'), 'utf8'))
    const csr = await curl([url('/dev/keystores/mtls_keystore/aliases/mtls_alias/csr')])
    expect(csr.status).toBe(200)
    fs.writeFileSync(path.join(certs, 'alias.csr'), csr.body)
    expect(openssl(['req', '-in', 'alias.csr', '-noout', '-subject', '-verify'], certs)).toContain('subject=CN = gateway')
  })

  it('a key and certificate in one file, an encrypted key with its password, pkcs12 with its password (form field or query), selfsignedcert JSON', async () => {
    const combined = await curl(['-X', 'POST', url('/dev/keystores/mtls_keystore/aliases?alias=server&format=keycertfile'), '-F', 'certFile=@combined.pem'])
    expect(combined.body).toMatchObject({alias: 'server', type: 'KEY_CERT'})
    openssl(['pkcs8', '-topk8', '-in', 'my_gateway.key', '-v2', 'aes-256-cbc', '-passout', 'pass:keypass', '-out', 'encrypted.key'], certs)
    const encrypted = await curl(['-X', 'POST', url('/dev/keystores/mtls_keystore/aliases?alias=encrypted&format=keycertfile'), '-F', 'certFile=@my_gateway.pem', '-F', 'keyFile=@encrypted.key', '-F', 'password=keypass'])
    expect(encrypted.body).toMatchObject({alias: 'encrypted', type: 'KEY_CERT'})
    const p12 = await curl(['-X', 'POST', url('/dev/keystores/mtls_keystore/aliases?alias=p12&format=pkcs12'), '-F', 'file=@gateway.p12', '-F', 'password=p12secret'])
    expect(p12.status).toBe(200)
    expect(p12.body).toMatchObject({alias: 'p12', type: 'KEY_CERT'})
    expect(p12.body.certsInfo.certInfo.map((c: {subject: string}) => c.subject)).toEqual(['CN=gateway', 'CN=my-ca'])
    // apigeecli sends the password as a query parameter.
    const p12q = await curl(['-X', 'POST', url('/dev/keystores/mtls_keystore/aliases?alias=p12q&format=pkcs12&password=p12secret'), '-F', 'file=@gateway.p12'])
    expect(p12q.body).toMatchObject({alias: 'p12q', type: 'KEY_CERT'})
    const self = await curl(['-X', 'POST', url('/dev/keystores/mtls_keystore/aliases?alias=self&format=selfsignedcert'), '-H', 'Content-Type: application/json', '-d', JSON.stringify({
      keySize: '2048', sigAlg: 'SHA256withRSA', certValidityInDays: '30',
      subject: {commonName: 'self.example.com', org: 'Acme/Labs', countryCode: 'US'},
      subjectAlternativeDNSNames: {subjectAlternativeName: 'self.example.com'},
    })])
    expect(self.status).toBe(200)
    expect(self.body).toMatchObject({alias: 'self', type: 'KEY_CERT', certsInfo: {certInfo: [{subjectAlternativeNames: ['self.example.com'], sigAlgName: 'SHA256-RSA'}]}})
    expect(self.body.certsInfo.certInfo[0].subject).toContain('O=Acme/Labs')
    const days = (Number(self.body.certsInfo.certInfo[0].expiryDate) - Number(self.body.certsInfo.certInfo[0].validFrom)) / 86_400_000
    expect(Math.round(days)).toBe(30)
  })

  it('the keystores issue\'s refusals come back as Google-shaped errors', async () => {
    const refusals: Array<[string[], number, string, string | RegExp]> = [
      [['-X', 'POST', url('/dev/keystores/mtls_keystore/aliases?alias=mismatch&format=keycertfile'), '-F', 'certFile=@my_gateway.pem', '-F', 'keyFile=@my_server.key'], 400, 'INVALID_ARGUMENT', 'The private key in my_server.key does not match the certificate in my_gateway.pem.'],
      [['-X', 'POST', url('/dev/keystores/mtls_truststore/aliases?alias=old&format=keycertfile'), '-F', 'certFile=@expired.pem'], 400, 'INVALID_ARGUMENT', /^Certificate has expired: the certificate in expired\.pem expired on /],
      [['-X', 'POST', url('/dev/keystores/mtls_keystore/aliases?alias=mtls_alias&format=keycertfile'), '-F', 'certFile=@my_gateway.pem', '-F', 'keyFile=@my_gateway.key'], 409, 'ALREADY_EXISTS', 'Alias "organizations/myorg/environments/dev/keystores/mtls_keystore/aliases/mtls_alias" already exists.'],
      [['-X', 'POST', url('/dev/keystores/missing/aliases?alias=a&format=keycertfile'), '-F', 'certFile=@RootCA.pem'], 404, 'NOT_FOUND', 'Keystore "organizations/myorg/environments/dev/keystores/missing" not found.'],
      [['-X', 'POST', url('/dev/keystores/mtls_keystore/aliases?alias=bad&format=pkcs12'), '-F', 'file=@gateway.p12', '-F', 'password=wrong'], 400, 'INVALID_ARGUMENT', /gateway\.p12/],
      [['-X', 'POST', url('/dev/keystores/mtls_keystore/aliases?alias=nofile&format=keycertfile'), '-F', 'keyFile=@my_gateway.key'], 400, 'INVALID_ARGUMENT', "Missing required multipart field 'certFile' for format keycertfile."],
      [['-X', 'POST', url('/dev/keystores/mtls_keystore/aliases?alias=x&format=jks'), '-F', 'file=@gateway.p12'], 400, 'INVALID_ARGUMENT', 'Invalid format "jks": use keycertfile, pkcs12 or selfsignedcert.'],
      [['-X', 'POST', url('/dev/keystores/mtls_keystore/aliases?alias=x&format=keycertfile&ignoreExpiryValidation=maybe'), '-F', 'certFile=@RootCA.pem'], 400, 'INVALID_ARGUMENT', "Invalid value \"maybe\" for query parameter 'ignoreExpiryValidation': use true or false."],
      [['-X', 'PUT', url('/dev/keystores/mtls_keystore/aliases/mtls_alias'), '-F', 'certFile=@my_gateway.pem'], 400, 'FAILED_PRECONDITION', ALIAS_UPDATE_DISABLED],
      [['-X', 'POST', url('/dev/references'), '-H', 'Content-Type: application/json', '-d', '{"name": "ks_ref", "refers": "nowhere", "resourceType": "KeyStore"}'], 400, 'INVALID_ARGUMENT', 'Reference target "organizations/myorg/environments/dev/keystores/nowhere" does not exist.'],
    ]
    for (const [args, code, status, message] of refusals) {
      const r = await curl(args)
      expect(r.status, args.join(' ')).toBe(code)
      expect(r.body.error).toMatchObject({code, status})
      if (typeof message === 'string') expect(r.body.error.message).toBe(message)
      else expect(r.body.error.message).toMatch(message)
    }
    // Nothing of the refused aliases was stored.
    expect((await curl([url('/dev/keystores/mtls_truststore/aliases')])).body).toEqual(['rootca'])
    // ignoreExpiryValidation=true stores the expired certificate (how the documented deploy error can arise).
    const expired = await curl(['-X', 'POST', url('/dev/keystores/mtls_truststore/aliases?alias=old&format=keycertfile&ignoreExpiryValidation=true'), '-F', 'certFile=@expired.pem'])
    expect(expired.body).toMatchObject({alias: 'old', type: 'CERT', certsInfo: {certInfo: [{isValid: 'No'}]}})
  })

  it('references: CRUD, and the update refused on a configurable environment, allowed on a programmable one', async () => {
    const create = (env: string) => curl(['-X', 'POST', url(`/${env}/references`), '-H', 'Content-Type: application/json', '-d', '{"name": "ks_ref", "refers": "mtls_keystore", "resourceType": "KeyStore"}'])
    expect((await create('dev')).body).toEqual({name: 'ks_ref', refers: 'mtls_keystore', resourceType: 'KeyStore'})
    expect((await create('prog')).status).toBe(200)
    expect((await curl([url('/dev/references')])).body).toEqual(['ks_ref'])
    const update = (env: string) => curl(['-X', 'PUT', url(`/${env}/references/ks_ref`), '-H', 'Content-Type: application/json', '-d', '{"refers": "mtls_truststore", "resourceType": "TrustStore"}'])
    const refused = await update('dev')
    expect(refused).toEqual({status: 400, body: {error: {code: 400, message: REFERENCE_UPDATE_DISABLED, status: 'FAILED_PRECONDITION'}}})
    expect((await update('prog')).body).toEqual({name: 'ks_ref', refers: 'mtls_truststore', resourceType: 'TrustStore'})
    expect((await curl(['-X', 'DELETE', url('/prog/references/ks_ref')])).status).toBe(200)
    expect((await curl([url('/prog/references/ks_ref')])).status).toBe(404)
  })

  it('alias update by PUT on a programmable environment; delete', async () => {
    const add = await curl(['-X', 'POST', url('/prog/keystores/mtls_keystore/aliases?alias=gw&format=keycertfile'), '-F', 'certFile=@my_gateway.pem', '-F', 'keyFile=@my_gateway.key'])
    expect(add.status).toBe(200)
    // Re-issue the gateway certificate for the same key, as a renewal does.
    openssl(['x509', '-req', '-in', 'my_gateway.csr', '-CA', 'RootCA.pem', '-CAkey', 'RootCA.key', '-set_serial', '02', '-out', 'renewed.pem', '-days', '30', '-sha256'], certs)
    const updated = await curl(['-X', 'PUT', url('/prog/keystores/mtls_keystore/aliases/gw'), '-F', 'certFile=@renewed.pem'])
    expect(updated.status).toBe(200)
    expect(updated.body.certsInfo.certInfo[0].serialNumber).toBe('02')
    const deleted = await curl(['-X', 'DELETE', url('/prog/keystores/mtls_keystore/aliases/gw')])
    expect(deleted.body).toMatchObject({alias: 'gw'})
    expect((await curl([url('/prog/keystores/mtls_keystore/aliases/gw')])).status).toBe(404)
    expect((await curl(['-X', 'DELETE', url('/prog/keystores/mtls_keystore')])).body).toEqual({name: 'mtls_keystore', aliases: []})
  })
})
