/**
 * The bundled entry point: oclif's core, the CLI layer and every command in one module, so
 * start-up reads one file. Heavy packages (node-forge, archiver, yaml, prompts) stay outside
 * and are import()ed by the code that needs them.
 */
import {execute} from '@oclif/core/execute'

export {COMMANDS} from './index.js'

export async function run(dir: string): Promise<void> {
  await execute({dir})
}
