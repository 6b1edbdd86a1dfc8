import {execFileSync} from 'node:child_process'
import * as path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {readInput} from '../../src/core/input.js'
import {rmTemp, tempDir} from '../helpers/cli.js'

let dir: string
beforeEach(() => {
  dir = tempDir('mtlsctl-input-')
})
afterEach(() => rmTemp(dir))

describe('readInput', () => {
  it('a FIFO nobody writes to reads as empty at once (it used to block for ever on a blocking re-open)', () => {
    const fifo = path.join(dir, 'password.fifo')
    execFileSync('mkfifo', [fifo])
    expect(readInput(fifo, {what: 'password', kind: 'password', flag: 'key-password-file'}).length).toBe(0)
  })
})
