import * as Args from '@oclif/core/args'

import {BaseCommand} from '../../cli/base-command.js'
import {checkProperty, PROPERTIES} from '../../core/config.js'

export default class ConfigSet extends BaseCommand<typeof ConfigSet> {
  static summary = 'Set a config property (organization, environment, format, verbosity).'
  static examples = ['<%= config.bin %> config set organization acme']
  static args = {
    property: Args.string({description: 'Property name.', required: true, options: Object.keys(PROPERTIES)}),
    value: Args.string({description: 'Value.', required: true}),
  }

  protected async execute() {
    const property = checkProperty(this.args.property)
    this.settings.set(property, this.args.value)
    this.out.status(`Updated property [${property}].`)
    return undefined
  }
}
