import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {organizationFlag} from '../../cli/flags.js'
import {listEnvironments} from '../../core/apigee/views.js'

export default class EnvironmentsList extends BaseCommand<typeof EnvironmentsList> {
  static summary = 'List the environments of an organization.'
  static examples = ['<%= config.bin %> environments list --organization acme --format json']
  static defaultFormat = 'table(name,apiProxyType,deploymentType,state)'
  static flags = {...apiFlags, organization: organizationFlag}

  protected async execute() {
    const org = await this.organization(this.flags.organization)
    return listEnvironments(await this.apigee(), org)
  }
}
