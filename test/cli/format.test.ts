import {describe, expect, it} from 'vitest'

import {parseFormat, pick, render} from '../../src/cli/format.js'
import {UsageError} from '../../src/cli/usage-error.js'

const rows = [
  {name: 'a', done: true, metadata: {state: 'FINISHED'}, tags: ['x', 'y']},
  {name: 'b,c', done: false, metadata: {state: 'IN_PROGRESS'}, tags: []},
]

describe('--format', () => {
  it('parses the gcloud forms and refuses others', () => {
    expect(parseFormat('table(name, metadata.state)')).toEqual({kind: 'table', fields: ['name', 'metadata.state']})
    expect(parseFormat('json')).toEqual({kind: 'json', fields: []})
    for (const bad of ['xml', 'value', 'value()', 'table(a', 'json(']) expect(() => parseFormat(bad)).toThrow(UsageError)
  })

  it('value prints tab-separated fields, Python booleans and ;-joined lists', async () => {
    expect(await render(rows, parseFormat('value(name,done,metadata.state,tags)'))).toBe('a\tTrue\tFINISHED\tx;y\nb,c\tFalse\tIN_PROGRESS\t\n')
  })

  it('csv quotes cells and prints a header', async () => {
    expect(await render(rows, parseFormat('csv(name,done)'))).toBe('name,done\na,True\n"b,c",False\n')
  })

  it('table aligns columns under upper-case headers', async () => {
    expect(await render(rows, parseFormat('table(name,metadata.state)'))).toBe('NAME  STATE\na     FINISHED\nb,c   IN_PROGRESS\n')
    expect(await render([], parseFormat('table(name)'))).toBe('')
  })

  it('json and yaml print the whole result', async () => {
    expect(JSON.parse(await render(rows[0], parseFormat('json')))).toEqual(rows[0])
    expect(await render(rows[0], parseFormat('yaml'))).toBe('done: true\nmetadata:\n  state: FINISHED\nname: a\ntags:\n- x\n- y\n')
  })

  it('projects only own data fields, never a function or what an object inherits', async () => {
    const row = {name: 'a', list: ['x'], nested: {k: 'v'}, fn: () => 'code'}
    expect(await render(row, parseFormat('value(__proto__.toString,constructor,toString,hasOwnProperty,fn,list.length,list.0,nested.k)'))).toBe('\t\t\t\t\t\tx\tv\n')
    expect(await render([row], parseFormat('table(__proto__,name)'))).toBe('__PROTO__  NAME\n           a\n')
    expect(pick(Object.create({inherited: 'no'}), 'inherited')).toBeUndefined()
    expect(pick(new Date(0), 'getTime')).toBeUndefined()
  })
})
