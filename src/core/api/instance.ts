import * as fs from 'node:fs'
import * as path from 'node:path'

import {failedPrecondition, internal, invalidArgument} from '../errors.js'
import {FileStore} from '../store/index.js'

/**
 * The running emulator of a state folder: `emulator.pid` (the pid, one line, as any pid file),
 * `emulator.json` (where it listens), `emulator.log` (a detached emulator's stdout and stderr)
 * and `emulator.token` (a placeholder bearer token for gcloud when no --token-file is given).
 * One emulator per state folder; a stale pid file (its process gone) is cleared.
 */
export const EMULATOR_FILES = {pid: 'emulator.pid', info: 'emulator.json', log: 'emulator.log', token: 'emulator.token'} as const

export interface EmulatorInstance {
  pid: number
  url: string
  host: string
  port: number
  stateFolder: string
  startedAt: string
  /** The file gcloud should read its access token from (CLOUDSDK_AUTH_ACCESS_TOKEN_FILE). */
  tokenFile: string
  /** Whether requests must carry that token (--token-file) or any token will do. */
  tokenRequired: boolean
}

const file = (root: string, name: keyof typeof EMULATOR_FILES) => path.join(root, EMULATOR_FILES[name])

/** The log of a detached emulator (the state folder is created if needed). */
export function emulatorLogFile(root: string): string {
  new FileStore(root).ensureRoot()
  return file(root, 'log')
}

export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function readPid(root: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file(root, 'pid'), 'utf8').trim())
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

function removeFiles(root: string): void {
  for (const name of ['info', 'pid'] as const) fs.rmSync(file(root, name), {force: true})
}

/**
 * Claims the state folder for this process before it listens: refuses when a live emulator
 * holds it. The pid file is created exclusively, so two emulators starting at once cannot
 * both win.
 */
export async function claimStateFolder(root: string, pid = process.pid): Promise<void> {
  new FileStore(root).ensureRoot()
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file(root, 'pid'), `${pid}\n`, {flag: 'wx', mode: 0o600})
      return
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const holder = readPid(root)
    const info = readInfo(root)
    // A live holder that is still starting (no info yet) or answers as itself holds the folder;
    // a live pid whose recorded emulator does not answer is a reused pid.
    const holds = holder !== undefined && holder !== pid && isProcessRunning(holder) && (info === undefined || (info.pid === holder && (await answersAs(info))))
    if (holds) {
      throw failedPrecondition(
        `An emulator is already running on the state folder ${root} (pid ${holder}${info ? `, ${info.url}` : ''}).`,
        'Stop it with: mtlsctl emulator stop (or use another state folder: MTLSCTL_HOME).',
      )
    }
    removeFiles(root)
  }
  throw internal(`Could not write the pid file ${file(root, 'pid')}.`)
}

/** Records where the emulator listens (after it listens). */
export function recordInstance(instance: EmulatorInstance): void {
  const target = file(instance.stateFolder, 'info')
  const tmp = `${target}.${process.pid}.tmp`
  fs.writeFileSync(tmp, JSON.stringify(instance, null, 2) + '\n', {mode: 0o600})
  fs.renameSync(tmp, target)
}

/** Removes the pid and info files, if they are this process's. */
export function releaseStateFolder(root: string, pid = process.pid): void {
  if (readPid(root) === pid) removeFiles(root)
}

function readInfo(root: string): EmulatorInstance | undefined {
  try {
    return JSON.parse(fs.readFileSync(file(root, 'info'), 'utf8')) as EmulatorInstance
  } catch {
    return undefined
  }
}

/** Asks the emulator itself which process it is (a pid file alone may name a reused pid). */
async function answersAs(instance: EmulatorInstance): Promise<boolean> {
  try {
    const res = await fetch(new URL('emulator/status', instance.url), {signal: AbortSignal.timeout(2000)})
    const body = (await res.json()) as {pid?: number}
    return body.pid === instance.pid
  } catch {
    return false
  }
}

/** The emulator running on this state folder, or undefined (stale files are removed). */
export async function runningInstance(root: string): Promise<EmulatorInstance | undefined> {
  const pid = readPid(root)
  const info = readInfo(root)
  if (pid === undefined || !isProcessRunning(pid)) {
    if (pid !== undefined || info !== undefined) removeFiles(root)
    return undefined
  }
  if (info === undefined || info.pid !== pid || !(await answersAs(info))) return undefined
  return info
}

/** Stops the emulator of the state folder (SIGTERM, then waits); undefined when none runs. */
export async function stopInstance(root: string, timeoutMs = 15_000): Promise<EmulatorInstance | undefined> {
  const instance = await runningInstance(root)
  if (!instance) return undefined
  process.kill(instance.pid, 'SIGTERM')
  const deadline = Date.now() + timeoutMs
  while (isProcessRunning(instance.pid)) {
    if (Date.now() > deadline) {
      throw internal(
        `The emulator (pid ${instance.pid}) did not stop within ${Math.round(timeoutMs / 1000)} s.`,
        `It may be finishing a deployment; kill it with: kill -9 ${instance.pid}`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  removeFiles(root)
  return instance
}

/** The bearer token in a --token-file (its first line). */
export function readTokenFile(tokenFile: string): string {
  let text: string
  try {
    text = fs.readFileSync(tokenFile, 'utf8')
  } catch (error) {
    throw invalidArgument(`Cannot read the token file ${tokenFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`)
  }
  const token = text.split(/\r?\n/)[0].trim()
  if (token === '' || /\s/.test(token)) throw invalidArgument(`The token file ${tokenFile} must hold one token on its first line.`)
  return token
}

/** Without --token-file gcloud still needs a token to send: any will do, so write one. */
export function placeholderTokenFile(root: string): string {
  const target = file(root, 'token')
  if (!fs.existsSync(target)) fs.writeFileSync(target, 'mtlsctl-emulator\n', {mode: 0o600})
  return target
}

/** The environment variables that point gcloud at the emulator. */
export function gcloudEnvironment(instance: Pick<EmulatorInstance, 'url' | 'tokenFile'>): Record<string, string> {
  return {
    CLOUDSDK_API_ENDPOINT_OVERRIDES_APIGEE: instance.url,
    CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: instance.tokenFile,
  }
}
