import {BaseCommand} from '../../cli/base-command.js'
import {environmentFlag, organizationFlag} from '../../cli/flags.js'
import {listReferences} from '../../core/references.js'

export default class ReferencesList extends BaseCommand<typeof ReferencesList> {
  static summary = 'List the references of an environment.'
  static examples = ['<%= config.bin %> references list --organization myorg --environment dev']
  static defaultFormat = 'table(name,resourceType,refers)'
  static flags = {organization: organizationFlag, environment: environmentFlag}

  protected async execute() {
    const {org, env} = await this.location()
    return listReferences(this.store, org, env)
  }
}
