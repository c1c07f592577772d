'use strict'
// The child process of secrets_audit.test.js: drives lookups and every error
// path through the binding, and writes to the file named by argv[2] what it
// used (the secrets) and what it saw (error messages, stacks, inspect() of
// errors, clients and results). It prints nothing itself: whatever appears
// on its stdout or stderr came from the binding or the core.

const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')
const util = require('node:util')
const nzpir = require('nzpir')
const { request } = require('./helpers')

const SCHEME = '125000002'
const PIE = '130000002'
const secrets = []
const texts = []
const codes = []

function secret(what, value) {
  if (typeof value !== 'string' || value.length === 0) throw new Error(`empty ${what}`)
  secrets.push([what, value])
}

function irdForms(ird) {
  const nine = ird.padStart(9, '0')
  const forms = [nine, `${nine.slice(0, 3)}-${nine.slice(3, 6)}-${nine.slice(6)}`]
  const eight = nine.replace(/^0+/, '')
  if (eight.length === 8) forms.push(eight, `${eight.slice(0, 2)}-${eight.slice(2, 5)}-${eight.slice(5)}`)
  return forms
}

function ird(n) {
  for (const f of irdForms(n)) secret('IRD number', f)
}

function keyFile(file) {
  const lines = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => !l.startsWith('-----') && l.length >= 16)
  if (lines.length === 0) throw new Error(`no key material in ${file}`)
  for (const l of lines) secret(`private key line of ${path.basename(file)}`, l)
}

/** Keeps what inspect(), String() and JSON show of `obj`; `allowed`: values it carries by design. */
function shown(what, obj, allowed = []) {
  texts.push([`inspect of ${what}`, util.inspect(obj, { showHidden: true, depth: 8, getters: true }), allowed])
  texts.push([`String of ${what}`, String(obj), allowed])
  try {
    texts.push([`JSON of ${what}`, JSON.stringify(obj) ?? '', allowed])
  } catch {
    // not serialisable: inspect() above is what a logger would print
  }
}

/** A lookup's result is the answer, a plain object: its JSON names the
 * investor and PIE asked about by design (`ird`, `pieIrd`); what inspect()
 * (a logger) shows of it names neither. */
function result(what, r) {
  if (!r.ird) throw new Error(`${what}: no ird on the result`)
  texts.push([`inspect of ${what}`, util.inspect(r, { showHidden: true, depth: 8, getters: true }), []])
  texts.push([`String of ${what}`, String(r), []])
  texts.push([`JSON of ${what}`, JSON.stringify(r), [r.ird, r.pieIrd].filter(Boolean).flatMap(irdForms)])
}

/** Runs `f` (sync or async), which must fail with `code`; keeps what the error shows. */
async function fails(what, code, f) {
  let error
  try {
    await f()
  } catch (e) {
    error = e
  }
  if (!(error instanceof Error)) throw new Error(`${what}: did not fail`)
  if (error.code !== code) throw new Error(`${what}: ${error.code} ${error.message}, expected ${code}`)
  codes.push(error.code)
  for (let e = error; e; e = e.cause) {
    texts.push([`message of the ${what} error`, String(e.message)])
    texts.push([`stack of the ${what} error`, String(e.stack)])
    shown(`the ${what} error`, e)
  }
}

class MemoryStore {
  constructor() {
    this.tokens = null
    this.saved = []
  }
  async load() {
    return this.tokens
  }
  async save(tokens) {
    this.saved.push({ ...tokens })
    this.tokens = { ...tokens }
    secret('access token', tokens.accessToken)
    if (tokens.refreshToken) secret('refresh token', tokens.refreshToken)
  }
}

function closedPort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

