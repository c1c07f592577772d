#!/usr/bin/env node
// Stages the two npm packages scripts/dist.sh packs, napi-rs's layout:
//
//   STAGE/nzpir                  the JavaScript package: loader, types, no
//                                Rust sources and no install script; its
//                                optional dependency is the platform package
//   STAGE/nzpir-linux-x64-gnu    the prebuilt native module for that platform
//                                (os/cpu/libc say where npm installs it)
//
// native.js (napi's generated loader) requires `nzpir-linux-x64-gnu` when no
// `nzpir.linux-x64-gnu.node` lies beside it; load.js turns a failure into an
// error naming the platform and how to build from source.
//
//   node scripts/dist-npm.js STAGE NODE_BINARY
'use strict'

const fs = require('node:fs')
const path = require('node:path')

const [stage, binary] = process.argv.slice(2)
if (!stage || !binary) {
  console.error('usage: node scripts/dist-npm.js STAGE NODE_BINARY')
  process.exit(2)
}

const root = path.resolve(__dirname, '..')
const src = path.join(root, 'bindings-node')
const pkg = JSON.parse(fs.readFileSync(path.join(src, 'package.json'), 'utf8'))
const platform = 'linux-x64-gnu'
const platformPkg = `${pkg.name}-${platform}`
const nodeFile = `${pkg.napi.binaryName}.${platform}.node`

function write(dir, name, text) {
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, name), text)
}

fs.rmSync(stage, { recursive: true, force: true })

// The JavaScript package: what `files` lists, less what builds from source.
const js = path.join(stage, pkg.name)
const fromSource = new Set(['scripts/install.js', 'Cargo.toml', 'build.rs', 'src'])
const files = pkg.files.filter((f) => !fromSource.has(f))
for (const f of files) {
  fs.mkdirSync(path.dirname(path.join(js, f)), { recursive: true })
  fs.cpSync(path.join(src, f), path.join(js, f), { recursive: true })
}
const jsPkg = {
  name: pkg.name,
  version: pkg.version,
  description: pkg.description,
  license: pkg.license,
  repository: pkg.repository,
  main: pkg.main,
  types: pkg.types,
  exports: pkg.exports,
  files: [...files, 'README.md'],
  engines: pkg.engines,
  napi: { binaryName: pkg.napi.binaryName, targets: pkg.napi.targets },
  optionalDependencies: { [platformPkg]: pkg.version },
}
write(js, 'package.json', JSON.stringify(jsPkg, null, 2) + '\n')
write(
  js,
  'README.md',
  `# nzpir\n\n${pkg.description}.\n\n` +
    `Prebuilt for ${platform} (Linux x86-64 with glibc; docs/RELEASING.md in the repository says ` +
    `which glibc). npm installs the binary from the ` +
    `optional dependency \`${platformPkg}\`; on other platforms, build from source with Rust: ` +
    `\`npm install <checkout>/bindings-node\`.\n\nDocumentation: ${pkg.repository}#node\n`,
)

// The platform package: the native module alone.
const native = path.join(stage, platformPkg)
fs.mkdirSync(native, { recursive: true })
fs.copyFileSync(binary, path.join(native, nodeFile))
const nativePkg = {
  name: platformPkg,
  version: pkg.version,
  description: `The ${platform} native module of ${pkg.name} (installed by ${pkg.name})`,
  license: pkg.license,
  repository: pkg.repository,
  main: nodeFile,
  files: [nodeFile],
  os: ['linux'],
  cpu: ['x64'],
  libc: ['glibc'],
  engines: pkg.engines,
}
write(native, 'package.json', JSON.stringify(nativePkg, null, 2) + '\n')
write(native, 'README.md', `# ${platformPkg}\n\n${nativePkg.description}. Install \`${pkg.name}\`, not this.\n`)

console.log(js)
console.log(native)
