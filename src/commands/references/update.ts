import type {Reference, ReferenceInput} from '../../core/references.js'
import ReferencesCreate from './create.js'

/** The same arguments as `references create`; Apigee refuses it on configurable environments. */
export default class ReferencesUpdate extends ReferencesCreate {
  static summary = 'Point a reference at another keystore (refused on configurable-proxy environments).'
  static examples = [
    '<%= config.bin %> references update mtls_ref --refers other_keystore --resource-type KeyStore --organization myorg --environment dev',
  ]

  protected verb = 'Updated'
  protected newName = false

  protected async save(org: string, env: string, name: string, input: ReferenceInput): Promise<Reference> {
    return (await this.apigee()).updateReference(org, env, name, input)
  }
}
