'use strict'
// The M2M JWT the client sends: verified by the npm `jsonwebtoken` package
// against the signing certificate, and accepted by the sandbox as is.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const crypto = require('node:crypto')
const jsonwebtoken = require('jsonwebtoken')
const { nzpir, SCHEME, MEMBER_28, startSandbox, jwtOptions, request } = require('./helpers')

let sb, m

test.before(async () => {
  ;({ sb, m } = await startSandbox())
})
test.after(() => sb.stop())

function thumbprint(certPath) {
  return new crypto.X509Certificate(fs.readFileSync(certPath)).fingerprint256.replaceAll(':', '')
}

async function sendAsIs(token) {
  return request(`${sb.url}/gateway/calculators/pir`, {
    method: 'POST',
    headers: { authorization: token, 'content-type': 'application/json' },
    body: JSON.stringify({ IRD: MEMBER_28, PieIRD: SCHEME }),
    ca: m.ca_cert,
    cert: m.client_cert,
    key: m.client_key,
  })
}

for (const [name, cert, key, alg, party] of [
  ['RS256', 'jwt_rs256_cert', 'jwt_rs256_key', 'RS256', 'kowhai-kiwisaver'],
  ['ES256', 'jwt_ec_cert', 'jwt_ec_key', undefined, 'harakeke-admin'],
]) {
  test(`${name}: jsonwebtoken verifies the client's JWT and the sandbox accepts it`, async () => {
    const issuer = m.parties.find((p) => p.id === party).name
    const minted = nzpir.mintJwt({ cert: m[cert], key: m[key], alg, issuer, ttl: 300_000 })
    assert.equal(minted.algorithm, name)
    const certPem = fs.readFileSync(m[cert], 'utf8')
    const { header, payload } = jsonwebtoken.verify(minted.token, certPem, {
      algorithms: [name],
      issuer,
      complete: true,
    })
    assert.deepEqual(header, { alg: name, typ: 'JWT', kid: 'M2M' })
    assert.equal(payload.sub, thumbprint(m[cert]))
    assert.equal(payload.sub, m.thumbprints[cert.replace(/_cert$/, '')])
    assert.equal(minted.subject, payload.sub)
    assert.equal(payload.iat, minted.issuedAt)
    assert.equal(payload.exp, minted.expiresAt)
    assert.equal(payload.exp - payload.iat, 300)
    assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 120)
    // Another key does not verify it.
    assert.throws(() => jsonwebtoken.verify(minted.token, fs.readFileSync(m.ca_cert, 'utf8'), { algorithms: [name] }))
    // The very token, sent over mutual TLS as the client sends it, is accepted.
    const res = await sendAsIs(minted.token)
    assert.equal(res.status, 200, res.body)
    assert.equal(JSON.parse(res.body).SuggestedPirRate, 28)
    // And a client with the same settings signs tokens the sandbox accepts.
    const client = new nzpir.Client(jwtOptions(m, { jwtCert: m[cert], jwtKey: m[key], jwtAlg: alg, issuer }))
    assert.equal((await client.lookup({ ird: MEMBER_28, pieIrd: SCHEME })).rate, '28')
  })
}

test('a tampered JWT fails both checks', async () => {
  const minted = nzpir.mintJwt({ cert: m.jwt_rs256_cert, key: m.jwt_rs256_key, issuer: 'x' })
  const [h, p, s] = minted.token.split('.')
  const claims = JSON.parse(Buffer.from(p, 'base64url'))
  claims.startLogon = 'tuatara.admin'
  const forged = [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), s].join('.')
  assert.throws(() => jsonwebtoken.verify(forged, fs.readFileSync(m.jwt_rs256_cert, 'utf8')), /invalid signature/)
  const res = await sendAsIs(forged)
  assert.equal(res.status, 401)
  assert.equal(JSON.parse(res.body).errors[0].code, 'EV1028')
})

