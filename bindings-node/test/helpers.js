'use strict'
// Shared by the tests: a live sandbox (real mutual TLS, in this process) and
// small HTTPS helpers that use its PKI.

const fs = require('node:fs')
const https = require('node:https')
const assert = require('node:assert/strict')
const nzpir = require('nzpir')

// The default fixture (sandbox/README.md): the ready config's JWT party is the
// KiwiSaver provider of scheme 125000002.
const SCHEME = '125000002'
const TUATARA = '130000002'
const MEMBER_28 = '139276507'
const MEMBER_10_5 = '139276310'
const MEMBER_NOT_FOUND = '049091850'
const NON_MEMBER = '139276272'

async function startSandbox(options) {
  const sb = await nzpir.Sandbox.start(options)
  return { sb, m: sb.manifest }
}

/** Options for `new Client` from the manifest: mTLS + the RS256 JWT credential. */
function jwtOptions(m, extra = {}) {
  const party = m.parties.find((p) => p.credentials.includes('jwt_rs256'))
  return {
    endpoint: m.url,
    cert: m.client_cert,
    key: m.client_key,
    ca: m.ca_cert,
    jwtCert: m.jwt_rs256_cert,
    jwtKey: m.jwt_rs256_key,
    issuer: party.name,
    maxRetries: 0,
    ...extra,
  }
}

/** One HTTPS request with the sandbox's PKI; resolves {status, headers, body}. */
function request(url, { method = 'GET', headers = {}, body, ca, cert, key } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        headers,
        ca: ca && fs.readFileSync(ca),
        cert: cert && fs.readFileSync(cert),
        key: key && fs.readFileSync(key),
      },
      (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () =>
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        )
      },
    )
    req.on('error', reject)
    if (body) req.write(body)
    req.end()
  })
}

/**
 * Asserts that `promise` rejects with an nzpir error of `code`, that the
 * message carries none of `secrets` (IRD numbers, names, tokens...), and
 * returns the error for further checks.
 */
async function rejectsWith(promise, code, secrets = []) {
  let error
  await assert.rejects(promise, (e) => {
    error = e
    return true
  })
  assert.ok(error instanceof Error, `not an Error: ${error}`)
  assert.equal(error.code, code, `${error.code}: ${error.message}`)
  assert.ok(nzpir.isNzpirError(error))
  for (const s of secrets) {
    assert.ok(!error.message.includes(s), `message leaks ${s}: ${error.message}`)
    assert.ok(!(error.stack || '').includes(s), `stack leaks ${s}`)
  }
  return error
}

module.exports = {
  nzpir,
  SCHEME,
  TUATARA,
  MEMBER_28,
  MEMBER_10_5,
  MEMBER_NOT_FOUND,
  NON_MEMBER,
  startSandbox,
  jwtOptions,
  request,
  rejectsWith,
}
