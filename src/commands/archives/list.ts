import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {environmentFlag, organizationFlag} from '../../cli/flags.js'
import {listArchiveRows} from '../../core/apigee/views.js'

export default class ArchivesList extends BaseCommand<typeof ArchivesList> {
  static summary = 'List archive deployments, newest first, with their operation status.'
  static examples = ['<%= config.bin %> archives list --organization myorg --environment dev']
  static defaultFormat =
    "table(archiveId:label='ARCHIVE ID',environment:label=ENVIRONMENT,deployedAt:label='DEPLOYED AT',labels:label=LABELS,operationStatus:label='OPERATION STATUS')"
  static flags = {...apiFlags, organization: organizationFlag, environment: environmentFlag}

  protected async execute() {
    const {org, env} = await this.location()
    return listArchiveRows(await this.apigee(), org, env)
  }
}
