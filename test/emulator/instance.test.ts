import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {claimStateFolder, runningInstance, socketPath, type EmulatorInstance} from '../../src/emulator/index.js'
import {refusal} from '../helpers/errors.js'
import {rmTemp, runCli, tempDir} from '../helpers/cli.js'

/** The state folder's lock (issue 11, item 3): a Unix socket held for the emulator's life. */
let dir: string
beforeAll(() => {
  dir = tempDir()
})
afterAll(() => rmTemp(dir))

const record = (root: string): EmulatorInstance => ({
  pid: process.pid,
  url: 'http://127.0.0.1:1/',
  host: '127.0.0.1',
  port: 1,
  stateFolder: root,
  startedAt: new Date(0).toISOString(),
  tokenFile: path.join(root, 'emulator.token'),
  tokenRequired: false,
})

describe('claimStateFolder', () => {
  it('one holder at a time; the record is answered on the socket; released, the folder can be claimed again', async () => {
    const root = path.join(dir, 'state')
    const claim = await claimStateFolder(root, () => ({runningDeployments: 2, stopping: false}))
    expect((fs.statSync(socketPath(root)).mode & 0o777).toString(8)).toBe('600')
    // Claimed but not yet listening: the holder is known, it has not said where yet.
    const second = await refusal(claimStateFolder(root))
    expect(second).toMatchObject({status: 'FAILED_PRECONDITION', message: `An emulator is already running on the state folder ${root} (pid ${process.pid}).`})
    claim.record(record(root))
    expect(await runningInstance(root)).toEqual({...record(root), runningDeployments: 2})
    expect(fs.readFileSync(path.join(root, 'emulator.pid'), 'utf8')).toBe(`${process.pid}\n`)
    const third = await refusal(claimStateFolder(root))
    expect(third.message).toBe(`An emulator is already running on the state folder ${root} (pid ${process.pid}, http://127.0.0.1:1/).`)
    await claim.release()
    expect(fs.existsSync(socketPath(root))).toBe(false)
    expect(fs.existsSync(path.join(root, 'emulator.json'))).toBe(false)
    expect(await runningInstance(root)).toBeUndefined()
    const again = await claimStateFolder(root)
    await again.release()
  })

  it('a socket file nobody listens on (its emulator died) is taken over', async () => {
    const root = path.join(dir, 'stale')
    fs.mkdirSync(root, {recursive: true})
    // What a killed emulator leaves: the socket file (a process listening on it, SIGKILLed), its records.
    const child = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(socketPath(root))}, () => console.log('ready'))`], {stdio: ['ignore', 'pipe', 'inherit']})
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()))
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
    fs.writeFileSync(path.join(root, 'emulator.json'), JSON.stringify(record(root)))
    expect(fs.existsSync(socketPath(root))).toBe(true)
    expect(await runningInstance(root)).toBeUndefined()
    const claim = await claimStateFolder(root)
    expect(fs.existsSync(path.join(root, 'emulator.json'))).toBe(false)
    await claim.release()
  })

  it("a state folder whose socket path would be too long uses one in the user's own folder in the temporary one, named after the folder", () => {
    const deep = path.join(dir, 'x'.repeat(120))
    const where = socketPath(deep)
    expect(path.dirname(where)).toBe(path.join(os.tmpdir(), `mtlsctl-${process.getuid!()}`))
    expect(path.basename(where)).toMatch(/^emulator-[0-9a-f]{24}\.sock$/)
    expect(socketPath(deep)).toBe(where)
    expect(socketPath(path.join(dir, 'state'))).toBe(path.join(dir, 'state', 'emulator.sock'))
  })

  describe('the socket folder in a temporary folder of its own (TMPDIR)', () => {
    const saved = process.env.TMPDIR
    let tmp: string
    let deep: string
    beforeAll(() => {
      tmp = fs.mkdtempSync(path.join(dir, 'tmp-'))
      process.env.TMPDIR = tmp
      deep = path.join(dir, 'y'.repeat(120))
    })
    afterAll(() => {
      if (saved === undefined) delete process.env.TMPDIR
      else process.env.TMPDIR = saved
    })
    const folder = () => path.join(tmp, `mtlsctl-${process.getuid!()}`)

    it('is made 0700 by the first claim; nothing runs while it is absent', async () => {
      expect(await runningInstance(deep)).toBeUndefined()
      const claim = await claimStateFolder(deep)
      expect((fs.statSync(folder()).mode & 0o777).toString(8)).toBe('700')
      expect(fs.existsSync(socketPath(deep))).toBe(true)
      await claim.release()
    })

    it('one that others can write, or a symbolic link in its place, is refused: another user could answer for the emulator', async () => {
      fs.mkdirSync(folder(), {recursive: true})
      fs.chmodSync(folder(), 0o777)
      const message = `The folder for the emulator's socket, ${folder()}, is writable by others (mode 777): another user could answer for the emulator there.`
      expect((await refusal(claimStateFolder(deep), 'FAILED_PRECONDITION')).message).toBe(message)
      expect((await refusal(runningInstance(deep), 'FAILED_PRECONDITION')).message).toBe(message)
      // As the user meets it: the message and its fix, exit 1.
      const cli = await runCli(['emulator', 'status'], {home: deep, env: {TMPDIR: tmp}})
      expect(cli.code).toBe(1)
      expect(cli.stderr).toBe(`ERROR: (mtlsctl.emulator.status) FAILED_PRECONDITION: ${message}\nRemove it, or set TMPDIR to a folder of your own (the state folder ${deep} is too long a path to hold the socket).\n`)
      if (process.getuid!() === 0) {
        // As root (CI here), a folder of another user's can be made: refused too.
        fs.chmodSync(folder(), 0o700)
        fs.chownSync(folder(), 65534, 65534)
        expect((await refusal(claimStateFolder(deep), 'FAILED_PRECONDITION')).message).toBe(
          `The folder for the emulator's socket, ${folder()}, is owned by another user (uid 65534): another user could answer for the emulator there.`,
        )
      }
      fs.rmSync(folder(), {recursive: true})
      fs.symlinkSync(dir, folder())
      expect((await refusal(claimStateFolder(deep), 'FAILED_PRECONDITION')).message).toBe(`The folder for the emulator's socket, ${folder()}, is a symbolic link: another user could answer for the emulator there.`)
      fs.rmSync(folder())
    })

    it('a temporary folder writable by all without the sticky bit, or a socket path too long, is refused', async () => {
      fs.chmodSync(tmp, 0o777)
      expect((await refusal(claimStateFolder(deep), 'FAILED_PRECONDITION')).message).toBe(
        `The temporary folder ${tmp} is writable by everyone without the sticky bit: another user could replace the emulator's socket folder in it.`,
      )
      fs.chmodSync(tmp, 0o1777)
      const claim = await claimStateFolder(deep)
      await claim.release()
      fs.chmodSync(tmp, 0o700)
      const long = fs.mkdtempSync(path.join(tmp, 'z'.repeat(80)))
      process.env.TMPDIR = long
      try {
        const error = await refusal(claimStateFolder(deep), 'FAILED_PRECONDITION')
        expect(error.message).toBe(`The emulator's socket path ${socketPath(deep)} is longer than the 107 bytes a Unix socket path may have.`)
      } finally {
        process.env.TMPDIR = tmp
      }
    })
  })
})
