import * as Flags from '@oclif/core/flags'

import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {renderProblems} from '../../cli/problems.js'
import {environmentFlag, organizationFlag} from '../../cli/flags.js'
import {validateArchiveFor} from '../../core/apigee/views.js'
import {readSource} from '../../core/archives/source.js'
import type {Problem} from '../../core/archives/validate.js'
import {invalidArgument} from '../../core/errors.js'

export default class ArchivesValidate extends BaseCommand<typeof ArchivesValidate> {
  static summary = 'Check an archive against the environment without deploying: every problem at once.'
  static examples = ['<%= config.bin %> archives validate --organization myorg --environment dev --source src']
  static defaultFormat = 'yaml'
  static flags = {
    ...apiFlags,
    organization: organizationFlag,
    environment: environmentFlag,
    source: Flags.string({description: 'Folder holding src/main/apigee/ (or main/apigee/).', helpValue: 'DIR'}),
  }

  protected async execute() {
    const {org, env} = await this.location()
    const source = await this.prompter.require(this.flags.source, {flag: 'source', message: 'Archive source folder:'})
    const result = await validateArchiveFor(await this.apigee(), org, env, readSource(source))
    if (result.problems.length === 0) {
      this.out.status(`Archive is valid: ${result.proxies.length} proxy(ies) for environment [${env}].`)
      return undefined
    }
    await this.emit(result.problems)
    throw invalidArgument(`${result.problems.length} problem(s) in the archive; a deployment would fail with:\n${result.message}`)
  }

  protected renderDefault(problems: Problem[]) {
    return renderProblems(problems)
  }
}
