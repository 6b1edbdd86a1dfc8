import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import {organizationFlag} from '../../cli/flags.js'
import {createEnvironment} from '../../core/environments.js'

export default class EnvironmentsCreate extends BaseCommand<typeof EnvironmentsCreate> {
  static summary = 'Create an environment (and its organization, on first use).'
  static examples = ['<%= config.bin %> environments create dev --organization acme']
  static defaultFormat = 'table(name,apiProxyType,deploymentType,state)'
  static args = {env: Args.string({description: 'Environment name.'})}
  static flags = {
    organization: organizationFlag,
    'api-proxy-type': Flags.string({
      description: 'API proxy type.',
      options: ['configurable', 'programmable'],
      default: 'configurable',
    }),
    'deployment-type': Flags.string({description: 'Deployment type.', options: ['archive', 'proxy'], default: 'archive'}),
    description: Flags.string({description: 'Description.'}),
  }

  protected async execute() {
    this.requireLocalEngine('`environments create`')
    const org = await this.organization(this.flags.organization)
    const env = await this.prompter.require(this.args.env, {arg: 'ENV', message: 'Environment name:'})
    const environment = await createEnvironment(this.store, org, env, {
      apiProxyType: this.flags['api-proxy-type'],
      deploymentType: this.flags['deployment-type'],
      description: this.flags.description,
    })
    this.out.status(`Created environment [${env}] in organization [${org}].`)
    return environment
  }
}
