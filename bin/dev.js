#!/usr/bin/env -S node --import tsx --no-warnings
// Runs the CLI from src/ without building (development only). The command target of oclif,
// bin/commands.cjs, takes the commands from here instead of from the bundle.
import {execute} from '@oclif/core'

import {COMMANDS} from '../src/index.ts'

globalThis[Symbol.for('mtlsctl.sourceCommands')] = {COMMANDS}
await execute({development: true, dir: import.meta.url})
