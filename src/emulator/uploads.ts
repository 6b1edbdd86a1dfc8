import {randomBytes} from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {invalidArgument, notFound} from '../core/errors.js'

/**
 * The emulator's stand-in for Google Cloud Storage signed URLs. `:generateUploadUrl` opens a
 * slot and answers `http://HOST/upload/ID.zip`; gcloud PUTs the zip there (without its bearer
 * token, as to GCS: the unguessable id is the credential); an archive deployment created with
 * that `gcs_uri` uses the zip once. Zips wait in a private temporary folder,
 * never in the state folder, and slots expire after an hour.
 */
export const UPLOAD_PATH = '/upload/'
const SLOT_ID = /^[a-f0-9]{32}\.zip$/
const TTL_MS = 60 * 60 * 1000
const MAX_SLOTS = 1000

interface Slot {
  org: string
  env: string
  createdAt: number
  uploaded: boolean
  /** A create request is deploying it now. */
  inUse?: boolean
}

export class Uploads {
  private readonly slots = new Map<string, Slot>()
  private dir?: string

  /** Opens a slot for one archive of org/env; returns its id (`<hex>.zip`). */
  open(org: string, env: string): string {
    this.sweep()
    const id = `${randomBytes(16).toString('hex')}.zip`
    this.slots.set(id, {org, env, createdAt: Date.now(), uploaded: false})
    return id
  }

  /** The file an upload to slot `id` is written to; NOT_FOUND for a slot never opened. */
  target(id: string): string {
    if (!SLOT_ID.test(id) || !this.slots.has(id)) {
      throw notFound(`No upload URL ${UPLOAD_PATH}${id}: get one from archiveDeployments:generateUploadUrl first (they expire after an hour).`)
    }
    if (this.slots.get(id)?.inUse) throw invalidArgument(`The upload URL ${UPLOAD_PATH}${id} is being deployed now: get a new one.`)
    return path.join(this.folder(), id)
  }

  uploaded(id: string): void {
    const slot = this.slots.get(id)
    if (slot) slot.uploaded = true
  }

  /** The file of the zip uploaded to the slot a `gcs_uri` names; `discard(id)` once it is stored. */
  file(gcsUri: string, org: string, env: string): {id: string; file: string} {
    let id: string
    try {
      id = path.posix.basename(new URL(gcsUri).pathname)
    } catch {
      throw invalidArgument(`Invalid gcs_uri "${gcsUri}": give the uploadUri that archiveDeployments:generateUploadUrl returned.`)
    }
    const slot = this.slots.get(id)
    if (!slot) {
      throw invalidArgument(`Invalid gcs_uri "${gcsUri}": this emulator issued no such upload URL, or it expired or was used already.`)
    }
    if (slot.org !== org || slot.env !== env) {
      throw invalidArgument(`Invalid gcs_uri "${gcsUri}": it was issued for organizations/${slot.org}/environments/${slot.env}.`)
    }
    if (!slot.uploaded) throw invalidArgument(`Invalid gcs_uri "${gcsUri}": nothing was uploaded to it (PUT the zip first).`)
    if (slot.inUse) throw invalidArgument(`Invalid gcs_uri "${gcsUri}": another request is deploying it now.`)
    slot.inUse = true
    return {id, file: path.join(this.folder(), id)}
  }

  /** Removes every pending upload (the server is closing). */
  close(): void {
    this.slots.clear()
    if (this.dir) fs.rmSync(this.dir, {recursive: true, force: true})
    this.dir = undefined
  }

  /** The slot `file` took is usable again (its deployment was refused). */
  release(id: string): void {
    const slot = this.slots.get(id)
    if (slot) slot.inUse = false
  }

  discard(id: string): void {
    this.slots.delete(id)
    if (this.dir) fs.rmSync(path.join(this.dir, id), {force: true})
  }

  private sweep(): void {
    const now = Date.now()
    for (const [id, slot] of this.slots) {
      if (slot.inUse) continue
      if (now - slot.createdAt > TTL_MS || this.slots.size >= MAX_SLOTS) this.discard(id)
    }
  }

  private folder(): string {
    this.dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'mtlsctl-uploads-'))
    return this.dir
  }
}
