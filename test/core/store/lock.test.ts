import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {acquireLock, removeStaleLock} from '../../../src/core/store/lock.js'
import {rmTemp, tempDir} from '../../helpers/cli.js'

let dir: string
beforeEach(() => {
  dir = tempDir('mtlsctl-lock-')
})
afterEach(() => rmTemp(dir))

describe('the store lock', () => {
  it('is not taken from a live owner whose event loop is blocked past the stale time (its renewal cannot run)', async () => {
    const lock = path.join(dir, '.lock')
    // The owner: takes the lock as lock.ts lays it out (a folder with its pid), then blocks its
    // event loop for 3 s, as a large fsync or rmSync does.
    const owner = spawn(
      process.execPath,
      ['-e', `const fs = require('fs'); fs.mkdirSync(${JSON.stringify(lock)}); fs.writeFileSync(${JSON.stringify(path.join(lock, 'pid'))}, process.pid + '\\nowner'); console.log('locked'); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000)`],
      {stdio: ['ignore', 'pipe', 'inherit']},
    )
    const exited = new Promise((resolve) => owner.once('exit', resolve))
    await new Promise<void>((resolve) => owner.stdout.once('data', () => resolve()))
    try {
      // staleMs 200: before, the lock was taken after 200 ms without renewal, owner alive or not.
      await expect(acquireLock(lock, {staleMs: 200, timeoutMs: 1500, scratch: path.join(dir, '.tmp')})).rejects.toThrow('held by another process')
      expect(fs.readFileSync(path.join(lock, 'pid'), 'utf8')).toBe(`${owner.pid}\nowner`)
    } finally {
      owner.kill('SIGKILL')
      await exited
    }
    // Its owner dead, the lock is taken over at once.
    const release = await acquireLock(lock, {staleMs: 200, timeoutMs: 1500, scratch: path.join(dir, '.tmp')})
    release()
  })

  it('a stale lock taken over by another process between the judgement and the rename: the new owner\'s lock is put back', () => {
    const lock = path.join(dir, '.lock')
    const scratch = path.join(dir, '.tmp')
    fs.mkdirSync(scratch)
    const install = (token: string) => {
      fs.mkdirSync(lock)
      fs.writeFileSync(path.join(lock, 'pid'), `${process.pid}\n${token}`)
    }
    // Judged stale with the dead owner's token; by the rename, another process's lock is there.
    install('live-owner')
    expect(removeStaleLock(lock, scratch, {token: 'dead-owner'})).toBe(false)
    expect(fs.readFileSync(path.join(lock, 'pid'), 'utf8')).toBe(`${process.pid}\nlive-owner`)
    // The lock judged is the one there: it goes, and nothing is left in the scratch folder.
    expect(removeStaleLock(lock, scratch, {token: 'live-owner'})).toBe(true)
    expect(fs.existsSync(lock)).toBe(false)
    expect(fs.readdirSync(scratch)).toEqual([])
    // Already gone (someone else moved it): nothing to do.
    expect(removeStaleLock(lock, scratch, {token: 'live-owner'})).toBe(false)
  })

  it("this process's pid with a token it does not hold (released while moved, then put back) is stale at once; one it holds is not", async () => {
    const lock = path.join(dir, '.lock')
    const scratch = path.join(dir, '.tmp')
    fs.mkdirSync(lock)
    fs.writeFileSync(path.join(lock, 'pid'), `${process.pid}\nreleased-long-ago`)
    const release = await acquireLock(lock, {staleMs: 60_000, timeoutMs: 1000, scratch})
    // Held now by this process: a second taker in it waits, and gives up at its deadline.
    await expect(acquireLock(lock, {staleMs: 60_000, timeoutMs: 200, scratch})).rejects.toThrow('held by another process')
    release()
    expect(fs.existsSync(lock)).toBe(false)
  })
})
