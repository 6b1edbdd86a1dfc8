import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import {UsageError} from '../../cli/usage-error.js'
import {daysFlag} from '../../cli/value-flags.js'
import {formatPorts, type PlanView, planView} from '../../core/mesh/model.js'
import {installMesh, planMesh} from '../../core/mesh/plan.js'
import {PORT_KEYS} from '../../core/mesh/ports.js'

export default class MeshInstall extends BaseCommand<typeof MeshInstall> {
  static summary = 'Plan an Edge Private Cloud mTLS (Consul) mesh and make everything its nodes need.'
  static description = `Reads a topology file (YAML or JSON: data centers, nodes, components), checks it as apigee-mtls requires, and assigns each component's proxy ports linearly across the cluster. Writes to --out-dir the apigee-mtls configuration of each data center, the Consul CA, agent certificates and gossip key, the expected port report, a cluster runbook, and one <ip>.tar.gz bundle per node holding its Consul agent configuration, iptables rules and runbook. Runs on the administration machine and reaches no node.

With --dry-run it prints the plan only. An earlier plan in --out-dir is compared with the new one; nothing is replaced without --force.`
  static examples = [
    '<%= config.bin %> mesh install --topology examples/mesh/13-node.yaml --out-dir mesh-out',
    '<%= config.bin %> mesh install --topology topology.yaml --out-dir mesh-out --dry-run --format json',
    '<%= config.bin %> mesh install --topology big.yaml --out-dir out --allow-unsupported-topology --port-range egress=20000-20999',
  ]
  static defaultFormat = 'json'
  static flags = {
    topology: Flags.string({description: 'Topology file, YAML or JSON.', helpValue: 'FILE'}),
    'out-dir': Flags.string({description: 'Folder for the install files and bundles (made 0700).', helpValue: 'DIR'}),
    'dry-run': Flags.boolean({description: 'Print the plan (and what changed from an earlier one); write nothing.'}),
    'port-range': Flags.string({
      description: `A component's proxy port range; repeatable. Components: ${PORT_KEYS.join(', ')}.`,
      helpValue: 'COMPONENT=MIN-MAX',
      multiple: true,
    }),
    'ports-per-node': Flags.string({description: 'Proxy ports a node of the component uses; repeatable.', helpValue: 'COMPONENT=N', multiple: true}),
    'ca-cert': Flags.string({description: 'Use this Consul CA certificate instead of making one.', helpValue: 'FILE', dependsOn: ['ca-key']}),
    'ca-key': Flags.string({description: 'The Consul CA key (with --ca-cert).', helpValue: 'FILE', dependsOn: ['ca-cert']}),
    'gossip-key-file': Flags.string({description: 'Use this gossip key (`consul keygen` output) instead of making one.', helpValue: 'FILE'}),
    days: daysFlag({description: 'Validity of the agent certificates, in days.', default: 365}),
    'allow-unsupported-topology': Flags.boolean({description: 'Plan a topology other than 5, 9, 13 nodes or 12 in two data centers (with a warning).'}),
    force: Flags.boolean({description: 'Replace an earlier install in --out-dir (every node must then be reinstalled).'}),
  }

  protected async execute(): Promise<PlanView> {
    const topologyFile = await this.prompter.require(this.flags.topology, {flag: 'topology', message: 'Topology file:'})
    const outDir = this.flags['out-dir']
    const dryRun = this.flags['dry-run']
    if (outDir === undefined && !dryRun) {
      throw new UsageError('Missing required flag --out-dir.', 'Give --out-dir DIR for the install files, or --dry-run to print the plan only.')
    }
    const planned = await planMesh({
      topologyFile,
      outDir,
      portRanges: this.flags['port-range'],
      portsPerNode: this.flags['ports-per-node'],
      allowUnsupportedTopology: this.flags['allow-unsupported-topology'],
    })
    for (const warning of planned.warnings) this.out.warn(warning)
    const {plan} = planned
    const servers = plan.nodes.filter((n) => n.consulRole === 'server').length
    this.out.status(
      `Planned the Apigee mTLS mesh: ${plan.nodes.length} nodes in ${plan.datacenters.length} data center(s), ${servers} Consul servers.`,
    )
    if (planned.earlier && 'plan' in planned.earlier) {
      if (planned.changes.length === 0) this.out.status(`No change in nodes or ports from the earlier plan in ${outDir}.`)
      else this.out.status(`Changes from the earlier plan in ${outDir}:\n${planned.changes.map((c) => `  ${c}`).join('\n')}`)
      this.out.warn('apigee-mtls setup is not idempotent: installing a new plan means uninstalling and reinstalling apigee-mtls on every node.')
    }
    if (dryRun) {
      this.out.status('Dry run: nothing was written.')
      return planView(plan)
    }

    const result = await installMesh(planned, {
      outDir: outDir!,
      caCertFile: this.flags['ca-cert'],
      caKeyFile: this.flags['ca-key'],
      askPassword: this.prompter.interactive ? (file) => this.prompter.ask(`Password for the CA key ${file}:`, true) : undefined,
      gossipKeyFile: this.flags['gossip-key-file'],
      days: this.flags.days,
      force: this.flags.force,
    })
    for (const change of result.changes) this.out.status(`  ${change}`)
    for (const warning of result.warnings) this.out.warn(warning)
    this.out.status(`Wrote ${result.files.length} files to ${outDir} (private keys and the gossip key 0600).`)
    this.out.status(`Bundles: ${outDir}/bundles/<ip>.tar.gz, one per node, each with its node's runbook.md. Start with ${outDir}/runbook.md.`)
    this.out.status('Every bundle holds the Consul CA key (consul-agent-ca-key.pem): apigee-mtls setup reads PATH_TO_CA_KEY on each node.')
    return planView(plan)
  }

  protected renderDefault(view: PlanView): string {
    const rows = view.nodes.map((n) => [
      n.name === n.ip ? n.ip : `${n.ip} (${n.name})`,
      n.datacenter,
      n.components.join(','),
      PORT_KEYS.filter((k) => n.ports[k]).map((k) => `${k}=${formatPorts(n.ports[k]!)}`).join(' '),
      n.consulRole,
    ])
    const table = [['NODE', 'DATACENTER', 'COMPONENTS', 'PROXY_PORTS', 'CONSUL_ROLE'], ...rows]
    const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)))
    return table.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n') + '\n'
  }
}
