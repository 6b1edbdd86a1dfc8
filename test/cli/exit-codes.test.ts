import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {describe, expect, it} from 'vitest'

import {reportError} from '../../src/cli/exit-codes.js'
import {AbortedByUser} from '../../src/cli/prompts.js'
import {UsageError} from '../../src/cli/usage-error.js'
import {MtlsError} from '../../src/core/errors.js'

/** What a raw error thrown by Node looks like, made for real. */
function systemError(action: () => void): NodeJS.ErrnoException {
  try {
    action()
  } catch (error) {
    return error as NodeJS.ErrnoException
  }
  throw new Error('expected the action to fail')
}

describe('reportError (issue 11, items 5, 13, 15)', () => {
  it('a raw system error is INTERNAL in words, without the path Node put in its message', () => {
    const long = path.join(os.tmpdir(), 'x'.repeat(300), 'doc.json')
    const error = systemError(() => fs.openSync(long, 'r'))
    expect(error.message).toContain(os.tmpdir())
    expect(reportError(error)).toEqual({exitCode: 1, message: 'INTERNAL: A file system operation failed (open): its name is too long.'})
    const missing = systemError(() => fs.renameSync(path.join(os.tmpdir(), 'no-such-mtlsctl-file'), path.join(os.tmpdir(), 'b')))
    expect(reportError(missing)).toEqual({exitCode: 1, message: 'INTERNAL: A file system operation failed (rename): no such file.'})
    expect(reportError(Object.assign(new Error(`ENOSPC: no space left on device, write '/home/u/.mtlsctl/x.json'`), {code: 'ENOSPC', syscall: 'write'}))).toEqual({
      exitCode: 1,
      message: 'INTERNAL: A file system operation failed (write): no space is left on the disk.',
    })
  })

  it('any other unexpected error loses its absolute paths', () => {
    expect(reportError(new Error(`cannot load '/home/u/.mtlsctl/organizations/o.json' (see /var/log/x)`)).message).toBe(
      "INTERNAL: cannot load '[path]' (see [path])",
    )
    expect(reportError(new Error('Invalid string length')).message).toBe('INTERNAL: Invalid string length')
    // An engine INTERNAL wrapping a system error's message (a deployment's): the path goes too.
    expect(reportError(new MtlsError('INTERNAL', "ENAMETOOLONG: name too long, open '/home/u/.mtlsctl/organizations/o/apis/x.json'")).message).toBe(
      "INTERNAL: ENAMETOOLONG: name too long, open '[path]'",
    )
    // A quoted path with spaces goes whole (a home folder named after its user, "John Doe").
    expect(reportError(new MtlsError('INTERNAL', `EACCES: permission denied, open '/home/John Doe/.mtlsctl/organizations/o.json'`)).message).toBe(
      "INTERNAL: EACCES: permission denied, open '[path]'",
    )
    // An apostrophe inside a quoted path, and a quote that is never closed (a clipped message).
    expect(reportError(new MtlsError('INTERNAL', `open '/home/O'Brien/.mtlsctl/o.json', then x`)).message).toBe("INTERNAL: open '[path]', then x")
    expect(reportError(new MtlsError('INTERNAL', `open '/home/u/.mtlsctl/organizations/o.js`)).message).toBe("INTERNAL: open '[path]")
    expect(reportError(new MtlsError('NOT_FOUND', 'The file /tmp/x.pem was not found.')).message).toBe('NOT_FOUND: The file /tmp/x.pem was not found.')
  })

  it("a flag's parse error is a usage error with the message alone; a 'no' is Aborted by user, exit 1", () => {
    const wrapped = new UsageError('Invalid --days -5: a certificate must be valid for at least 1 day.')
    wrapped.message = `Parsing --days \n\t${wrapped.message}\nSee more help with --help`
    expect(reportError(wrapped)).toEqual({exitCode: 2, message: 'Invalid --days -5: a certificate must be valid for at least 1 day.', hint: undefined})
    expect(reportError(new AbortedByUser())).toEqual({exitCode: 1, message: 'Aborted by user.'})
  })
})
