import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import {parseDuration} from '../../cli/duration.js'
import {ExitCode} from '../../cli/exit-codes.js'
import {environmentFlag, organizationFlag} from '../../cli/flags.js'
import {checkTlsVersion, identityFlags, readIdentity, readStoreIdentity, readStoreTrust, readTrust, trustFlags} from '../../cli/tls-client.js'
import {parseTarget, type ProbeOutcome, type ProbeReport, probeEndpoint} from '../../core/probe/probe.js'

/** The exit code of each outcome (README: Exit codes). */
export const PROBE_EXIT: Record<ProbeOutcome, number> = {
  ok: ExitCode.OK,
  unreachable: ExitCode.UNREACHABLE,
  'not-tls': ExitCode.TLS_FAILURE,
  'tls-failure': ExitCode.TLS_FAILURE,
  'verification-failed': ExitCode.VERIFICATION_FAILED,
  'client-certificate-refused': ExitCode.CLIENT_CERTIFICATE_REFUSED,
}

const OUTCOME_WORDS: Record<ProbeOutcome, string> = {
  ok: 'OK',
  unreachable: 'UNREACHABLE',
  'not-tls': 'NOT TLS',
  'tls-failure': 'TLS FAILURE',
  'verification-failed': 'VERIFICATION FAILED',
  'client-certificate-refused': 'CLIENT CERTIFICATE REFUSED',
}

export default class CertsProbe extends BaseCommand<typeof CertsProbe> {
  static summary = 'Probe a TLS endpoint as an mTLS client: chain, verification, and whether a client certificate is required and accepted.'
  static description =
    'One handshake without a client certificate (does the server ask for one, and insist?), then, when it asks and one is given, ' +
    'the same handshake with it. An HTTP request follows each handshake: nginx refuses client certificates with HTTP 400, not an alert. ' +
    'Exit codes: 0 all good, 10 unreachable, 11 not TLS or TLS failure, 12 verification failed, 13 client certificate refused (or required and none given).'
  static examples = [
    '<%= config.bin %> certs probe backend.example.com:443 --ca RootCA.pem --cert my_gateway.pem --key my_gateway.key',
    '<%= config.bin %> certs probe backend.example.com:443 --truststore mtls_truststore --keystore mtls_keystore --alias mtls_alias --organization myorg --environment dev',
    '<%= config.bin %> certs probe 127.0.0.1:8443 --servername backend.example.com --tls 1.2 --format json',
  ]
  static args = {target: Args.string({description: 'HOST:PORT of the server.'})}
  static flags = {
    servername: Flags.string({description: 'Name sent as SNI and checked against the certificate (default: HOST).', helpValue: 'NAME'}),
    ...trustFlags,
    ...identityFlags,
    tls: Flags.string({description: 'Offer only this TLS version: 1.2 or 1.3 (default: 1.2 and 1.3).', helpValue: '1.2|1.3'}),
    timeout: Flags.string({description: 'Bound on connecting and on the handshake.', default: '5s', helpValue: 'DURATION'}),
    organization: organizationFlag,
    environment: environmentFlag,
  }

  protected async execute() {
    const f = this.flags
    const target = parseTarget(await this.prompter.require(this.args.target, {arg: 'TARGET', message: 'HOST:PORT:'}))
    const timeoutMs = parseDuration(f.timeout, 'timeout')
    const tlsVersion = checkTlsVersion(f.tls)
    const fromStore = f.truststore !== undefined || f.keystore !== undefined
    const where = fromStore ? await this.location({choices: false}) : undefined
    const ca = where && f.truststore ? await readStoreTrust(this.store, where.org, where.env, f.truststore) : await readTrust(f)
    const client = where && f.keystore && f.alias ? await readStoreIdentity(this.store, where.org, where.env, f.keystore, f.alias) : await readIdentity(f)
    const report = await probeEndpoint({...target, servername: f.servername, ca, client, tlsVersion, timeoutMs})
    process.exitCode = PROBE_EXIT[report.outcome]
    return report
  }

  protected renderDefault(r: ProbeReport): string {
    const row = (label: string, value: string) => `${`${label}:`.padEnd(20)}${value}\n`
    let text = row('Target', r.target + (r.serverName ? ` (server name ${r.serverName})` : ''))
    text += row('Reachable', r.reachable ? 'yes' : `no`)
    if (r.reachable) text += row('TLS', r.tls ? (r.protocol ? `${r.protocol}, ${r.cipher}` : 'yes (handshake refused)') : 'no')
    if (r.chain.length > 0) {
      text += row('Chain presented', `${r.chain.length} certificate${r.chain.length === 1 ? '' : 's'}`)
      for (const [i, c] of r.chain.entries()) {
        const left = c.daysLeft >= 0 ? `${c.daysLeft} day${c.daysLeft === 1 ? '' : 's'} left` : `expired ${-c.daysLeft} day${c.daysLeft === -1 ? '' : 's'} ago`
        text += `  [${i}] Subject:      ${c.subject}\n`
        text += `      Issuer:       ${c.issuer}\n`
        text += `      SANs:         ${c.sans.join(', ') || '(none)'}\n`
        text += `      Valid:        ${c.notBefore} to ${c.notAfter} (${left})\n`
        text += `      Key:          ${c.publicKey}\n`
        text += `      SHA-256:      ${c.sha256Fingerprint}\n`
      }
    }
    if (r.verification) {
      const v = r.verification
      text += row('Verification', v.trusted ? `trusted (${v.against}, host name ${v.hostname})` : `FAILED against ${v.against}: ${v.error}`)
    }
    if (r.tls) {
      const cc = r.clientCertificate
      const policy = {
        required: `required by the server (without one: ${cc.withoutOne})`,
        optional: 'requested by the server, not required',
        ignored: 'not requested by the server',
        unknown: 'unknown',
      }[cc.server]
      text += row('Client certificate', policy)
      if (cc.given !== null) {
        const verdict = cc.accepted === null ? 'not offered (the server does not ask for one)' : cc.accepted ? 'accepted' : `REFUSED: ${cc.refusal}`
        text += row('  given', `${cc.given}: ${verdict}`)
      }
    }
    text += row('Result', r.outcome === 'ok' ? 'OK' : `${OUTCOME_WORDS[r.outcome]}: ${r.error}`)
    return text
  }
}
