import {parseOperationRef} from '../core/operations.js'

/** `UUID` or `organizations/O/operations/UUID`: the organization a full name carries wins. */
export async function resolveOperation(
  ref: string,
  organization: (flag: string | undefined) => Promise<string>,
  flag: string | undefined,
): Promise<{org: string; uuid: string}> {
  const parsed = parseOperationRef(ref)
  return {org: parsed.org ?? (await organization(flag)), uuid: parsed.uuid}
}
