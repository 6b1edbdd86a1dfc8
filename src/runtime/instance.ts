import * as fs from 'node:fs'
import * as https from 'node:https'
import * as path from 'node:path'

import {failedPrecondition, internal} from '../core/errors.js'
import {FileStore} from '../core/store/index.js'
import {STATUS_PATH, type ServedEnvironment} from './server.js'

/**
 * The running runtime of a state folder, as the emulator's instance files: `runtime.pid`,
 * `runtime.json` (where it listens), `runtime.log` (a detached runtime's stdout and stderr).
 * One runtime per state folder; stale files (their process gone) are cleared.
 */
export const RUNTIME_FILES = {pid: 'runtime.pid', info: 'runtime.json', log: 'runtime.log'} as const

export interface RuntimeInstance {
  pid: number
  url: string
  host: string
  port: number
  stateFolder: string
  startedAt: string
  /** Whether it serves HTTPS (--tls-cert). */
  https: boolean
  /** Worker processes serving (`runtime start --workers`); absent: the runtime is one process. */
  workers?: number
  /** Its route timeout: how long a request in flight may still take when it is stopped. */
  upstreamTimeoutMs?: number
  /** Started by `emulator start --runtime-port`: it lives in the emulator's process and stops with it. */
  inEmulator?: boolean
}

export interface RuntimeStatus extends RuntimeInstance {
  serving: ServedEnvironment[]
}

const file = (root: string, name: keyof typeof RUNTIME_FILES) => path.join(root, RUNTIME_FILES[name])

export function runtimeLogFile(root: string): string {
  new FileStore(root).ensureRoot()
  return file(root, 'log')
}

function isProcessRunning(pid: number): boolean {
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

function readInfo(root: string): RuntimeInstance | undefined {
  try {
    return JSON.parse(fs.readFileSync(file(root, 'info'), 'utf8')) as RuntimeInstance
  } catch {
    return undefined
  }
}

function removeFiles(root: string): void {
  for (const name of ['info', 'pid'] as const) fs.rmSync(file(root, name), {force: true})
}

/** Asks the runtime itself for its status (a pid file alone may name a reused pid). */
async function askStatus(instance: RuntimeInstance): Promise<{pid: number; serving: ServedEnvironment[]} | undefined> {
  const url = new URL(STATUS_PATH, instance.url)
  try {
    if (!instance.https) {
      const res = await fetch(url, {signal: AbortSignal.timeout(2000)})
      return (await res.json()) as {pid: number; serving: ServedEnvironment[]}
    }
    // Its certificate is for the names clients call it by, not for this address: the pid is what is checked.
    return await new Promise((resolve) => {
      const req = https.get(url, {rejectUnauthorized: false, timeout: 2000}, (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (d) => (body += d))
        res.on('end', () => {
          try {
            resolve(JSON.parse(body))
          } catch {
            resolve(undefined)
          }
        })
      })
      req.on('error', () => resolve(undefined))
      req.on('timeout', () => req.destroy())
    })
  } catch {
    return undefined
  }
}

/** Claims the state folder for this process before it listens; refuses when a live runtime holds it. */
export async function claimRuntimeFolder(root: string, pid = process.pid): Promise<void> {
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
    const answers = info !== undefined && info.pid === holder && (await askStatus(info))?.pid === holder
    if (holder !== undefined && holder !== pid && isProcessRunning(holder) && (info === undefined || answers)) {
      throw failedPrecondition(
        `A runtime is already running on the state folder ${root} (pid ${holder}${info ? `, ${info.url}` : ''}).`,
        'Stop it with: mtlsctl runtime stop (or use another state folder: MTLSCTL_HOME).',
      )
    }
    removeFiles(root)
  }
  throw internal(`Could not write the pid file ${file(root, 'pid')}.`)
}

/** Records where this process's runtime listens (`runtime.json`), once it listens. */
export function recordRuntime(
  root: string,
  listening: {url: string; host: string; port: number},
  how: {https: boolean; workers?: number; upstreamTimeoutMs?: number; inEmulator?: boolean},
): void {
  const instance: RuntimeInstance = {
    pid: process.pid,
    url: listening.url,
    host: listening.host,
    port: listening.port,
    stateFolder: root,
    startedAt: new Date().toISOString(),
    https: how.https,
    ...(how.workers === undefined ? {} : {workers: how.workers}),
    ...(how.upstreamTimeoutMs === undefined ? {} : {upstreamTimeoutMs: how.upstreamTimeoutMs}),
    ...(how.inEmulator ? {inEmulator: true} : {}),
  }
  const target = file(instance.stateFolder, 'info')
  const tmp = `${target}.${process.pid}.tmp`
  fs.writeFileSync(tmp, JSON.stringify(instance, null, 2) + '\n', {mode: 0o600})
  fs.renameSync(tmp, target)
}

export function releaseRuntimeFolder(root: string, pid = process.pid): void {
  if (readPid(root) === pid) removeFiles(root)
}

/** The runtime running on this state folder with what it serves, or undefined. */
export async function runtimeStatus(root: string): Promise<RuntimeStatus | undefined> {
  const pid = readPid(root)
  const info = readInfo(root)
  if (pid === undefined || !isProcessRunning(pid)) {
    if (pid !== undefined || info !== undefined) removeFiles(root)
    return undefined
  }
  if (info === undefined || info.pid !== pid) return undefined
  const status = await askStatus(info)
  if (status?.pid !== pid) return undefined
  return {...info, serving: status.serving}
}

/**
 * Stops the runtime of the state folder (SIGTERM, then waits); undefined when none runs. It waits
 * as long as requests in flight may take (its route timeout) and then some, 15 s at least.
 */
export async function stopRuntime(root: string, waitMs?: number): Promise<RuntimeInstance | undefined> {
  const instance = await runtimeStatus(root)
  if (!instance) return undefined
  const timeoutMs = waitMs ?? Math.max(15_000, (instance.upstreamTimeoutMs ?? 0) + 10_000)
  if (instance.inEmulator) {
    // Its pid is the emulator's: a SIGTERM would stop the API too.
    throw failedPrecondition(
      `The runtime at ${instance.url} runs inside the emulator (pid ${instance.pid}, emulator start --runtime-port).`,
      'Stop both with: mtlsctl emulator stop',
    )
  }
  process.kill(instance.pid, 'SIGTERM')
  const deadline = Date.now() + timeoutMs
  while (isProcessRunning(instance.pid)) {
    if (Date.now() > deadline) {
      throw internal(`The runtime (pid ${instance.pid}) did not stop within ${Math.round(timeoutMs / 1000)} s.`, `Kill it with: kill -9 ${instance.pid}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  removeFiles(root)
  return instance
}
