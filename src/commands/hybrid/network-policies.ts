import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import {writeOutputs} from '../../core/ca/files.js'
import {firewallRules, gcloudCommands} from '../../core/hybrid/firewall.js'
import {type NetworkPolicy, networkPolicies, validatePolicies} from '../../core/hybrid/policies.js'

export default class HybridNetworkPolicies extends BaseCommand<typeof HybridNetworkPolicies> {
  static summary = "Kubernetes NetworkPolicies that admit exactly the seed's internal flows between hybrid components, DNS and egress on 443; the rest denied."
  static description =
    'One policy per pod selector (labels as Apigee hybrid sets them; override with --label), declaring Ingress and Egress, checked against ' +
    "Kubernetes' NetworkPolicy schema. Printed as YAML documents for `kubectl apply -f -` (--format json: a v1 List). " +
    '--format gcloud prints the equivalent `gcloud compute firewall-rules create` lines between the apigee-runtime and apigee-data node pools ' +
    '(as network tags on their nodes).'
  static examples = [
    '<%= config.bin %> hybrid network-policies --namespace apigee | kubectl apply -f -',
    '<%= config.bin %> hybrid network-policies --out apigee-netpol.yaml',
    '<%= config.bin %> hybrid network-policies --format gcloud --network my-vpc',
  ]
  static flags = {
    namespace: Flags.string({description: 'Namespace of the hybrid runtime components.', default: 'apigee', helpValue: 'NS'}),
    out: Flags.string({description: 'Write the manifests (or the gcloud lines) to this file instead of stdout.', helpValue: 'FILE'}),
    label: Flags.string({description: "A component's pod labels instead of hybrid's (repeat for several keys): COMPONENT=KEY=VALUE.", multiple: true, helpValue: 'C=K=V'}),
    'ingress-port': Flags.integer({description: "The Default Istio Ingress's port for client apps (the seed: configurable).", default: 443, min: 1, max: 65_535}),
    network: Flags.string({description: 'VPC network of the firewall rules (--format gcloud).', default: 'default', helpValue: 'NETWORK'}),
  }

  protected async execute() {
    const f = this.flags
    if (f.format === 'gcloud') {
      return {gcloud: gcloudCommands(firewallRules({ingressPort: f['ingress-port']}), f.network)}
    }
    const items = networkPolicies({namespace: f.namespace, labels: f.label, ingressPort: f['ingress-port']})
    await validatePolicies(items)
    return {apiVersion: 'v1', kind: 'List', items}
  }

  protected async emit(result: {gcloud?: string; items?: NetworkPolicy[]}): Promise<void> {
    let text: string
    if (result.gcloud !== undefined) {
      text = result.gcloud
    } else if (this.flags.format === undefined) {
      const {stringify} = await import('yaml')
      text = (result.items ?? []).map((p) => `---\n${stringify(p, {lineWidth: 0, aliasDuplicateObjects: false})}`).join('')
    } else if (this.flags.out === undefined) {
      await super.emit(result)
      return
    } else {
      text = this.flags.format === 'json' ? `${JSON.stringify(result, null, 2)}\n` : (await import('yaml')).stringify(result, {lineWidth: 0, aliasDuplicateObjects: false})
    }
    if (this.flags.out === undefined) {
      this.out.result(text)
    } else {
      // A regenerated manifest replaces the previous one (written whole, through a temporary file).
      writeOutputs([{path: this.flags.out, data: text}], true)
      this.out.status(`Wrote ${this.flags.out}.`)
    }
  }
}
