#!/usr/bin/env node
// Builds nzpir's native module from source with plain `cargo build`, and
// copies it next to the loader as `nzpir.<platform>.node`.
//
// It runs as the package's `install` script, so `npm install ./bindings-node`
// builds from source on any machine with Rust. npm 11 installs a local folder
// as a symlink and installs none of its dependencies, so this script needs
// nothing but Node and cargo. Plain cargo (rather than `napi build`, which
// always passes `--target` and so builds every dependency a second time in
// `target/<triple>/`) reuses the workspace's `target/` directory.
//
// In a development checkout, where `@napi-rs/cli` is installed, it also
// regenerates the committed loader (`native.js`) and type declarations
// (`native.d.ts`) from what the Rust macros recorded during the build.
//
//   node scripts/install.js [--profile release|debug] [--no-types]
//
// Environment: NZPIR_NODE_PROFILE (release by default; `debug` reuses the
// artifacts of `cargo test`), CARGO (the cargo binary), CARGO_TARGET_DIR.
'use strict'

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const pkgDir = path.resolve(__dirname, '..')
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'))
const binaryName = pkg.napi.binaryName
const cargo = process.env.CARGO || 'cargo'

function fail(message) {
  console.error(`nzpir: ${message}`)
  process.exit(1)
}

function option(name) {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}

const profile = option('--profile') || process.env.NZPIR_NODE_PROFILE || 'release'
if (!['release', 'debug', 'dev'].includes(profile)) {
  fail(`unknown profile ${JSON.stringify(profile)} (release or debug)`)
}
const wantTypes = !process.argv.includes('--no-types')

// napi's name for this platform: linux-x64-gnu, linux-x64-musl, darwin-arm64, win32-x64-msvc...
function platformArchAbi() {
  const { platform, arch } = process
  if (platform === 'linux') {
    const header = process.report && process.report.getReport().header
    const glibc = header && header.glibcVersionRuntime
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

function run(args, opts = {}) {
  const r = spawnSync(cargo, args, { cwd: pkgDir, encoding: 'utf8', maxBuffer: 1 << 28, ...opts })
  if (r.error) {
    fail(
      r.error.code === 'ENOENT'
        ? `cannot run \`${cargo}\`: building nzpir from source needs Rust (https://rustup.rs)`
        : `cannot run \`${cargo}\`: ${r.error.message}`,
    )
  }
  return r
}

const metadata = run(['metadata', '--format-version', '1', '--no-deps'])
if (metadata.status !== 0) fail(`cargo metadata failed:\n${metadata.stderr}`)
const targetDir = JSON.parse(metadata.stdout).target_directory

// napi-derive records type definitions while compiling when this is set. A
// fixed folder keeps cargo's fingerprint stable from build to build; when
// the record is missing, the crate is rebuilt once to write it.
const typeDefDir = path.join(targetDir, 'napi-rs', 'nzpir-node-type-defs')
fs.mkdirSync(typeDefDir, { recursive: true })
const env = { ...process.env, NAPI_TYPE_DEF_TMP_FOLDER: typeDefDir }
if (!fs.existsSync(path.join(typeDefDir, 'nzpir-node'))) {
  env.NAPI_FORCE_BUILD_NZPIR_NODE = String(Date.now())
}

const args = ['build', '-p', 'nzpir-node', '--lib', '--message-format=json-render-diagnostics']
if (profile === 'release') args.push('--release')
console.error(`nzpir: cargo ${args.join(' ')}`)
const build = run(args, { env, stdio: ['ignore', 'pipe', 'inherit'] })
if (build.status !== 0) fail('cargo build failed (see above)')

let artifact
for (const line of build.stdout.split('\n')) {
  if (!line.startsWith('{')) continue
  const msg = JSON.parse(line)
  if (msg.reason === 'compiler-artifact' && msg.target && msg.target.name === 'nzpir_node') {
    artifact = msg.filenames.find((f) => /\.(so|dylib|dll)$/.test(f)) || artifact
  }
}
if (!artifact) fail('cargo built no cdylib for nzpir-node')

// Copy beside, then rename: a process that has the old module loaded keeps it.
const dest = path.join(pkgDir, `${binaryName}.${platformArchAbi()}.node`)
const tmp = `${dest}.${process.pid}.tmp`
fs.copyFileSync(artifact, tmp)
fs.renameSync(tmp, dest)
console.error(`nzpir: ${path.relative(process.cwd(), dest) || dest} (${profile})`)

async function writeTypes() {
  let cli
  try {
    cli = require(require.resolve('@napi-rs/cli', { paths: [pkgDir] }))
  } catch {
    return // a consumer install: the committed native.js and native.d.ts are used
  }
  const config = pkg.napi
  const { exports: idents, dts } = await cli.generateTypeDef({
    typeDefDir,
    cwd: pkgDir,
    configDtsHeader: config.dtsHeader,
    declareBindingTarget: true,
  })
  fs.writeFileSync(path.join(pkgDir, 'native.d.ts'), dts)
  await cli.writeJsBinding({
    platform: true,
    idents,
    jsBinding: 'native.js',
    binaryName,
    packageName: pkg.name,
    version: pkg.version,
    outputDir: pkgDir,
  })
  console.error('nzpir: native.js, native.d.ts')
}

if (wantTypes) {
  writeTypes().catch((e) => fail(`writing native.js/native.d.ts failed: ${e.stack || e}`))
}
