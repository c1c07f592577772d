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

// Each worker ends with the same run: three lookups a little over a second
// apart with a client built from `options`, the rates written as JSON.
const LOOKUPS = `
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

const WORKER = `
const nzpir = require(process.argv[1])
const options = JSON.parse(process.argv[2])
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
` + LOOKUPS

function run(args, script = WORKER) {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', script, ...args], { timeout: 120000 }, (error, stdout, stderr) =>
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

// A host's own store: JSON in a file, and a lock across processes made the
// way lock-file packages make one (an exclusive mkdir), released by the
// function lock() resolves to.
const HOST_STORE_WORKER = `
const fs = require('node:fs')
const nzpir = require(process.argv[1])
const options = JSON.parse(process.argv[2])
const file = options.oauth.storePath
const trace = options.oauth.trace
delete options.oauth.storePath
delete options.oauth.trace
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
let held = false
const note = (what) => fs.appendFileSync(trace, process.pid + ' ' + what + ' ' + (held ? 1 : 0) + '\\n')
options.oauth.tokenStore = {
  async lock() {
    for (;;) {
      try {
        fs.mkdirSync(file + '.lock')
        break
      } catch (e) {
        if (e.code !== 'EEXIST') throw e
        await sleep(5)
      }
    }
    held = true
    note('locked')
    return async () => {
      note('unlocking')
      held = false
      fs.rmdirSync(file + '.lock')
    }
  },
  async load() {
    note('load')
    return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null
  },
  async save(tokens) {
    note('save')
    fs.writeFileSync(file + '.' + process.pid, JSON.stringify(tokens))
    fs.renameSync(file + '.' + process.pid, file)
  },
}
` + LOOKUPS

test('five processes sharing a JavaScript store with lock()', async () => {
  const { sb, m } = await startSandbox({ accessTokenTtl: 2, ir003Limit: 0 })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nzpir-node-lock-'))
  try {
    const file = path.join(dir, 'tokens.json')
    const trace = path.join(dir, 'trace')
    const oauth = {
      clientId: 'sandbox-app',
      clientSecret: 'sandbox-app-secret',
      redirectUri: 'http://127.0.0.1/callback',
      endpoint: m.oauth.base_url,
    }
    const base = { endpoint: m.url, cert: m.client_cert, key: m.client_key, ca: m.ca_cert, maxRetries: 0 }
    const plain = {
      load: async () => (fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null),
      save: async (t) => fs.writeFileSync(file, JSON.stringify(t)),
    }
    const client = new nzpir.Client({ ...base, oauth: { ...oauth, tokenStore: plain } })
    const auth = client.authorizationRequest()
    const res = await request(auth.url, { ca: m.ca_cert })
    await client.completeAuthorization(res.headers.location, auth)
    await new Promise((r) => setTimeout(r, 2100)) // expired: every process needs a refresh
    const options = JSON.stringify({ ...base, oauth: { ...oauth, storePath: file, trace } })
    const runs = await Promise.all(
      Array.from({ length: 5 }, () => run([path.join(__dirname, '..'), options, TAX_CLIENT], HOST_STORE_WORKER)),
    )
    for (const r of runs) {
      assert.equal(r.error, null, r.stderr)
      assert.deepEqual(JSON.parse(r.stdout), ['10.5', '10.5', '10.5'])
    }
    assert.equal(sb.stats().refresh_replays, 0)
    const refreshes = sb.stats().token_requests.refresh_token
    assert.ok(refreshes >= 1 && refreshes < 15, `refreshes: ${refreshes}`)
    const lines = fs.readFileSync(trace, 'utf8').trim().split('\n').map((l) => l.split(' '))
    const saves = lines.filter((l) => l[1] === 'save')
    // Every save (one per refresh) happened inside the host's lock.
    assert.equal(saves.length, refreshes)
    assert.ok(saves.every((l) => l[2] === '1'))
    const locked = lines.filter((l) => l[1] === 'locked').length
    assert.ok(locked >= refreshes)
    assert.equal(locked, lines.filter((l) => l[1] === 'unlocking').length)
    assert.equal(fs.existsSync(file + '.lock'), false, 'every lock was released')
  } finally {
    await sb.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('a lock() that does not give a release function fails the call, naming the rule', async () => {
  const { sb, m } = await startSandbox({ accessTokenTtl: 2 })
  try {
    let saved = null
    const client = new nzpir.Client({
      endpoint: m.url,
      cert: m.client_cert,
      key: m.client_key,
      ca: m.ca_cert,
      oauth: {
        clientId: 'sandbox-app',
        clientSecret: 'sandbox-app-secret',
        redirectUri: 'http://127.0.0.1/callback',
        endpoint: m.oauth.base_url,
        tokenStore: { lock: async () => 42, load: async () => saved, save: async (t) => (saved = t) },
      },
    })
    const auth = client.authorizationRequest()
    const res = await request(auth.url, { ca: m.ca_cert })
    await assert.rejects(client.completeAuthorization(res.headers.location, auth), (e) => {
      assert.equal(e.code, 'NZPIR_TOKEN_STORE')
      assert.match(e.message, /releases the lock/)
      return true
    })
    assert.equal(saved, null)
  } finally {
    await sb.stop()
  }
})
