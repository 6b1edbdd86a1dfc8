import {randomBytes} from 'node:crypto'

import {notFound} from '../core/errors.js'

/**
 * The emulator's stand-in for the GCS signed URLs of `archiveDeployments/ID:generateDownloadUrl`:
 * `http://HOST/download/TOKEN.zip` serves that deployment's zip, without a bearer token (the
 * unguessable token is the credential), for ten minutes.
 */
export const DOWNLOAD_PATH = '/download/'
const TOKEN = /^[a-f0-9]{32}\.zip$/
const TTL_MS = 10 * 60 * 1000
const MAX_TOKENS = 1000

export interface DownloadSlot {
  org: string
  env: string
  id: string
  createdAt: number
}

export class Downloads {
  private readonly slots = new Map<string, DownloadSlot>()

  open(org: string, env: string, id: string): string {
    this.sweep()
    const token = `${randomBytes(16).toString('hex')}.zip`
    this.slots.set(token, {org, env, id, createdAt: Date.now()})
    return token
  }

  /** The deployment a download URL names; NOT_FOUND for one never issued or expired. */
  slot(token: string): DownloadSlot {
    const slot = TOKEN.test(token) ? this.slots.get(token) : undefined
    if (!slot || Date.now() - slot.createdAt > TTL_MS) {
      throw notFound(`No download URL ${DOWNLOAD_PATH}${token}: get one from archiveDeployments/ID:generateDownloadUrl (they expire after ten minutes).`)
    }
    return slot
  }

  close(): void {
    this.slots.clear()
  }

  private sweep(): void {
    const now = Date.now()
    for (const [token, slot] of this.slots) {
      if (now - slot.createdAt > TTL_MS || this.slots.size >= MAX_TOKENS) this.slots.delete(token)
    }
  }
}
