import {BaseCommand} from '../../cli/base-command.js'
import {listCas} from '../../core/ca/index.js'

export default class CaList extends BaseCommand<typeof CaList> {
  static summary = 'List the registered CAs.'
  static examples = ['<%= config.bin %> ca list', "<%= config.bin %> ca list --format 'value(name,certFile)'"]
  static defaultFormat = 'table(name,subject,notAfter,keyEncrypted,certFile)'

  protected async execute() {
    return listCas(this.store)
  }
}
