#!/usr/bin/env -S node --import tsx --no-warnings
// Runs the CLI from src/ without building (development only).
import {execute} from '@oclif/core'

await execute({development: true, dir: import.meta.url})
