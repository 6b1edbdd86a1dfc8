// oclif's command target (package.json: oclif.commands, "explicit" strategy): the COMMANDS map
// of the bundle bin/run.js has already loaded, or of src/ when bin/dev.js runs the CLI.
'use strict'
module.exports = globalThis[Symbol.for('mtlsctl.sourceCommands')] ?? require('./bundle.cjs').load()
