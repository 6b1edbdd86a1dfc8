// Builds the CLI:
// - type-checks src/;
// - dist/mtlsctl.cjs: src/ (every command) and @oclif/core bundled by esbuild into one
//   CommonJS file, loaded by bin/bundle.cjs through node:vm so that V8's code cache applies;
// - dist/mtlsctl.cjs.cache: that code cache, written by running one command (code-cache.mjs);
// - dist/prestart.js: what bin/run.js begins before the CLI loads (src/prestart.ts);
// - dist/worker.js: the detached worker of `archives deploy --async`;
// - dist/runtime-worker.js: a worker process of `runtime start --workers N`;
// - oclif.manifest.json, regenerated.
import {execFileSync} from 'node:child_process'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import {build} from 'esbuild'
import {init, parse} from 'es-module-lexer'

// oclif's own CLI (the manifest) would look for a newer oclif on the npm registry: a build does not.
const run = (cmd, args) => execFileSync(cmd, args, {stdio: 'inherit', env: {...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true'}})

// Packages left out of the bundles: heavy ones loaded lazily, and ones that read their own files.
// (yaml, which prints every YAML result, is bundled: lazily initialised, and in the code cache.)
const external = [
  'node-forge',
  'archiver',
  'js-yaml',
  '@inquirer/prompts',
  'busboy',
  'fflate',
  'jsonc-parser',
  'diff',
  'ajv',
  'undici',
  'https-proxy-agent',
  'http-proxy-agent',
  'google-auth-library',
  'kubernetes-models',
  'chalk',
  '@kubernetes-models/*',
  '@oclif/plugin-*',
  'esbuild',
  'typescript',
  'tsx',
]
const common = {bundle: true, platform: 'node', target: 'node20', external, minify: true, keepNames: true, logLevel: 'warning'}
// ESM output holding CommonJS code (@oclif/core) needs a real require() for Node's built-ins.
const esmBanner = {js: "import {createRequire as __mtlsctlCreateRequire} from 'node:module'; const require = __mtlsctlCreateRequire(import.meta.url);"}

/**
 * @oclif/core sorts each plugin's commands with String#localeCompare, whose first call loads
 * ICU's collation data: about 12 ms of every start-up, for ids that are plain ASCII. The
 * bundle sorts them by code unit instead (the same order for oclif's lowercase ids). The
 * build fails if the line is not found, so an @oclif/core update cannot drop this silently.
 */
const ordinalCommandSort = {
  name: 'ordinal-command-sort',
  setup(b) {
    b.onLoad({filter: /@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/}, (args) => {
      const source = readFileSync(args.path, 'utf8')
      const slow = '.sort((a, b) => a.id.localeCompare(b.id))'
      if (!source.includes(slow)) throw new Error(`${args.path}: "${slow}" not found: review ordinalCommandSort in scripts/build.mjs`)
      return {contents: source.replace(slow, '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))'), loader: 'js'}
    })
  },
}

/** Every dynamic import() of the bundle becomes __mtlsctlImport(), given by bin/bundle.cjs. */
async function rewriteDynamicImports(file) {
  await init
  let source = readFileSync(file, 'utf8')
  const [imports] = parse(source)
  for (const {ss} of imports.filter((i) => i.d > -1).sort((a, b) => b.ss - a.ss)) {
    if (source.slice(ss, ss + 7) !== 'import(') throw new Error(`${file}: no import( at ${ss}`)
    source = `${source.slice(0, ss)}__mtlsctlImport${source.slice(ss + 6)}`
  }
  writeFileSync(file, source)
}

run('npx', ['tsc', '-p', '.', '--noEmit'])
rmSync('dist', {recursive: true, force: true})
await build({
  ...common,
  entryPoints: {mtlsctl: 'src/main.ts'},
  format: 'cjs',
  outExtension: {'.js': '.cjs'},
  outdir: 'dist',
  // import.meta.url of the ESM sources: the bundle's own URL.
  define: {'import.meta.url': '__mtlsctlUrl'},
  banner: {js: 'const __mtlsctlUrl = require("node:url").pathToFileURL(__filename).href;'},
  plugins: [ordinalCommandSort],
})
await rewriteDynamicImports('dist/mtlsctl.cjs')
await build({...common, entryPoints: {prestart: 'src/prestart.ts', worker: 'src/worker.ts', 'runtime-worker': 'src/runtime-worker.ts'}, format: 'esm', outdir: 'dist', banner: esmBanner})
run(process.execPath, ['scripts/code-cache.mjs'])
run('npx', ['oclif', 'manifest'])
