'use strict'
// Several Node processes on one OAuth token file, with access tokens that
// live 2 s: they refresh in turn under the file's lock and adopt what another
// process stored, so no spent refresh token is ever sent again.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { nzpir, startSandbox, request } = require('./helpers')

const TAX_CLIENT = '139439976'

const WORKER = `
const nzpir = require(process.argv[1])
const options = JSON.parse(process.argv[2])
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
;(async () => {
  const client = new nzpir.Client(options)
  const rates = []
  for (let i = 0; i < 3; i++) {
    rates.push((await client.lookup({ ird: process.argv[3] })).rate)
    await sleep(1100)
  }
  process.stdout.write(JSON.stringify(rates))
})().catch((e) => {
  process.stderr.write(String(e && e.code) + ' ' + String(e && e.message))
  process.exit(1)
})
`

function run(args) {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', WORKER, ...args], { timeout: 120000 }, (error, stdout, stderr) =>
      resolve({ error, stdout, stderr }),
    )
  })
}

test('five processes refreshing one token file', async () => {
  const { sb, m } = await startSandbox({ accessTokenTtl: 2, ir003Limit: 0 })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nzpir-node-procs-'))
  try {
    const options = {
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
        tokenStore: path.join(dir, 'tokens.json'),
      },
    }
    const client = new nzpir.Client(options)
    const auth = client.authorizationRequest()
    const res = await request(auth.url, { ca: m.ca_cert })
    await client.completeAuthorization(res.headers.location, auth)
    await new Promise((r) => setTimeout(r, 2100)) // expired: every process needs a refresh
    const runs = await Promise.all(
      Array.from({ length: 5 }, () => run([path.join(__dirname, '..'), JSON.stringify(options), TAX_CLIENT])),
    )
    for (const r of runs) {
      assert.equal(r.error, null, r.stderr)
      assert.deepEqual(JSON.parse(r.stdout), ['10.5', '10.5', '10.5'])
    }
    const refreshes = sb.stats().token_requests.refresh_token
    assert.ok(refreshes >= 1 && refreshes < 15, `refreshes: ${refreshes}`)
    // No spent refresh token was ever sent again (IR revokes the grant then).
    assert.equal(sb.stats().refresh_replays, 0)
    // The grant in the file is still the live one.
    const again = new nzpir.Client(options)
    assert.equal((await again.introspectToken({ kind: 'refresh' })).active, true)
  } finally {
    await sb.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
