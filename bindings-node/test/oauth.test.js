'use strict'
// OAuth as IR runs it, against the sandbox's OAuth server: authorise with
// PKCE, exchange into a token store written in JavaScript, look up with the
// bearer token, refresh (rotating), introspect, revoke.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { nzpir, TUATARA, startSandbox, request, rejectsWith } = require('./helpers')

let sb, m

test.before(async () => {
  ;({ sb, m } = await startSandbox())
})
test.after(() => sb.stop())

/** A store in memory with async load/save, counting calls; `this` must work. */
class MemoryStore {
  constructor() {
    this.tokens = null
    this.saves = 0
    this.loads = 0
  }
  async load() {
    this.loads++
    await new Promise((r) => setTimeout(r, 5))
    return this.tokens
  }
  async save(tokens) {
    await new Promise((r) => setTimeout(r, 5))
    this.saves++
    this.tokens = { ...tokens }
  }
}

function oauthClient(tokenStore, clientId = 'sandbox-app') {
  return new nzpir.Client({
    endpoint: m.url,
    cert: m.client_cert,
    key: m.client_key,
    ca: m.ca_cert,
    maxRetries: 0,
    oauth: {
      clientId,
      clientSecret: `${clientId}-secret`,
      redirectUri: 'http://127.0.0.1/callback',
      endpoint: m.oauth.base_url,
      tokenStore,
    },
  })
}

/** What the person's browser does: follow IR's authorize URL to the redirect. */
async function consent(url) {
  const res = await request(url, { ca: m.ca_cert })
  assert.equal(res.status, 302, res.body)
  return res.headers.location
}

test('authorise, exchange into an object store, look up, refresh, introspect, revoke', async () => {
  const store = new MemoryStore()
  const client = oauthClient(store)
  const auth = client.authorizationRequest()
  const url = new URL(auth.url)
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256')
  assert.equal(url.searchParams.get('state'), auth.state)
  assert.equal(url.searchParams.get('client_id'), 'sandbox-app')
  assert.ok(auth.codeVerifier.length >= 43)
  assert.ok(!auth.url.includes(auth.codeVerifier))

  const redirect = await consent(auth.url)
  await rejectsWith(
    client.completeAuthorization(redirect, { state: 'forged', codeVerifier: auth.codeVerifier }),
    'NZPIR_AUTH',
  )
  const granted = await client.completeAuthorization(redirect, auth)
  assert.equal(granted.refreshable, true)
  assert.equal(granted.scope, 'MYIR.Services')
  assert.ok(granted.expiresAt > Date.now() / 1000)
  assert.equal(store.saves, 1)
  const first = store.tokens
  assert.equal(typeof first.accessToken, 'string')
  assert.equal(typeof first.refreshToken, 'string')
  assert.equal(first.expiresAt, granted.expiresAt)

  // ruru.agent (the consenting logon) may ask about its clients without PieIRD.
  assert.equal((await client.lookup({ ird: '139439976' })).rate, '10.5')
  assert.equal((await client.lookup({ ird: '139276272', pieIrd: TUATARA })).rate, '17.5')
  const e = await rejectsWith(client.lookup({ ird: '139276329' }), 'NZPIR_AUTHORISATION', ['139276329', first.accessToken])
  assert.equal(e.irCode, 'EV1041')

  // A forced refresh rotates both tokens and saves them before use.
  const refreshed = await client.refreshToken()
  assert.equal(store.saves, 2)
  assert.notEqual(store.tokens.accessToken, first.accessToken)
  assert.notEqual(store.tokens.refreshToken, first.refreshToken)
  assert.equal(refreshed.expiresAt, store.tokens.expiresAt)
  assert.equal(sb.stats().token_requests.refresh_token, 1)
  assert.equal((await client.lookup({ ird: '139332754' })).rate, '17.5')

  const live = await client.introspectToken()
  assert.equal(live.active, true)
  assert.equal(live.username, 'ruru.agent')
  assert.equal(live.clientId, 'sandbox-app')
  // The spent refresh token is dead (IR's are single-use).
  const spent = await client.introspectToken({ token: first.refreshToken, kind: 'refresh' })
  assert.equal(spent.active, false)

  // Revoking the refresh token ends the grant: the next lookup needs consent.
  await client.revokeToken()
  assert.equal((await client.introspectToken({ kind: 'access' })).active, false)
  const gone = await rejectsWith(client.lookup({ ird: '139439976' }), 'NZPIR_CONSENT_REQUIRED', [
    store.tokens.accessToken,
    store.tokens.refreshToken,
  ])
  assert.equal(gone.retryable, false)
})