async function main() {
  const report = process.argv[2]
  const sb = await nzpir.Sandbox.start()
  const mock = await nzpir.Sandbox.start({ profile: 'ir-mock' })
  const quota = await nzpir.Sandbox.start({ ir003Limit: 1 })
  try {
    for (const box of [sb, mock, quota]) {
      const m = box.manifest
      for (const k of [m.client_key, m.unregistered_client_key, m.jwt_rs256_key, m.jwt_ec_key]) keyFile(k)
      keyFile(path.join(m.pki_dir, 'ca.key'))
      for (const c of m.oauth.clients) secret('client secret', c.client_secret)
    }
    for (const n of [SCHEME, PIE, '139276507', '139276310', '049091850', '139276329', '139276272',
      '139439976', '139332754', '136410133', '136410132', '012345678', '123987654']) ird(n)
    for (const [w, v] of [['first name', 'Gary'], ['last name', 'Allen'], ['date of birth', '1990-01-02'],
      ['street', '123 Ha Crescent'], ['first name', 'Wiremu'], ['last name', 'Secretsurname'],
      ['date of birth', '1971-02-30'], ['street', '9 Hidden Road']]) secret(w, v)

    const m = sb.manifest
    const base = { endpoint: m.url, cert: m.client_cert, key: m.client_key, ca: m.ca_cert }
    const issuer = m.parties.find((p) => p.credentials.includes('jwt_rs256')).name
    const jwt = { ...base, jwtCert: m.jwt_rs256_cert, jwtKey: m.jwt_rs256_key, issuer, maxRetries: 1, retryBaseDelay: 5 }

    // --- Successful lookups: RS256, ES256, a person's details.
    const client = new nzpir.Client(jwt)
    result('result', await client.lookup({ ird: '139276507', pieIrd: SCHEME }))
    result('result', await client.lookup({ ird: '49-091-850', pieIrd: SCHEME }))
    shown('JWT client', client)
    const ec = new nzpir.Client({ ...base, jwtCert: m.jwt_ec_cert, jwtKey: m.jwt_ec_key, jwtAlg: m.jwt_ec_alg, issuer: 'EC' })
    result('result', await ec.lookup({ ird: '139276310', pieIrd: SCHEME }))
    shown('ES256 client', ec)
    for (const opts of [
      { cert: m.jwt_rs256_cert, key: m.jwt_rs256_key, issuer },
      { cert: m.jwt_ec_cert, key: m.jwt_ec_key, alg: m.jwt_ec_alg, issuer: 'EC' },
      { cert: m.jwt_rs256_cert, key: m.jwt_rs256_key, issuer, startLogon: 'tuatara.admin' },
    ]) {
      const minted = nzpir.mintJwt(opts)
      secret('JWT', minted.token)
      secret('JWT signature', minted.token.split('.')[2])
    }
    const tuatara = new nzpir.Client({ ...jwt, startLogon: 'tuatara.admin' })
    const soft = await tuatara.lookup({
      ird: '139276329', pieIrd: PIE, name: { firstName: 'Gary', lastName: 'Allen' }, dob: '1990-01-02',
      address: { street: '123 Ha Crescent', city: 'Auckland', postCode: '2104', country: 'NZ' },
      formattedName: 'Allen, Gary',
    })
    if (soft.rate !== '28') throw new Error(`soft match: ${soft.rate}`)
    result('soft-match result', soft)

    // --- OAuth: code flow, lookups, rotation, introspection, revocation.
    const oauthClient = (store, clientId = 'sandbox-app') => new nzpir.Client({
      ...base, maxRetries: 0,
      oauth: { clientId, clientSecret: `${clientId}-secret`, redirectUri: 'http://127.0.0.1/callback', endpoint: m.oauth.base_url, tokenStore: store },
    })
    const authorise = async (c) => {
      const pending = c.authorizationRequest()
      secret('OAuth state', pending.state)
      secret('PKCE verifier', pending.codeVerifier)
      const res = await request(pending.url, { ca: m.ca_cert })
      const location = res.headers.location
      secret('authorisation code', new URL(location).searchParams.get('code'))
      await fails('forged state', 'NZPIR_AUTH', () =>
        c.completeAuthorization(location, { state: 'forged', codeVerifier: pending.codeVerifier }))
      shown('token info', await c.completeAuthorization(location, pending))
    }
    const store = new MemoryStore()
    const oc = oauthClient(store)
    await authorise(oc)
    await oc.lookup({ ird: '139439976' })
    shown('token info', await oc.refreshToken())
    await oc.lookup({ ird: '139332754' })
    shown('introspection', await oc.introspectToken())
    shown('OAuth client', oc)
    const bearer = new nzpir.Client({ ...base, bearerToken: store.tokens.accessToken })
    await bearer.lookup({ ird: '139439976' })
    shown('bearer client', bearer)
    await fails('EV1041', 'NZPIR_AUTHORISATION', () => oc.lookup({ ird: '139276507', pieIrd: SCHEME }))
    const spent = new MemoryStore()
    spent.tokens = { ...store.saved[0], expiresAt: 1 }
    await fails('a spent refresh token', 'NZPIR_CONSENT_REQUIRED', () => oauthClient(spent).lookup({ ird: '139439976' }))
    sb.setFault({ kind: 'status', status: 503, times: 1, scope: 'token' })
    await fails('a token endpoint 503', 'NZPIR_SERVER', () => oc.refreshToken())
    sb.clearFaults()
    await oc.revokeToken()
    await fails('a revoked grant', 'NZPIR_CONSENT_REQUIRED', () => oc.lookup({ ird: '139439976' }))
    const orphan = oauthClient(new MemoryStore(), 'sandbox-orphan')
    await authorise(orphan)
    await fails('EV1040', 'NZPIR_AUTHORISATION', () => orphan.lookup({ ird: '139439976' }))

    // --- Strict mode's refusals.
    await fails('EV1023', 'NZPIR_AUTH', () =>
      new nzpir.Client({ ...jwt, cert: m.unregistered_client_cert, key: m.unregistered_client_key }).lookup({ ird: '139276507', pieIrd: SCHEME }))
    await fails('EV1025', 'NZPIR_AUTH', () => new nzpir.Client(base).lookup({ ird: '139276507', pieIrd: SCHEME }))
    secret('unknown bearer', 'a-bearer-token-nobody-issued-QxZv')
    await fails('EV1024', 'NZPIR_AUTH', () =>
      new nzpir.Client({ ...base, bearerToken: 'a-bearer-token-nobody-issued-QxZv' }).lookup({ ird: '139276507', pieIrd: SCHEME }))
    await fails('EV1029', 'NZPIR_AUTH', () =>
      new nzpir.Client({ ...jwt, jwtAlg: 'RS384' }).lookup({ ird: '139276507', pieIrd: SCHEME }))
    await fails('EV1043', 'NZPIR_AUTHORISATION', () => client.lookup({ ird: '139276272', pieIrd: SCHEME }))
    await fails('EV1042', 'NZPIR_AUTHORISATION', () => client.lookup({ ird: '139276272', pieIrd: PIE }))
    await fails('PIR101', 'NZPIR_REJECTED', () => client.lookup({ ird: '139276507' }))
    const unchecked = new nzpir.Client({ ...jwt, validateLocally: false })
    await fails('EV1100', 'NZPIR_REJECTED', () => unchecked.lookup({
      ird: '136410133', pieIrd: SCHEME, dob: '1971-02-30',
      address: { street: '9 Hidden Road', city: 'Hamilton', country: 'AB' },
    }))
    await fails('PER100', 'NZPIR_REJECTED', () => unchecked.lookup({ ird: '139276507', pieIrd: SCHEME, filingPeriod: '2020-03-30' }))
    const qm = quota.manifest
    const qc = new nzpir.Client({ endpoint: qm.url, cert: qm.client_cert, key: qm.client_key, ca: qm.ca_cert, jwtCert: qm.jwt_rs256_cert, jwtKey: qm.jwt_rs256_key, issuer })
    await qc.lookup({ ird: '139276507', pieIrd: SCHEME })
    await fails('IR003', 'NZPIR_RATE_LIMITED', () => qc.lookup({ ird: '139276507', pieIrd: SCHEME }))

    // --- Faults, retried or not, and a timeout.
    for (const [what, fault, code] of [
      ['503', { kind: 'status', status: 503 }, 'NZPIR_SERVER'],
      ['PIR150', { kind: 'pir150' }, 'NZPIR_SERVER'],
      ['drop before read', { kind: 'drop_before_read' }, 'NZPIR_TRANSPORT'],
      ['drop after read', { kind: 'drop_after_read' }, 'NZPIR_TRANSPORT'],
      ['truncated body', { kind: 'truncated_body', times: 1 }, 'NZPIR_SERVER'],
      ['malformed body', { kind: 'malformed_body', times: 1 }, 'NZPIR_SERVER'],
    ]) {
      sb.setFault(fault)
      await fails(what, code, () => client.lookup({ ird: '139276310', pieIrd: SCHEME }))
      sb.clearFaults()
    }
    sb.setFault({ kind: 'delay', ms: 3000 })
    await fails('timeout', 'NZPIR_TIMEOUT', () =>
      new nzpir.Client({ ...jwt, timeout: 300, maxRetries: 0 }).lookup({ ird: '139276310', pieIrd: SCHEME }))
    sb.clearFaults()

    // --- TLS and connections.
    await fails('untrusted server', 'NZPIR_TLS', () =>
      new nzpir.Client({ ...jwt, ca: m.jwt_rs256_cert, maxRetries: 0 }).lookup({ ird: '139276507', pieIrd: SCHEME }))
    const port = await closedPort()
    await fails('connection refused', 'NZPIR_TRANSPORT', () =>
      new nzpir.Client({ ...jwt, endpoint: `https://127.0.0.1:${port}`, maxRetries: 0 }).lookup({ ird: '139276507', pieIrd: SCHEME }))

    // --- IR's mock.
    const mm = mock.manifest
    const mc = new nzpir.Client({ endpoint: mm.url, cert: mm.client_cert, key: mm.client_key, ca: mm.ca_cert, validateLocally: false })
    for (const n of ['139276507', '139439976', '123987654']) result('mock result', await mc.lookup({ ird: n }))
    await fails('mock PIR101', 'NZPIR_REJECTED', () => mc.lookup({ ird: '139332754' }))
    await fails('mock EV1043', 'NZPIR_AUTHORISATION', () => mc.lookup({ ird: '139276329' }))
    await fails('mock EV1100', 'NZPIR_REJECTED', () => mc.lookup({ ird: '12345' }))

    // --- Local validation and wrong arguments: nothing sent, nothing quoted.
    await fails('local validation', 'NZPIR_INVALID_INPUT', () => client.lookup({
      ird: '136410133', pieIrd: '12345678', name: { firstName: 'Wiremu', lastName: 'Secretsurname' },
      dob: '1971-02-30', address: { street: '9 Hidden Road', city: 'Hamilton', country: 'QQ' },
      filingPeriod: '2024-04-01',
    }))
    for (const bad of ['139-276-508', '136410133', '49091851x']) {
      await fails('invalid IRD', 'NZPIR_INVALID_INPUT', () => nzpir.normaliseIrd(bad))
    }
    ird('139276508')
    ird('049091851')
    await fails('a number as IRD', 'NZPIR_INVALID_ARG', () => client.lookup({ ird: 139276507, pieIrd: SCHEME }))
    await fails('a number as first name', 'NZPIR_INVALID_ARG', () =>
      client.lookup({ ird: '139276507', name: { firstName: 1990, lastName: 'Secretsurname' } }))
    await fails('an unknown request field', 'NZPIR_INVALID_ARG', () =>
      client.lookup({ ird: '139276507', pieIrd: SCHEME, Dob: '1990-01-02' }))

    // --- Configuration errors next to secrets.
    const keyPem = fs.readFileSync(m.client_key, 'utf8')
    await fails('a key that does not match', 'NZPIR_CONFIG', () => new nzpir.Client({ ...jwt, key: m.jwt_rs256_key }))
    await fails('a certificate as a key', 'NZPIR_CONFIG', () => new nzpir.Client({ ...jwt, jwtKey: m.jwt_rs256_cert }))
    await fails('a garbled key', 'NZPIR_CONFIG', () => new nzpir.Client({ ...jwt, key: keyPem.replace(/A/g, '!') }))
    await fails('a key cut short', 'NZPIR_CONFIG', () => new nzpir.Client({ ...jwt, key: keyPem.slice(0, keyPem.length / 2) }))
    await fails('a key as a Buffer, garbled', 'NZPIR_CONFIG', () =>
      new nzpir.Client({ ...jwt, key: Buffer.from(keyPem.replace(/A/g, '!')) }))
    await fails('a key with leading text', 'NZPIR_CONFIG', () => new nzpir.Client({ ...jwt, key: `x${keyPem}` }))
    secret('bearer with a newline', 'secret-QxZvTkWm')
    let broken
    try {
      broken = new nzpir.Client({ ...base, bearerToken: 'bearer-nl\nsecret-QxZvTkWm' })
    } catch (e) {
      await fails('a bearer token with a newline', e.code, () => { throw e })
    }
    if (broken) {
      await fails('a bearer token with a newline', 'NZPIR_CONFIG', () => broken.lookup({ ird: '139276507', pieIrd: SCHEME }))
    }
    // PKCS#12 bundles and their passwords: the right one works, a wrong one
    // is a configuration error that names neither.
    const p12 = path.join(m.pki_dir, 'audit.p12')
    const p12Pass = 'p12-pass-VbNmQwErTy'
    secret('PKCS#12 password', p12Pass)
    secret('PKCS#12 password', 'wrong-p12-pass-AsDfGh')
    require('node:child_process').execFileSync('openssl', ['pkcs12', '-export', '-in', m.client_cert,
      '-inkey', m.client_key, '-passout', `pass:${p12Pass}`, '-out', p12])
    const noIdentity = { ...jwt }
    delete noIdentity.cert
    delete noIdentity.key
    const viaP12 = new nzpir.Client({ ...noIdentity, pkcs12: p12, pkcs12Password: p12Pass })
    shown('a client from a PKCS#12 bundle', viaP12)
    await viaP12.lookup({ ird: '139276507', pieIrd: SCHEME })
    await fails('a wrong PKCS#12 password', 'NZPIR_CONFIG', () =>
      new nzpir.Client({ ...noIdentity, pkcs12: p12, pkcs12Password: 'wrong-p12-pass-AsDfGh' }))
    const badToml = path.join(m.pki_dir, 'bad.toml')
    fs.writeFileSync(badToml, '[auth]\ntype = "oauth"\nclient_secret = "toml-secret-QxZvTkWm\nclient_id = "x"\n')
    secret('TOML client secret', 'toml-secret-QxZvTkWm')
    await fails('a broken TOML file', 'NZPIR_CONFIG', () => nzpir.Client.fromConfig(badToml))

    // --- Token store errors, tokens inside.
    const t = store.saved[store.saved.length - 1]
    for (const junk of [
      { accessToken: t.accessToken, refreshToken: t.refreshToken, expiresAt: t.refreshToken, scope: null },
      { accessToken: 42, refreshToken: t.refreshToken, expiresAt: 1, scope: null },
      { accessToken: t.accessToken, refreshToken: [t.refreshToken], expiresAt: 1, scope: null },
      `${t.accessToken}${t.refreshToken}`,
    ]) {
      const js = { load: async () => junk, save: async () => {} }
      await fails('a store with junk', 'NZPIR_TOKEN_STORE', () => oauthClient(js).lookup({ ird: '139439976' }))
    }
    const tokenFile = path.join(m.pki_dir, 'tokens.json')
    fs.writeFileSync(tokenFile, `{"version":1,"access_token":"${t.accessToken}","expires_at":"${t.refreshToken}"}`)
    await fails('a corrupt token file', 'NZPIR_TOKEN_STORE', () => oauthClient(tokenFile).lookup({ ird: '139439976' }))
  } finally {
    await sb.stop()
    await mock.stop()
    await quota.stop()
  }
  fs.writeFileSync(report, JSON.stringify({ secrets, texts, codes }))
}

main().catch((e) => {
  // A failure of the audit itself: say what, not the values it carried.
  process.exitCode = 1
  fs.writeFileSync(process.argv[2], JSON.stringify({ failed: String(e && e.stack) }))
})
