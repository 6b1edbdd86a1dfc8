import * as Args from '@oclif/core/args'

import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {environmentFlag, organizationFlag} from '../../cli/flags.js'
import {render, parseFormat} from '../../cli/format.js'
import {keystoreUsers, usedBy} from '../../core/apigee/usage.js'
import {describeKeystore} from '../../core/apigee/views.js'

export default class KeystoresDescribe extends BaseCommand<typeof KeystoresDescribe> {
  static summary = 'Describe a keystore: its aliases and each certificate\'s expiry and status.'
  static examples = ['<%= config.bin %> keystores describe mtls_keystore --organization myorg --environment dev']
  static args = {name: Args.string({description: 'Keystore name.'})}
  static flags = {...apiFlags, organization: organizationFlag, environment: environmentFlag}

  protected async execute() {
    const {org, env} = await this.location()
    const name = await this.prompter.choose(this.args.name, {arg: 'NAME', message: 'Keystore:'}, async () => (await this.apigee()).listKeystoreNames(org, env))
    const api = await this.apigee()
    const described = {
      ...(await describeKeystore(api, org, env, name)),
      usedBy: (await keystoreUsers(api, org, env, name)).map((u) => ({...usedBy(u), as: u.keyStore === name ? 'client certificate' : 'truststore'})),
    }
    if (this.property('format', this.flags.format) !== undefined) return described
    this.out.result(`name: ${described.name}\nresourceName: ${described.resourceName}\naliases: ${described.aliases.length}\n\n`)
    if (described.certificates.length > 0) {
      this.out.result(
        await render(described.certificates, parseFormat("table(alias,type,subject,expiresAt:label='EXPIRES',isValid:label='EXPIRATION STATUS')")),
      )
    }
    this.out.result(described.usedBy.length === 0 ? '\nUsed by: no target server of the latest deployment.\n' : '\nUsed by:\n')
    if (described.usedBy.length > 0) {
      this.out.result(await render(described.usedBy, parseFormat("table(environment,archiveDeployment:label='ARCHIVE DEPLOYMENT',proxy,targetServer:label='TARGET SERVER',as)")))
    }
    return undefined
  }
}
