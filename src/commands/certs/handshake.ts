import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import {optionalPassword, passwordAsker} from '../../cli/secrets.js'
import {UsageError} from '../../cli/usage-error.js'
import {
  caCertificate,
  getCa,
  type HandshakeResult,
  isEncryptedPrivateKey,
  parsePrivateKey,
  readCertificateChain,
  readInputFile,
  runHandshake,
  type TlsIdentity,
} from '../../core/ca/index.js'

export default class CertsHandshake extends BaseCommand<typeof CertsHandshake> {
  static summary = 'Prove a certificate set works: a real mutual-TLS handshake on 127.0.0.1 between a server and a client certificate.'
  static description =
    "The server requires a client certificate signed by the CA; the client verifies the server's. A request and its answer " +
    'complete the round trip (with TLS 1.3 a refused client certificate only shows after the handshake). ' +
    'NAME means NAME.pem and NAME.key, as `certs create` writes them.'
  static examples = [
    '<%= config.bin %> certs handshake --ca RootCA --server my_server --client my_gateway',
    '<%= config.bin %> certs handshake --ca-cert RootCA.pem --server-cert srv.pem --server-key srv.key --client-cert gw.pem --client-key gw.key --hostname backend.example.com',
  ]
  static flags = {
    ca: Flags.string({description: 'A CA registered by `mtlsctl ca create`: both sides trust it.', helpValue: 'CA', exclusive: ['ca-cert']}),
    'ca-cert': Flags.string({description: 'The CA certificate file, instead of --ca.', helpValue: 'FILE'}),
    server: Flags.string({description: 'Server certificate: NAME.pem and NAME.key.', helpValue: 'NAME', exclusive: ['server-cert']}),
    'server-cert': Flags.string({description: 'Server certificate file.', helpValue: 'F', dependsOn: ['server-key']}),
    'server-key': Flags.string({description: 'Server key file.', helpValue: 'F', dependsOn: ['server-cert']}),
    client: Flags.string({description: 'Client certificate: NAME.pem and NAME.key.', helpValue: 'NAME', exclusive: ['client-cert']}),
    'client-cert': Flags.string({description: 'Client certificate file.', helpValue: 'F', dependsOn: ['client-key']}),
    'client-key': Flags.string({description: 'Client key file.', helpValue: 'F', dependsOn: ['client-cert']}),
    'server-key-password-file': Flags.string({
      description: 'File whose first line is the password of an encrypted server key (asked for on a terminal).',
      helpValue: 'F',
    }),
    'client-key-password-file': Flags.string({
      description: 'File whose first line is the password of an encrypted client key (asked for on a terminal).',
      helpValue: 'F',
    }),
    hostname: Flags.string({description: "Host name the client checks against the server certificate's SANs (none checked without it).", helpValue: 'H'}),
  }

  protected async execute() {
    const f = this.flags
    let ca: string
    if (f['ca-cert'] !== undefined) {
      ca = (await readCertificateChain(f['ca-cert'], 'ca-cert')).map((c) => c.pem).join('')
    } else {
      const name = await this.prompter.require(f.ca, {flag: 'ca', message: 'CA name:', hint: 'Give --ca NAME or --ca-cert FILE.'})
      ca = (await caCertificate(await getCa(this.store, name))).pem
    }
    const server = await this.identity('server', f.server, f['server-cert'], f['server-key'])
    const client = await this.identity('client', f.client, f['client-cert'], f['client-key'])
    const result = await runHandshake({ca, server, client, hostname: f.hostname})
    return result
  }

  private async identity(side: 'server' | 'client', name?: string, certFile?: string, keyFile?: string): Promise<TlsIdentity> {
    if (name === undefined && certFile === undefined) {
      throw new UsageError(`Missing required flag --${side}.`, `Give --${side} NAME (NAME.pem and NAME.key) or --${side}-cert FILE --${side}-key FILE.`)
    }
    const cert = certFile ?? `${name}.pem`
    const key = keyFile ?? `${name}.key`
    const chain = await readCertificateChain(cert, certFile === undefined ? undefined : `${side}-cert`)
    const pem = readInputFile(key, 'key', keyFile === undefined ? undefined : `${side}-key`)
    const passwordFlag = `${side}-key-password-file` as const
    let password = optionalPassword(this.flags[passwordFlag], passwordFlag)
    // An encrypted key without its password file: asked on a terminal, else exit 2 naming the flag.
    if (password === undefined && isEncryptedPrivateKey(pem)) password = await passwordAsker(this.prompter, passwordFlag)(key)
    return {certificate: chain.map((c) => c.pem).join(''), privateKey: parsePrivateKey(pem, {file: key, password})}
  }

  protected renderDefault(r: HandshakeResult): string {
    return (
      `Mutual TLS handshake succeeded on ${r.address} (${r.protocol}, ${r.cipher}).\n` +
      `  server: ${r.server.subject} (verified by the client${r.hostname ? `, host name ${r.hostname} checked` : ', no host name checked'})\n` +
      `  client: ${r.client.subject} (verified by the server)\n`
    )
  }
}
