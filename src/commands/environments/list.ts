import {BaseCommand} from '../../cli/base-command.js'
import {organizationFlag} from '../../cli/flags.js'
import {listEnvironments} from '../../core/environments.js'

export default class EnvironmentsList extends BaseCommand<typeof EnvironmentsList> {
  static summary = 'List the environments of an organization.'
  static examples = ['<%= config.bin %> environments list --organization acme --format json']
  static defaultFormat = 'table(name,apiProxyType,deploymentType,state)'
  static flags = {organization: organizationFlag}

  protected async execute() {
    return listEnvironments(this.store, await this.organization(this.flags.organization))
  }
}
