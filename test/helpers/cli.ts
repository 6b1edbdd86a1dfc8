import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const BIN = path.join(ROOT, 'bin', 'run.js')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface CliOptions {
  /** State folder (MTLSCTL_HOME). */
  home?: string
  cwd?: string
  env?: Record<string, string | undefined>
  /** Written to stdin; stdin is a pipe (not a TTY) either way. */
  input?: string
}

/**
 * The environment the CLI runs in under test: this one without colour and without MTLSCTL_*
 * settings of its own, plus `env`, with MTLSCTL_HOME set to `home` when given.
 */
export function cliEnv(home?: string, env: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const result: Record<string, string | undefined> = {...process.env, NO_COLOR: '1', ...env}
  for (const key of Object.keys(result)) if (key.startsWith('MTLSCTL_') && !(key in env)) delete result[key]
  if (home) result.MTLSCTL_HOME = home
  return result
}

/** Runs a process to its end, `input` on its stdin (a pipe), and collects its output. */
export function runProcess(
  command: string,
  args: string[],
  options: {cwd: string; env?: Record<string, string | undefined>; input?: string},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {cwd: options.cwd, env: options.env, stdio: 'pipe'})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({code, stdout, stderr}))
    child.stdin.end(options.input ?? '')
  })
}

/** Runs the built CLI as a user would: a child process, stdin not a TTY. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return runProcess(process.execPath, [BIN, ...args], {cwd: options.cwd ?? ROOT, env: cliEnv(options.home, options.env), input: options.input})
}

/** A fresh temporary folder, removed by the caller's afterEach/afterAll via `rmTemp`. */
export function tempDir(prefix = 'mtlsctl-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

export function rmTemp(dir: string): void {
  fs.rmSync(dir, {recursive: true, force: true})
}

/** An operation's id: a UUID. */
export const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'

/**
 * The whole stderr of an `archives deploy` whose operation failed, as gcloud prints it
 * (`command`: its id, e.g. gcloud.alpha.apigee.archives.deploy): group 1 the operation's UUID,
 * group 2 the details.
 */
export function failedDeployStderr(command: string): RegExp {
  return new RegExp(
    `^Waiting for operation \\[(${UUID})\\] to complete\\.\\.\\.\\n\\.+failed\\.\\nERROR: \\(${command.replaceAll('.', '\\.')}\\) Failed to await operation:\\nOperation\\(name='organizations/myorg/operations/\\1'\\)\\nDetails: (.*)\\n$`,
  )
}
