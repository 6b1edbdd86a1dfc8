// Loads dist/mtlsctl.cjs (the CLI: oclif, src/ and every command, bundled by scripts/build.mjs)
// with V8's code cache, dist/mtlsctl.cjs.cache, written by the build: V8 then skips parsing
// and compiling the bundle and the functions a command runs, which is most of mtlsctl's
// start-up after Node's own. Without a usable cache (another Node version, V8 flags such as
// --cpu-prof, a bundle changed since the build) the bundle is compiled as usual: slower, same
// behaviour.
//
// The bundle's dynamic import()s are rewritten by the build to call __mtlsctlImport, given
// here: a script compiled by node:vm has no import() of its own on Node 20 (its replacement,
// vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER, is experimental and lost with cached code).
'use strict'
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const vm = require('node:vm')
const {createRequire} = require('node:module')

const BUNDLE = path.join(__dirname, '..', 'dist', 'mtlsctl.cjs')
const CACHE = `${BUNDLE}.cache`
const LOADED = Symbol.for('mtlsctl.bundle')
// The cache file starts with the SHA-1 of the bundle it was made from: V8 itself checks only
// the source's length, and would run stale code for a bundle edited to the same length.
const DIGEST_BYTES = 20
const digest = (source) => crypto.createHash('sha1').update(source).digest()

/** The cached data for this source, if the cache file was made from it. */
function readCache(source) {
  let data
  try {
    data = fs.readFileSync(CACHE)
  } catch {
    return undefined
  }
  return data.length > DIGEST_BYTES && digest(source).equals(data.subarray(0, DIGEST_BYTES)) ? data.subarray(DIGEST_BYTES) : undefined
}

/** The bundle's exports ({run, COMMANDS}): loaded once per process. */
function load() {
  if (globalThis[LOADED]) return globalThis[LOADED].module.exports
  const source = fs.readFileSync(BUNDLE, 'utf8')
  const wrapper = `(function (exports, require, module, __filename, __dirname, __mtlsctlImport) {${source}\n})`
  const script = new vm.Script(wrapper, {filename: BUNDLE, cachedData: readCache(source)})
  const module = {exports: {}}
  script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, path.dirname(BUNDLE), (specifier) => import(specifier))
  globalThis[LOADED] = {script, source, module}
  return module.exports
}

/**
 * Writes the code cache of the bundle as this process has run it, so it holds the functions a
 * command runs, not only the top level (scripts/code-cache.mjs, at build time).
 */
function writeCache() {
  const loaded = globalThis[LOADED]
  if (loaded) fs.writeFileSync(CACHE, Buffer.concat([digest(loaded.source), loaded.script.createCachedData()]))
}

module.exports = {load, writeCache}
