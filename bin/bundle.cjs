// Loads dist/mtlsctl.cjs (the CLI: oclif, src/ and every command, bundled by scripts/build.mjs)
// with V8's code cache, dist/mtlsctl.cjs.cache, written by the build: V8 then skips parsing
// and compiling the half-megabyte bundle and the functions a command runs, which is most of
// mtlsctl's start-up after Node's own. Without a usable cache (another Node version, V8
// flags such as --cpu-prof) the bundle is compiled as usual: slower, same behaviour.
//
// The bundle's dynamic import()s are rewritten by the build to call __mtlsctlImport, given
// here: a script compiled by node:vm has no import() of its own on Node 20 (its replacement,
// vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER, is experimental and lost with cached code).
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const vm = require('node:vm')
const {createRequire} = require('node:module')

const BUNDLE = path.join(__dirname, '..', 'dist', 'mtlsctl.cjs')
const CACHE = `${BUNDLE}.cache`
const LOADED = Symbol.for('mtlsctl.bundle')

function compile(cachedData) {
  const source = fs.readFileSync(BUNDLE, 'utf8')
  const wrapper = `(function (exports, require, module, __filename, __dirname, __mtlsctlImport) {${source}\n})`
  return new vm.Script(wrapper, {filename: BUNDLE, cachedData})
}

function readCache() {
  try {
    return fs.readFileSync(CACHE)
  } catch {
    return undefined
  }
}

/** The bundle's exports ({run, COMMANDS}): loaded once per process. */
function load() {
  if (globalThis[LOADED]) return globalThis[LOADED].module.exports
  const script = compile(readCache())
  const module = {exports: {}}
  globalThis[LOADED] = {script, module}
  script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, path.dirname(BUNDLE), (specifier) => import(specifier))
  return module.exports
}

/**
 * Writes the code cache of the bundle as this process has run it, so it holds the functions a
 * command runs, not only the top level (the build runs a command with MTLSCTL_WRITE_CODE_CACHE).
 */
function writeCache() {
  const loaded = globalThis[LOADED]
  if (loaded) fs.writeFileSync(CACHE, loaded.script.createCachedData())
}

module.exports = {load, writeCache}
