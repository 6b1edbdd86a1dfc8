#!/usr/bin/env node
import {run} from '../dist/mtlsctl.js'

await run(import.meta.url)
