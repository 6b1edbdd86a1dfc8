import * as fs from 'node:fs'
import * as path from 'node:path'

import type {PlannedCertificate} from './graph.js'
import {sha256} from './secrets.js'

/**
 * What the last apply issued, kept in DIR/state.json, so that applying again behaves like
 * cert-manager: keep what is valid and outside renewBefore, reissue what changed, renew what
 * is due.
 */

export interface AppliedCertificate {
  /** Hash of everything that decides the certificate (not renewBefore, rotationPolicy or secretTemplate). */
  specHash: string
  secret: string
}

export interface ApplyState {
  version: 1
  certificates: Record<string, AppliedCertificate>
}

export const STATE_FILE = 'state.json'

export function readState(outDir: string): ApplyState {
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(outDir, STATE_FILE), 'utf8')) as ApplyState
    if (parsed?.version === 1 && typeof parsed.certificates === 'object') return parsed
  } catch {
    // none yet, or unreadable: every certificate is issued afresh
  }
  return {version: 1, certificates: {}}
}

export function specHash(planned: PlannedCertificate): string {
  const {renewBeforeMs: _renewBefore, privateKey, ...rest} = planned.spec
  const {rotationPolicy: _rotation, ...key} = privateKey
  const signer = planned.signer.type === 'ca' ? `ca:${planned.signer.namespace}/${planned.signer.secretName}` : 'selfSigned'
  return sha256(JSON.stringify({...rest, privateKey: key, secretName: planned.resource.spec.secretName, signer}))
}

/** cert-manager's RenewalTime: notAfter − renewBefore, or − a third of the lifetime when unset or not shorter than it. */
export function renewalTime(notBefore: Date, notAfter: Date, renewBeforeMs: number | undefined): Date {
  const lifetime = notAfter.getTime() - notBefore.getTime()
  const before = renewBeforeMs !== undefined && renewBeforeMs < lifetime ? renewBeforeMs : lifetime / 3
  return new Date(Math.floor((notAfter.getTime() - before) / 1000) * 1000)
}
