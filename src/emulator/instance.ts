import {createHash} from 'node:crypto'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'

import {failedPrecondition, internal, invalidArgument, MtlsError} from '../core/errors.js'
import {readInputText} from '../core/input.js'
import {FileStore} from '../core/store/index.js'
import {acquireLock} from '../core/store/lock.js'

/**
 * The running emulator of a state folder. One emulator per state folder, held by a lock that
 * cannot go stale: the emulator listens on a Unix domain socket, `STATE/emulator.sock`, for its
 * whole life. The kernel accepts a connection to it while the emulator lives, even when it is
 * busy or stopped (SIGSTOP), and refuses it (ECONNREFUSED) once it has died, so "is an emulator
 * running here?" has an exact answer, with no pid to trust and no timeout to guess. When the
 * emulator can answer, it writes its record on the connection (and closes it).
 *
 * Beside it: `emulator.pid` (the pid, one line, for scripts), `emulator.json` (where it
 * listens), `emulator.log` (a detached emulator's stdout and stderr) and `emulator.token` (a
 * placeholder bearer token for gcloud when no --token-file is given). Claiming and releasing
 * the socket run under a small lock directory (`.emulator-lock`), so two emulators starting at
 * once, or one starting while another stops, cannot both take it.
 */
export const EMULATOR_FILES = {pid: 'emulator.pid', info: 'emulator.json', log: 'emulator.log', token: 'emulator.token', socket: 'emulator.sock'} as const

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
  /** The local runtime started beside the API (--runtime-port), in the emulator's process. */
  runtimeUrl?: string
}

/** What the emulator answers on its socket. */
export interface LockAnswer {
  pid: number
  /** Absent while it starts (before it listens). */
  instance?: EmulatorInstance
  runningDeployments: number
  stopping: boolean
}

const file = (root: string, name: keyof typeof EMULATOR_FILES) => path.join(root, EMULATOR_FILES[name])

/** The user's own folder in the temporary one, for the sockets of state folders with long paths. */
export function socketFolder(): string {
  return path.join(os.tmpdir(), `mtlsctl-${process.getuid?.() ?? os.userInfo().username}`)
}

/**
 * The socket's path: `STATE/emulator.sock`, or, when that is longer than a Unix socket path
 * may be (about 107 bytes), a file in the user's own folder in the temporary one
 * (`socketFolder()`), named after the state folder's real path (the same for every process
 * that names the folder).
 */
export function socketPath(root: string): string {
  const inFolder = file(root, 'socket')
  if (Buffer.byteLength(inFolder) <= 100) return inFolder
  let real = path.resolve(root)
  try {
    real = fs.realpathSync(root)
  } catch {}
  return path.join(socketFolder(), `emulator-${createHash('sha256').update(real).digest('hex').slice(0, 24)}.sock`)
}

/** The longest Unix socket path the platform takes (sun_path less its terminating NUL). */
const MAX_SOCKET_PATH = process.platform === 'linux' ? 107 : 103

/**
 * For a socket outside the state folder: whether its folder exists (made, 0700, when `create`),
 * refused unless it is a real folder of this user's that nobody else can write. In a shared
 * temporary folder another local user could otherwise make it first and put a socket there
 * that answers for the emulator.
 */
