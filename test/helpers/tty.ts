import {execFileSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {BIN, cliEnv, tempDir} from './cli.js'

/** Why the terminal tests cannot run here (tmux missing), or undefined when they can. */
export function ttyUnavailable(): string | undefined {
  try {
    execFileSync('tmux', ['-V'], {stdio: 'pipe'})
    return undefined
  } catch {
    return 'tmux is not installed (apt-get install tmux)'
  }
}

/**
 * The built CLI on a real terminal: a tmux pane (its own server socket, so nothing is shared
 * with another test or a user's tmux). Keys are sent with `send-keys`, the screen is read with
 * `capture-pane`, and the exit code is printed by the wrapping shell when the CLI ends.
 * Waiting is for a condition (text on the screen), polled within a time limit: never a sleep.
 */
export class TtySession {
  private readonly socket: string
  private readonly dir: string
  private static count = 0

  private constructor(dir: string) {
    this.dir = dir
    this.socket = `mtlsctl-test-${process.pid}-${TtySession.count++}`
  }

  /** Starts `mtlsctl ARGS` in a 200x50 pane with the test environment (MTLSCTL_HOME = home). */
  static start(args: string[], options: {home: string; cwd: string; env?: Record<string, string | undefined>}): TtySession {
    const session = new TtySession(tempDir('mtlsctl-tty-'))
    const env = cliEnv(options.home, options.env)
    const exports = Object.entries(env)
      .filter(([key, value]) => value !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
      .map(([key, value]) => `export ${key}=${quote(value as string)}`)
    const script = path.join(session.dir, 'run.sh')
    fs.writeFileSync(
      script,
      [
        ...exports,
        `cd ${quote(options.cwd)}`,
        `${quote(process.execPath)} ${quote(BIN)} ${args.map(quote).join(' ')}`,
        // The exit code on its own line; then wait, so the pane stays readable until kill().
        'echo "[exit $?]"',
        'exec sleep 600',
      ].join('\n'),
    )
    session.tmux(['-f', '/dev/null', 'new-session', '-d', '-x', '200', '-y', '50', '-s', 'cli', `sh ${quote(script)}`])
    return session
  }

  private tmux(args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], {encoding: 'utf8'})
  }

  /** The pane's text, lines joined (trailing blanks removed). */
  screen(): string {
    return this.tmux(['capture-pane', '-p', '-J', '-t', 'cli', '-S', '-200'])
      .split('\n')
      .map((l) => l.trimEnd())
      .join('\n')
      .trimEnd()
  }

  /** Waits until the screen matches, within `timeoutMs`; fails with the screen shown. */
  async waitFor(pattern: RegExp | string, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const text = this.screen()
      if (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text)) return text
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${pattern} on the terminal. Screen:\n${text}`)
      await new Promise((resolve) => setTimeout(resolve, 50)) // the next look at the screen, not a synchronisation
    }
  }

  /** Types text (literally) without Enter. */
  type(text: string): void {
    this.tmux(['send-keys', '-t', 'cli', '-l', text])
  }

  /** Sends tmux key names: `Enter`, `C-c`. */
  keys(...names: string[]): void {
    this.tmux(['send-keys', '-t', 'cli', ...names])
  }

  /** Waits for the CLI to end; its exit code and the whole screen. */
  async exit(timeoutMs = 20_000): Promise<{code: number; screen: string}> {
    const screen = await this.waitFor(/\[exit \d+\]/, timeoutMs)
    const code = Number(/\[exit (\d+)\]/.exec(screen)![1])
    return {code, screen: screen.replace(/\n?\[exit \d+\][\s\S]*$/, '')}
  }

  kill(): void {
    try {
      this.tmux(['kill-server'])
    } catch {}
    fs.rmSync(this.dir, {recursive: true, force: true})
  }
}

function quote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`
}
