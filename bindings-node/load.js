'use strict'
// Loads the native module through napi's generated loader (native.js), which
// looks for `nzpir.<platform>.node` beside it (a build from source) and then
// for the platform package (`nzpir-linux-x64-gnu`, an optional dependency of
// the published package). When neither loads, this says which platform has
// no binary and how to build one, instead of napi's generic message.
const PREBUILT = ['linux-x64-gnu']

function platformName() {
  const { platform, arch } = process
  if (platform === 'linux') {
    let glibc
    try {
      glibc = process.report.getReport().header.glibcVersionRuntime
    } catch {
      glibc = undefined
    }
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

function causes(e) {
  const out = []
  for (let c = e; c && out.length < 8; c = c.cause) {
    if (c.message) out.push(String(c.message).split('\n')[0])
  }
  return out
}

try {
  module.exports = require('./native.js')
} catch (e) {
  const name = platformName()
  const pkg = `nzpir-${name}`
  const why = PREBUILT.includes(name)
    ? `The prebuilt binary for ${name} is in the package ${pkg}, an optional dependency of nzpir: ` +
      `install it beside nzpir (npm skips optional dependencies with --omit=optional or --no-optional), ` +
      `or build from source.`
    : `nzpir has no prebuilt binary for ${name} (prebuilt: ${PREBUILT.join(', ')}): build it from source.`
  const error = new Error(
    `nzpir: cannot load the native module for ${name} (Node ${process.version}). ${why} ` +
      `To build from source, with Rust 1.88+ (https://rustup.rs): clone https://github.com/nzpir/nzpir ` +
      `and run \`npm install <checkout>/bindings-node\` (its install script runs cargo). ` +
      `Load errors: ${causes(e).join(' <- ') || String(e)}`,
  )
  error.code = 'ERR_NZPIR_NATIVE_MODULE'
  error.cause = e
  throw error
}