function checkSocketFolder(where: string, root: string, create: boolean): boolean {
  const folder = path.dirname(where)
  if (path.resolve(folder) === path.resolve(root)) return true
  if (Buffer.byteLength(where) > MAX_SOCKET_PATH) {
    throw failedPrecondition(
      `The emulator's socket path ${where} is longer than the ${MAX_SOCKET_PATH} bytes a Unix socket path may have.`,
      'Set TMPDIR to a shorter folder of your own (the state folder is too long a path to hold the socket).',
    )
  }
  // The temporary folder itself: others may make entries in it only if they cannot remove or
  // rename ours (the sticky bit, as /tmp has).
  const parent = fs.statSync(path.dirname(folder))
  if ((parent.mode & 0o002) !== 0 && (parent.mode & 0o1000) === 0) {
    throw failedPrecondition(
      `The temporary folder ${path.dirname(folder)} is writable by everyone without the sticky bit: another user could replace the emulator's socket folder in it.`,
      'Set TMPDIR to a folder of your own.',
    )
  }
  if (create) fs.mkdirSync(folder, {recursive: true, mode: 0o700})
  let stat: fs.Stats
  try {
    stat = fs.lstatSync(folder)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw error
  }
  const uid = process.getuid?.()
  const problem = stat.isSymbolicLink()
    ? 'a symbolic link'
    : !stat.isDirectory()
      ? 'not a folder'
      : uid !== undefined && stat.uid !== uid
        ? `owned by another user (uid ${stat.uid})`
        : (stat.mode & 0o022) !== 0
          ? `writable by others (mode ${(stat.mode & 0o777).toString(8)})`
          : undefined
  if (problem) {
    throw failedPrecondition(
      `The folder for the emulator's socket, ${folder}, is ${problem}: another user could answer for the emulator there.`,
      `Remove it, or set TMPDIR to a folder of your own (the state folder ${root} is too long a path to hold the socket).`,
    )
  }
  return true
}

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

type Probe = {alive: false} | {alive: true; answer?: LockAnswer}

/**
 * Connects to the socket: `alive` when it accepts (an emulator holds the folder), with its
 * answer if it gives one within `waitMs` (a busy or stopped emulator gives none, and is alive).
 */
function probe(root: string, waitMs = 1000): Promise<Probe> {
  const where = socketPath(root)
  if (!checkSocketFolder(where, root, false)) return Promise.resolve({alive: false})
  return new Promise((resolve) => {
    const socket = net.connect(where)
    let data = ''
    let connected = false
    let timer: NodeJS.Timeout | undefined
    const finish = (result: Probe) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(result)
    }
    socket.setEncoding('utf8')
    socket.on('connect', () => {
      connected = true
      timer = setTimeout(() => finish({alive: true}), waitMs)
    })
    socket.on('data', (d: string) => {
      if (data.length < 64 * 1024) data += d
    })
    socket.on('end', () => {
      try {
        finish({alive: true, answer: JSON.parse(data) as LockAnswer})
      } catch {
        finish({alive: true})
      }
    })
    socket.on('error', () => finish(connected ? {alive: true} : {alive: false}))
  })
}

async function underClaimLock<T>(root: string, fn: () => Promise<T>): Promise<T> {
  new FileStore(root).ensureRoot()
  const release = await acquireLock(path.join(root, '.emulator-lock'), {timeoutMs: 30_000, scratch: path.join(root, '.tmp')})
  try {
    return await fn()
  } finally {
    release()
  }
}

function removeRecords(root: string): void {
  for (const name of ['info', 'pid'] as const) fs.rmSync(file(root, name), {force: true})
}

function readInfo(root: string): EmulatorInstance | undefined {
  try {
    return JSON.parse(fs.readFileSync(file(root, 'info'), 'utf8')) as EmulatorInstance
  } catch {
    return undefined
  }
}

function heldBy(root: string, found: Probe & {alive: true}): MtlsError {
  const info = found.answer?.instance ?? readInfo(root)
  const pid = found.answer?.pid ?? info?.pid
  const what = pid === undefined ? '' : ` (pid ${pid}${info?.url ? `, ${info.url}` : ''})`
  return failedPrecondition(
    `An emulator is already running on the state folder ${root}${what}.`,
    'Stop it with: mtlsctl emulator stop (or use another state folder: MTLSCTL_HOME).',
  )
}

/** The state folder, held by this process until `release`. */
export interface StateFolderClaim {
  /** Records where the emulator listens (emulator.json, emulator.pid) and answers it on the socket. */
  record(instance: EmulatorInstance): void
  /** Gives the folder up: closes the socket, removes the records. */
  release(): Promise<void>
}

/**
 * Claims the state folder for this process before it listens: refuses (FAILED_PRECONDITION)
 * while a live emulator holds it, takes over a socket left by a dead one.
 */
