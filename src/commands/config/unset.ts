import * as Args from '@oclif/core/args'

import {BaseCommand} from '../../cli/base-command.js'
import {checkProperty, PROPERTIES} from '../../core/config.js'

export default class ConfigUnset extends BaseCommand<typeof ConfigUnset> {
  static summary = 'Remove a property from the config file.'
  static examples = ['<%= config.bin %> config unset organization']
  static args = {property: Args.string({description: 'Property name.', required: true, options: Object.keys(PROPERTIES)})}

  protected async execute() {
    const property = checkProperty(this.args.property)
    this.settings.unset(property)
    this.out.status(`Unset property [${property}].`)
    return undefined
  }
}
