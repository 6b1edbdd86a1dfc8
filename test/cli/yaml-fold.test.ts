import * as fs from 'node:fs'
import * as path from 'node:path'
import {describe, expect, it} from 'vitest'

import {parseFormat, render} from '../../src/cli/format.js'
import {foldLikePyYaml} from '../../src/cli/yaml-fold.js'
import {ROOT} from '../helpers/cli.js'

const fixtures = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/gcloud/yaml-printer.json'), 'utf8')) as Array<{input: unknown; gcloud: string}>

describe('--format yaml prints what gcloud\'s printer (ruamel) prints: quoting, layout, folding at 80 columns', () => {
  for (const [i, {input, gcloud}] of fixtures.entries()) {
    it(`fixture ${i + 1}: byte-identical to gcloud's printer`, async () => {
      expect(await render(input, parseFormat('yaml'))).toBe(gcloud)
    })
  }

  it('leaves short lines, block scalars and sequence items alone', () => {
    const text = 'a: b\ncert: |-\n  ' + 'x: y '.repeat(30) + '\n\n  z\nlist:\n- ' + 'y '.repeat(60).trim() + '\n'
    expect(foldLikePyYaml(text)).toBe(text)
  })
})