export async function claimStateFolder(root: string, status: () => {runningDeployments: number; stopping: boolean} = () => ({runningDeployments: 0, stopping: false})): Promise<StateFolderClaim> {
  let instance: EmulatorInstance | undefined
  const where = socketPath(root)
  const server = net.createServer((socket) => {
    socket.on('error', () => {})
    socket.end(JSON.stringify({pid: process.pid, ...(instance ? {instance} : {}), ...status()} satisfies LockAnswer) + '\n')
  })
  // The socket must not keep a process alive by itself.
  server.unref()
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(where, () => {
        server.off('error', reject)
        resolve()
      })
    })
  await underClaimLock(root, async () => {
    checkSocketFolder(where, root, true)
    for (let attempt = 0; ; attempt++) {
      try {
        await listen()
        fs.chmodSync(where, 0o600)
        return
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt > 0) {
          throw internal(`Cannot hold the state folder ${root}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message} on ${where}.`)
        }
      }
      const found = await probe(root)
      if (found.alive) throw heldBy(root, found)
      // Left by an emulator that died: ours now.
      fs.rmSync(where, {force: true})
      removeRecords(root)
    }
  })
  return {
    record(next) {
      instance = next
      const target = file(root, 'info')
      const tmp = `${target}.${process.pid}.tmp`
      fs.writeFileSync(tmp, JSON.stringify(next, null, 2) + '\n', {mode: 0o600})
      fs.renameSync(tmp, target)
      fs.writeFileSync(file(root, 'pid'), `${next.pid}\n`, {mode: 0o600})
    },
    async release() {
      await underClaimLock(root, async () => {
        removeRecords(root)
        await new Promise<void>((resolve) => server.close(() => resolve()))
        // Node removes the socket file on close; a crash leaves it for the next claim.
        fs.rmSync(where, {force: true})
      })
    },
  }
}

/**
 * The emulator running on this state folder, or undefined. A busy emulator is running: the
 * socket says so even when it cannot answer, and its record comes from emulator.json then.
 */
export async function runningInstance(root: string): Promise<(EmulatorInstance & {runningDeployments?: number}) | undefined> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const found = await probe(root)
    if (!found.alive) return undefined
    if (found.answer?.instance) return {...found.answer.instance, runningDeployments: found.answer.runningDeployments}
    const info = readInfo(root)
    if (!found.answer && info) return info
    // It is starting (it holds the folder, and listens in a moment).
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new MtlsError('UNAVAILABLE', `An emulator holds the state folder ${root} but has not said where it listens.`, {hint: 'Try again in a moment.'})
}

export interface StopOptions {
  timeoutMs?: number
  /** Called once if the emulator has not stopped after a second (deployments are finishing). */
  onWait?: (instance: EmulatorInstance, runningDeployments: number | undefined) => void
}

/** Stops the emulator of the state folder (SIGTERM, then waits until it has let the folder go); undefined when none runs. */
export async function stopInstance(root: string, options: StopOptions = {}): Promise<EmulatorInstance | undefined> {
  const timeoutMs = options.timeoutMs ?? 15 * 60_000
  const instance = await runningInstance(root)
  if (!instance) return undefined
  const {runningDeployments, ...record} = instance
  try {
    process.kill(record.pid, 'SIGTERM')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
  const started = Date.now()
  let told = false
  for (;;) {
    if (!isProcessRunning(record.pid) || !(await probe(root, 200)).alive) break
    if (!told && Date.now() - started > 1000) {
      told = true
      options.onWait?.(record, runningDeployments)
    }
    if (Date.now() - started > timeoutMs) {
      throw internal(
        `The emulator (pid ${record.pid}) did not stop within ${Math.round(timeoutMs / 1000)} s.`,
        `It may be finishing a deployment; kill it with: kill -9 ${record.pid}`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  // The emulator has let the folder go (a process killed meanwhile leaves only files).
  while (isProcessRunning(record.pid) && Date.now() - started < timeoutMs) await new Promise((resolve) => setTimeout(resolve, 25))
  return record
}

/** The bearer token in a --token-file (its first line), read within the token limit. */
export function readTokenFile(tokenFile: string): string {
  const text = readInputText(tokenFile, {what: 'token', kind: 'token', flag: 'token-file'})
  const token = text.split(/\r?\n/)[0].trim()
  if (token === '' || /\s/.test(token)) throw invalidArgument(`The token file ${tokenFile} (--token-file) must hold one token on its first line.`)
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
