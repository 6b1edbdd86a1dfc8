import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import {componentIds, hybridPorts} from '../../core/hybrid/ports.js'

export default class HybridPorts extends BaseCommand<typeof HybridPorts> {
  static summary = "The hybrid runtime plane's ports, as the seed's three tables give them: internal, inbound, outbound and two-way."
  static description =
    'Each row: direction, source, destination, protocol and port(s), security and description, exactly as Apigee\'s "Secure ports usage" ' +
    'writes them; a `*` port is configurable (Apigee recommends 443). Components are matched by name or id ' +
    `(${componentIds().join(', ')}).`
  static examples = [
    '<%= config.bin %> hybrid ports',
    '<%= config.bin %> hybrid ports --destination cassandra --security mtls',
    "<%= config.bin %> hybrid ports --direction outbound --format 'value(source,protocolPorts)'",
  ]
  static flags = {
    source: Flags.string({description: 'Only rows from this component.', helpValue: 'C'}),
    destination: Flags.string({description: 'Only rows to this component.', helpValue: 'C'}),
    security: Flags.string({description: 'Only rows with this security.', options: ['mtls', 'tls', 'none'], helpValue: 'mtls|tls|none'}),
    direction: Flags.string({description: 'Only rows of this table.', options: ['internal', 'inbound', 'outbound', 'two-way'], helpValue: 'DIRECTION'}),
  }
  static defaultFormat = "table(direction,source,destination,protocolPorts:label='PROTOCOL/PORTS',security,description)"

  protected async execute() {
    const f = this.flags
    return hybridPorts({
      source: f.source,
      destination: f.destination,
      security: f.security as 'mtls' | 'tls' | 'none' | undefined,
      direction: f.direction as 'internal' | 'inbound' | 'outbound' | 'two-way' | undefined,
    })
  }
}
