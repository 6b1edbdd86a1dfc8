import * as Args from '@oclif/core/args'

import {BaseCommand} from '../../cli/base-command.js'
import {getCa} from '../../core/ca/index.js'

export default class CaDescribe extends BaseCommand<typeof CaDescribe> {
  static summary = 'Describe a registered CA: subject, validity, files and certificate.'
  static examples = ['<%= config.bin %> ca describe RootCA', "<%= config.bin %> ca describe RootCA --format 'value(certificate)' > ca.pem"]
  static args = {name: Args.string({description: 'CA name.'})}

  protected async execute() {
    return getCa(this.store, await this.prompter.require(this.args.name, {arg: 'NAME', message: 'CA name:'}))
  }
}
