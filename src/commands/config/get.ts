import * as Args from '@oclif/core/args'

import {BaseCommand} from '../../cli/base-command.js'
import {checkProperty, PROPERTIES} from '../../core/config.js'

export default class ConfigGet extends BaseCommand<typeof ConfigGet> {
  static summary = 'Print the effective value of a property (environment variable, then config file).'
  static examples = ['<%= config.bin %> config get organization']
  static args = {property: Args.string({description: 'Property name.', required: true, options: Object.keys(PROPERTIES)})}

  protected async execute() {
    const property = checkProperty(this.args.property)
    const resolved = this.settings.resolve(property)
    if (!resolved) {
      this.out.status(`(unset)`)
      return undefined
    }
    return {property, value: resolved.value, source: resolved.source}
  }

  protected renderDefault(result: {value: string}) {
    return `${result.value}\n`
  }
}
