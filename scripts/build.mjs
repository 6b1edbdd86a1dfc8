// Builds the CLI: type-checks, bundles src/ and @oclif/core into dist/mtlsctl.js with esbuild
// (one file, so start-up reads one module instead of hundreds), and regenerates
// oclif.manifest.json.
import {execFileSync} from 'node:child_process'
import {build} from 'esbuild'

const run = (cmd, args) => execFileSync(cmd, args, {stdio: 'inherit'})

// Packages left out of the bundle: heavy ones loaded lazily, and ones that read their own files.
const external = [
  'node-forge',
  'archiver',
  'yaml',
  '@inquirer/prompts',
  'busboy',
  'fflate',
  'chalk',
  '@oclif/plugin-*',
  'esbuild',
  'typescript',
  'tsx',
]

run('npx', ['tsc', '-p', '.', '--noEmit'])
await build({
  entryPoints: {mtlsctl: 'src/main.ts', worker: 'src/worker.ts'},
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: 'dist',
  external,
  // @oclif/core is CommonJS: give the bundle a real require() for Node's built-ins.
  banner: {js: "import {createRequire as __mtlsctlCreateRequire} from 'node:module'; const require = __mtlsctlCreateRequire(import.meta.url);"},
  minify: true,
  keepNames: true,
  logLevel: 'warning',
})
run('npx', ['oclif', 'manifest'])
