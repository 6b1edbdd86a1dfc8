import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {environmentFlag, organizationFlag} from '../../cli/flags.js'
import {listKeystores} from '../../core/apigee/views.js'

export default class KeystoresList extends BaseCommand<typeof KeystoresList> {
  static summary = 'List the keystores of an environment.'
  static examples = ['<%= config.bin %> keystores list --organization myorg --environment dev']
  static defaultFormat = 'value(name)'
  static flags = {...apiFlags, organization: organizationFlag, environment: environmentFlag}

  protected async execute() {
    const {org, env} = await this.location()
    return (await listKeystores(await this.apigee(), org, env)).map((name) => ({name}))
  }
}
