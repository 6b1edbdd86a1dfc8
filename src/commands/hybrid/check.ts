import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import {parseDuration} from '../../cli/duration.js'
import {ExitCode} from '../../cli/exit-codes.js'
import {readIdentity, readTrust} from '../../cli/tls-client.js'
import {checkableComponents, checkComponent, type CheckResult} from '../../core/hybrid/check.js'

export default class HybridCheck extends BaseCommand<typeof HybridCheck> {
  static summary = "Probe every port the seed lists for a component as a destination: expected security beside observed, a verdict per port."
  static description =
    'Observed: closed, plain TCP, TLS, or mTLS (the server requires a client certificate). The probes run concurrently. ' +
    `Exit 0 when every port is as the seed says, ${ExitCode.CHECK_DIFFERS} when one differs. Components: ${checkableComponents().join(', ')}.`
  static examples = [
    '<%= config.bin %> hybrid check 10.0.0.12 --component cassandra',
    '<%= config.bin %> hybrid check apigee-cassandra-default-0.apigee-cassandra-default.apigee.svc --component cassandra --ca ca.pem --cert client.pem --key client.key',
  ]
  static args = {host: Args.string({description: 'Host (name or address) of the component.'})}
  static flags = {
    component: Flags.string({description: 'The component at HOST.', options: checkableComponents(), required: true, helpValue: 'C'}),
    ca: Flags.string({description: "Also verify each TLS port's chain against this CA (PEM).", helpValue: 'FILE'}),
    cert: Flags.string({description: 'Client certificate to offer where one is asked for (PEM).', helpValue: 'F', dependsOn: ['key']}),
    key: Flags.string({description: 'Its private key (PEM, unencrypted).', helpValue: 'F', dependsOn: ['cert']}),
    timeout: Flags.string({description: 'Bound on each probe.', default: '5s', helpValue: 'DURATION'}),
  }
  static defaultFormat = 'table(port,expected,observed,verdict,detail)'

  protected async execute() {
    const f = this.flags
    const host = await this.prompter.require(this.args.host, {arg: 'HOST', message: 'Host:'})
    const result = await checkComponent(host, f.component, {
      ca: await readTrust(f),
      client: await readIdentity(f),
      timeoutMs: parseDuration(f.timeout, 'timeout'),
    })
    if (!result.ok) process.exitCode = ExitCode.CHECK_DIFFERS
    return result
  }

  protected renderDefault(r: CheckResult): string {
    const rows = [['PORT', 'EXPECTED', 'OBSERVED', 'VERDICT', 'DETAIL'], ...r.ports.map((p) => [String(p.port), p.expected, p.observed, p.verdict, p.detail ?? ''])]
    const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)))
    const lines = rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd())
    const differs = r.ports.filter((p) => p.verdict === 'differs').length
    return `${r.component} at ${r.host}\n${lines.join('\n')}\n${differs === 0 ? 'Every port is as the seed says.' : `${differs} of ${r.ports.length} ports differ from the seed.`}\n`
  }
}
