import {BaseCommand} from '../../cli/base-command.js'
import {envVarName, PROPERTIES, type Property} from '../../core/config.js'

export default class ConfigList extends BaseCommand<typeof ConfigList> {
  static summary = 'List every property with its effective value and where it comes from.'
  static examples = ['<%= config.bin %> config list', '<%= config.bin %> config list --format json']
  static defaultFormat = 'table(property,value,source,envVar)'

  protected async execute() {
    return (Object.keys(PROPERTIES) as Property[]).map((property) => {
      const resolved = this.settings.resolve(property)
      return {property, value: resolved?.value ?? '', source: resolved?.source ?? 'unset', envVar: envVarName(property)}
    })
  }
}
