import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {environmentFlag, organizationFlag} from '../../cli/flags.js'
import {listReferences} from '../../core/apigee/views.js'

export default class ReferencesList extends BaseCommand<typeof ReferencesList> {
  static summary = 'List the references of an environment.'
  static examples = ['<%= config.bin %> references list --organization myorg --environment dev']
  static defaultFormat = 'table(name,resourceType,refers)'
  static flags = {...apiFlags, organization: organizationFlag, environment: environmentFlag}

  protected async execute() {
    const {org, env} = await this.location()
    return listReferences(await this.apigee(), org, env)
  }
}