test('a store loaded from an earlier run is used without a token call, and a file store works too', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nzpir-node-'))
  try {
    const file = path.join(dir, 'tokens.json')
    const first = oauthClient(file, 'sandbox-tuatara')
    const auth = first.authorizationRequest()
    await first.completeAuthorization(await consent(auth.url), auth)
    const saved = JSON.parse(fs.readFileSync(file, 'utf8'))
    assert.ok(saved.access_token)
    assert.equal(fs.statSync(file).mode & 0o777, 0o600)

    // A second process (here: client) reads the grant from its own object store.
    const store = new MemoryStore()
    store.tokens = {
      accessToken: saved.access_token,
      refreshToken: saved.refresh_token,
      expiresAt: saved.expires_at,
      scope: saved.scope ?? null,
    }
    const before = sb.stats().token_requests
    // The ready config is JWT: a token store there is a mistake, said so.
    assert.throws(() => nzpir.Client.fromConfig(sb.configPath, { tokenStore: store }), {
      code: 'NZPIR_CONFIG',
      message: /^config `options\.tokenStore`: is only used with OAuth/,
    })
    const third = oauthClient(store, 'sandbox-tuatara')
    assert.equal((await third.lookup({ ird: '139276272', pieIrd: TUATARA })).rate, '17.5')
    assert.equal(store.loads, 1)

    // An OAuth configuration file naming a token file: the object replaces it.
    const toml = path.join(dir, 'oauth.toml')
    fs.writeFileSync(toml, [
      `endpoint = "${m.url}"`,
      '[tls]',
      `client_cert = "${m.client_cert}"`,
      `client_key = "${m.client_key}"`,
      `ca_cert = "${m.ca_cert}"`,
      '[auth]',
      'type = "oauth"',
      'client_id = "sandbox-tuatara"',
      'client_secret = "sandbox-tuatara-secret"',
      'redirect_uri = "http://127.0.0.1/callback"',
      `endpoint = "${m.oauth.base_url}"`,
      `token_store = "${path.join(dir, 'unused.json')}"`,
    ].join('\n'))
    const fourth = nzpir.Client.fromConfig(toml, { tokenStore: store })
    assert.equal((await fourth.lookup({ ird: '139276272', pieIrd: TUATARA })).rate, '17.5')
    assert.equal(store.loads, 2)
    assert.ok(!fs.existsSync(path.join(dir, 'unused.json')))
    assert.deepEqual(sb.stats().token_requests, before)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('NZPIR_CONSENT_REQUIRED with an empty store; NZPIR_TOKEN_STORE when the store fails', async () => {
  await rejectsWith(oauthClient(new MemoryStore()).lookup({ ird: '139439976' }), 'NZPIR_CONSENT_REQUIRED')
  const failing = {
    async load() {
      throw new Error('disk on fire near rt-0123456789abcdefghij')
    },
    async save() {},
  }
  const e = await rejectsWith(oauthClient(failing).lookup({ ird: '139439976' }), 'NZPIR_TOKEN_STORE')
  assert.match(e.message, /load\(\) failed/)
  // The store's own text (it may quote a token) is not copied into nzpir's.
  assert.doesNotMatch(e.message, /disk on fire|rt-0123456789/)
  const throwsSync = {
    load() {
      throw new TypeError('not today')
    },
    save() {},
  }
  await rejectsWith(oauthClient(throwsSync).lookup({ ird: '139439976' }), 'NZPIR_TOKEN_STORE')
  const badShape = { load: async () => ({ accessToken: 5 }), save: async () => {} }
  const e2 = await rejectsWith(oauthClient(badShape).lookup({ ird: '139439976' }), 'NZPIR_TOKEN_STORE')
  assert.match(e2.message, /accessToken/)
  // A synchronous store (plain values, no Promise) works as well.
  const plain = new MemoryStore()
  const sync = { load: () => plain.tokens, save: (t) => void (plain.tokens = t) }
  const c = oauthClient(sync)
  const auth = c.authorizationRequest()
  await c.completeAuthorization(await consent(auth.url), auth)
  assert.equal((await c.lookup({ ird: '139439976' })).rate, '10.5')
})

test('OAuth arguments are checked', async () => {
  assert.throws(() => oauthClient({ load() {} }), { code: 'NZPIR_INVALID_ARG', field: 'options.oauth.tokenStore.save' })
  assert.throws(() => oauthClient(42), { code: 'NZPIR_INVALID_ARG', field: 'options.oauth.tokenStore' })
  const jwtOnly = nzpir.Client.fromConfig(sb.configPath)
  assert.throws(() => jwtOnly.authorizationRequest(), { code: 'NZPIR_CONFIG' })
  await rejectsWith(jwtOnly.refreshToken(), 'NZPIR_CONFIG')
  const c = oauthClient(new MemoryStore())
  assert.throws(() => c.introspectToken({ kind: 'id' }), { code: 'NZPIR_INVALID_ARG', field: 'options.kind' })
  assert.throws(() => c.completeAuthorization('x', {}), { code: 'NZPIR_INVALID_ARG', field: 'pending.state' })
})

test('a store whose save() calls back into the same client is refused, not left waiting for itself', async () => {
  const seen = []
  const store = new MemoryStore()
  let client = null
  let reenter = false
  const base = store.save.bind(store)
  store.save = async (tokens) => {
    if (reenter) {
      reenter = false
      // Two awaits deep, as an application would write it.
      await new Promise((r) => setTimeout(r, 1))
      try {
        await client.refreshToken()
      } catch (e) {
        seen.push(e)
      }
    }
    await base(tokens)
  }
  client = oauthClient(store)
  const auth = client.authorizationRequest()
  await client.completeAuthorization(await consent(auth.url), auth)
  reenter = true
  await client.refreshToken()
  assert.equal(seen.length, 1)
  assert.equal(seen[0].code, 'NZPIR_TOKEN_STORE')
  assert.match(seen[0].message, /called back into the same client/)
  // Another client on its own store is not affected by this one's callback.
  const other = oauthClient(new MemoryStore())
  await rejectsWith(other.lookup({ ird: '139439976' }), 'NZPIR_CONSENT_REQUIRED')
})
