import * as Flags from '@oclif/core/flags'

import {apiFlags} from '../../cli/backend.js'
import {BaseCommand} from '../../cli/base-command.js'
import {environmentFlag, organizationFlag} from '../../cli/flags.js'
import {UsageError} from '../../cli/usage-error.js'
import {expiringCertificates, listAliases} from '../../core/apigee/views.js'

function parseWindow(text: string): number {
  const match = /^(\d+)(d|h|w)?$/.exec(text.trim())
  if (!match) throw new UsageError(`Invalid --expiring-within "${text}": use e.g. 30d, 12h or 2w.`)
  return Number(match[1]) * {d: 86_400_000, h: 3_600_000, w: 604_800_000}[(match[2] ?? 'd') as 'd' | 'h' | 'w']
}

const EXPIRING_TABLE = "table(keystore,alias,subject,expiresAt:label='EXPIRES',daysLeft:label='DAYS LEFT',isValid:label=VALID)"

export default class AliasesList extends BaseCommand<typeof AliasesList> {
  static summary = 'List the aliases of a keystore, or the certificates expiring soon (across keystores without --keystore).'
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
  }

  protected async execute() {
    const {org, env} = await this.location()
    if (this.flags['expiring-within'] !== undefined) {
      const rows = await expiringCertificates(await this.apigee(), org, env, parseWindow(this.flags['expiring-within']), this.flags.keystore)
      await this.emit(rows, EXPIRING_TABLE)
      return undefined
    }
    const keystore = await this.prompter.choose(this.flags.keystore, {flag: 'keystore', message: 'Keystore:'}, async () => (await this.apigee()).listKeystoreNames(org, env))
    return listAliases(await this.apigee(), org, env, keystore)
  }
}
