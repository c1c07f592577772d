'use strict'
// Lookups must not take libuv's thread pool: a token store may itself need it
// (fs.promises, crypto, dns.lookup). With the work on libuv's 4 pool threads,
// lookups waiting on one token refresh held every pool thread while the
// store's file I/O waited for one, until the store's 30 s timeout failed them
// with NZPIR_TOKEN_STORE.
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const readline = require('node:readline')
const { nzpir, startSandbox, request } = require('./helpers')

let sb, m

test.before(async () => {
  ;({ sb, m } = await startSandbox())
})
test.after(() => sb.stop())

/** A grant from the sandbox's OAuth server: consent, exchange into memory. */
async function grant() {
  let tokens = null
  const client = new nzpir.Client({
    endpoint: m.url,
    cert: m.client_cert,
    key: m.client_key,
    ca: m.ca_cert,
    maxRetries: 0,
    oauth: {
      clientId: 'sandbox-app',
      clientSecret: 'sandbox-app-secret',
      redirectUri: 'http://127.0.0.1/callback',
      endpoint: m.oauth.base_url,
      tokenStore: { load: () => tokens, save: (t) => void (tokens = { ...t }) },
    },
  })
  const auth = client.authorizationRequest()
  const res = await request(auth.url, { ca: m.ca_cert })
  assert.equal(res.status, 302, res.body)
  await client.completeAuthorization(res.headers.location, auth)
  assert.ok(tokens && tokens.refreshToken)
  return tokens
}

test('16 lookups waiting on one refresh through an fs.promises store, with 4 libuv threads', { timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nzpir-node-pool-'))
  try {
    const tokens = await grant()
    const file = path.join(dir, 'tokens.json')
    // Expired: the first lookup must refresh, and every other one waits for it.
    fs.writeFileSync(file, JSON.stringify({ ...tokens, expiresAt: 0 }), { mode: 0o600 })
    const refreshesBefore = sb.stats().token_requests.refresh_token ?? 0

    // ruru.agent (the consenting logon) may ask about this client without PieIRD.
    const irds = Array.from({ length: 16 }, () => '139439976')
    const child = spawn(
      process.execPath,
      [path.join(__dirname, 'fixtures', 'fs-store-lookups.js'), JSON.stringify({ m, file, irds })],
      { env: { ...process.env, UV_THREADPOOL_SIZE: '4' }, stdio: ['ignore', 'pipe', 'inherit'] },
    )
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
    const settled = []
    let failure = null
    for await (const line of readline.createInterface({ input: child.stdout })) {
      const r = JSON.parse(line)
      settled.push(r)
      // Fail at the first error rather than waiting for every store timeout.
      if (r.code && !failure) {
        failure = r
        child.kill()
      }
    }
    const { code, signal } = await exited
    assert.equal(failure, null, failure && `lookup ${failure.i}: ${failure.code}: ${failure.message}`)
    // It exited by itself, once the lookups were done.
    assert.deepEqual({ code, signal }, { code: 0, signal: null })
    assert.equal(settled.length, irds.length)
    for (const r of settled) assert.equal(r.rate, '10.5')

    // One refresh for all of them, saved through the store.
    assert.equal(sb.stats().token_requests.refresh_token - refreshesBefore, 1)
    const saved = JSON.parse(fs.readFileSync(file, 'utf8'))
    assert.ok(saved.expiresAt > Date.now() / 1000)
    assert.notEqual(saved.refreshToken, tokens.refreshToken)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('a pending lookup keeps the process alive until it settles, and nothing does after', { timeout: 60_000 }, async () => {
  // The only thing pending in the child is a lookup the sandbox answers late.
  sb.setFault({ kind: 'delay', ms: 500, times: 1 })
  const script = `
    const { nzpir, jwtOptions, MEMBER_28, SCHEME } = require(${JSON.stringify(path.join(__dirname, 'helpers'))})
    const m = JSON.parse(process.argv[1])
    new nzpir.Client(jwtOptions(m)).lookup({ ird: MEMBER_28, pieIrd: SCHEME }).then((r) => console.log(r.rate))
  `
  const child = spawn(process.execPath, ['-e', script, JSON.stringify(m)], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  const { code, signal } = await new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  assert.deepEqual({ code, signal, out: out.trim() }, { code: 0, signal: null, out: '28' })
})
