import * as os from 'node:os'
import * as path from 'node:path'

import {FileStore} from './file-store.js'
import type {Store} from './store.js'

export type {Blob, BlobOptions, Store} from './store.js'
export {FileStore} from './file-store.js'

/** `$MTLSCTL_HOME`, else `~/.mtlsctl`. */
export function stateHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.MTLSCTL_HOME && env.MTLSCTL_HOME.trim() !== '' ? path.resolve(env.MTLSCTL_HOME) : path.join(os.homedir(), '.mtlsctl')
}

export function openStore(root: string = stateHome()): Store {
  return new FileStore(root)
}
