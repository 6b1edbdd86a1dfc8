import * as fs from 'node:fs'
import * as path from 'node:path'
import {stringify} from 'yaml'
import {describe, expect, it} from 'vitest'

import {foldLikePyYaml} from '../../src/cli/yaml-fold.js'
import {ROOT} from '../helpers/cli.js'

const fixtures = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/gcloud/yaml-printer.json'), 'utf8')) as Array<{input: unknown; gcloud: string}>
// What format.ts would need for byte-identical YAML: no 1.1 quoting, sequences not indented.
const OPTIONS = {lineWidth: 0, singleQuote: true, sortMapEntries: true, indentSeq: false} as const

describe('foldLikePyYaml: the yaml package\'s one-line scalars folded as gcloud (ruamel) folds them', () => {
  for (const [i, {input, gcloud}] of fixtures.entries()) {
    it(`fixture ${i + 1}: byte-identical to gcloud's printer`, () => {
      expect(foldLikePyYaml(stringify(input, OPTIONS))).toBe(gcloud)
    })
  }

  it('leaves short lines, block scalars and sequence items alone', () => {
    const text = 'a: b\ncert: |-\n  ' + 'x: y '.repeat(30) + '\n\n  z\nlist:\n- ' + 'y '.repeat(60).trim() + '\n'
    expect(foldLikePyYaml(text)).toBe(text)
  })
})
