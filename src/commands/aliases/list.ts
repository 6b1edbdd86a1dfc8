import * as Flags from '@oclif/core/flags'

import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {environmentFlag, organizationFlag} from '../../cli/flags.js'
import {UsageError} from '../../cli/usage-error.js'
import {ExitCode} from '../../cli/exit-codes.js'
import {expiringWithUsers} from '../../core/apigee/usage.js'
import {listAliases} from '../../core/apigee/views.js'

function parseWindow(text: string): number {
  const match = /^(\d+)(d|h|w)?$/.exec(text.trim())
  if (!match) throw new UsageError(`Invalid --expiring-within "${text}": use e.g. 30d, 12h or 2w.`)
  return Number(match[1]) * {d: 86_400_000, h: 3_600_000, w: 604_800_000}[(match[2] ?? 'd') as 'd' | 'h' | 'w']
}

const EXPIRING_TABLE =
  "table(environment,keystore,alias,subject,expiresAt:label='EXPIRES',daysLeft:label='DAYS LEFT',isValid:label=VALID,targetServers:label='BREAKS')"

export default class AliasesList extends BaseCommand<typeof AliasesList> {
  static summary = 'List the aliases of a keystore, or the certificates expiring soon and the target servers they break (across environments and keystores).'
  static description = `With --expiring-within, every environment of the organization (only --environment's when that flag
is given) and every keystore (only --keystore's when given); BREAKS names the target servers
(proxy/target server) of each environment's latest deployment that use the alias or, for a
truststore, the keystore. --exit-code exits ${ExitCode.EXPIRING} when anything is listed (for cron and CI).`
  static examples = [
    '<%= config.bin %> aliases list --keystore mtls_keystore',
    '<%= config.bin %> aliases list --expiring-within 30d',
  ]
  static defaultFormat = 'table(alias,type,certsInfo.certInfo.0.subject:label=SUBJECT,certsInfo.certInfo.0.isValid:label=VALID)'
  static flags = {
    ...apiFlags,
    organization: organizationFlag,
    environment: environmentFlag,
    keystore: Flags.string({description: 'Keystore (required unless --expiring-within).', helpValue: 'KEYSTORE'}),
    'expiring-within': Flags.string({description: 'Only certificates that expire within this window (30d, 12h, 2w).', helpValue: 'WINDOW'}),
    'exit-code': Flags.boolean({description: `With --expiring-within: exit ${ExitCode.EXPIRING} when any certificate is listed.`, dependsOn: ['expiring-within']}),
  }

  protected async execute() {
    if (this.flags['expiring-within'] !== undefined) {
      const window = parseWindow(this.flags['expiring-within'])
      const org = await this.organization(this.flags.organization)
      const api = await this.apigee()
      const envs = this.flags.environment ? [this.flags.environment] : (await api.listEnvironmentNames(org)).sort()
      const rows = await expiringWithUsers(api, org, envs, window, this.flags.keystore)
      await this.emit(rows, EXPIRING_TABLE)
      if (this.flags['exit-code'] && rows.length > 0) process.exitCode = ExitCode.EXPIRING
      return undefined
    }
    const {org, env} = await this.location()
    const keystore = await this.prompter.choose(this.flags.keystore, {flag: 'keystore', message: 'Keystore:'}, async () => (await this.apigee()).listKeystoreNames(org, env))
    return listAliases(await this.apigee(), org, env, keystore)
  }
}