test('mintJwt arguments are checked', () => {
  assert.throws(() => nzpir.mintJwt({ key: m.jwt_rs256_key }), { code: 'NZPIR_CONFIG', setting: 'options.cert' })
  assert.throws(() => nzpir.mintJwt({ cert: m.jwt_rs256_cert, key: m.jwt_rs256_key, issuer: 'x', nope: 1 }), {
    code: 'NZPIR_INVALID_ARG',
  })
  // The options follow the Client's rules for its jwt* options: the same
  // range, in milliseconds like jwtTtl, and a TypeError for a wrong type.
  assert.throws(() => nzpir.mintJwt({ cert: m.jwt_rs256_cert, key: m.jwt_rs256_key, issuer: 'x', ttl: 5000 }), {
    code: 'NZPIR_CONFIG',
    message: 'config `options.ttl`: must be a whole number of milliseconds from 60000 to 28800000',
  })
  assert.throws(() => nzpir.mintJwt({ cert: m.jwt_rs256_cert, key: m.jwt_rs256_key, issuer: 'x', ttl: '540' }), {
    code: 'NZPIR_INVALID_ARG',
    field: 'options.ttl',
  })
  const pem = nzpir.mintJwt({
    cert: fs.readFileSync(m.jwt_rs256_cert),
    key: fs.readFileSync(m.jwt_rs256_key, 'utf8'),
    issuer: 'x',
  })
  assert.equal(jsonwebtoken.verify(pem.token, fs.readFileSync(m.jwt_rs256_cert, 'utf8')).iss, 'x')
  assert.throws(() => nzpir.mintJwt({ cert: m.jwt_rs256_cert, key: m.jwt_ec_key }), { code: 'NZPIR_CONFIG' })
  // Errors name mintJwt's own options, not the Client's.
  const base = { cert: m.jwt_rs256_cert, key: m.jwt_rs256_key, issuer: 'x' }
  for (const [options, setting] of [
    [{ ...base, alg: 'HS256' }, 'options.alg'],
    [{ ...base, alg: 'ES256' }, 'options.alg'],
    [{ ...base, issuer: ' ' }, 'options.issuer'],
    [{ ...base, key: m.jwt_ec_key }, 'options.key'],
    [{ ...base, cert: '/nonexistent/c.pem' }, 'options.cert'],
    [{ ...base, ttl: 5000 }, 'options.ttl'],
    [{ ...base, unsetStartLogon: 'none' }, 'options.unsetStartLogon'],
  ]) {
    assert.throws(() => nzpir.mintJwt(options), (e) => {
      assert.equal(e.code, 'NZPIR_CONFIG')
      assert.equal(e.setting, setting)
      assert.ok(e.message.startsWith(`config \`${setting}\`: `), e.message)
      return true
    })
  }
})

test('IR 2026: startLogon null by default, "" on request, lifetimes up to 8 hours', async () => {
  const issuer = m.parties.find((p) => p.id === 'kowhai-kiwisaver').name
  const certPem = fs.readFileSync(m.jwt_rs256_cert, 'utf8')
  const long = nzpir.mintJwt({ cert: m.jwt_rs256_cert, key: m.jwt_rs256_key, issuer, ttl: 8 * 3600_000 })
  const claims = jsonwebtoken.verify(long.token, certPem, { algorithms: ['RS256'] })
  assert.equal(claims.startLogon, null)
  assert.equal(claims.exp - claims.iat, 28800)
  assert.equal((await sendAsIs(long.token)).status, 200)
  const empty = nzpir.mintJwt({ cert: m.jwt_rs256_cert, key: m.jwt_rs256_key, issuer, unsetStartLogon: 'empty' })
  assert.equal(jsonwebtoken.verify(empty.token, certPem, { algorithms: ['RS256'] }).startLogon, '')
  assert.equal((await sendAsIs(empty.token)).status, 200)
  const client = new nzpir.Client(jwtOptions(m, { jwtTtl: 8 * 3600_000, unsetStartLogon: 'empty' }))
  assert.equal((await client.lookup({ ird: MEMBER_28, pieIrd: SCHEME })).rate, '28')
  assert.throws(
    () => nzpir.mintJwt({ cert: m.jwt_rs256_cert, key: m.jwt_rs256_key, issuer, ttl: 8 * 3600_000 + 1000 }),
    { code: 'NZPIR_CONFIG' },
  )
  assert.throws(
    () => nzpir.mintJwt({ cert: m.jwt_rs256_cert, key: m.jwt_rs256_key, issuer, unsetStartLogon: 'none' }),
    { code: 'NZPIR_CONFIG' },
  )
})

test('ES512 (P-521): jsonwebtoken verifies it', () => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-521' })
  // Node has no certificate builder: openssl self-signs one for the key.
  const os = require('node:os')
  const path = require('node:path')
  const { execFileSync } = require('node:child_process')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nzpir-p521-'))
  try {
    const keyPath = path.join(dir, 'k.pem')
    const certPath = path.join(dir, 'c.pem')
    fs.writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }))
    execFileSync('openssl', ['req', '-x509', '-new', '-key', keyPath, '-subj', '/CN=m2m.example.test',
      '-days', '30', '-sha512', '-out', certPath])
    const minted = nzpir.mintJwt({ cert: certPath, key: keyPath, issuer: 'Acme' })
    assert.equal(minted.algorithm, 'ES512')
    const claims = jsonwebtoken.verify(minted.token, publicKey, { algorithms: ['ES512'] })
    assert.equal(claims.iss, 'Acme')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
