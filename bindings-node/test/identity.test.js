'use strict'
// Certificate lifecycle and doctor from Node, against a live sandbox:
// PKCS#12 identities, the identity's expiry as a Date, reloadIdentity after a
// renewal on disk, and the doctor's checks.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { nzpir, SCHEME, MEMBER_28, startSandbox, jwtOptions } = require('./helpers')

let sb, m, dir

test.before(async () => {
  ;({ sb, m } = await startSandbox())
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nzpir-identity-'))
})
test.after(() => {
  fs.rmSync(dir, { recursive: true, force: true })
  return sb.stop()
})

// As certbot does: a new file renamed into place.
function renew(from, to) {
  fs.copyFileSync(from, `${to}.tmp`)
  fs.renameSync(`${to}.tmp`, to)
}

test('reloadIdentity takes a renewed pair; broken files keep the old one', async () => {
  const cert = path.join(dir, 'client.pem')
  const key = path.join(dir, 'client.key')
  fs.copyFileSync(m.client_cert, cert)
  fs.copyFileSync(m.client_key, key)
  const client = new nzpir.Client(jwtOptions(m, { cert, key }))
  const first = client.identityThumbprint
  assert.ok(client.identityExpiresAt instanceof Date)
  assert.ok(client.identityExpiresAt.getTime() > Date.now())
  assert.equal((await client.lookup({ ird: MEMBER_28, pieIrd: SCHEME })).rate, '28')
  assert.equal(client.reloadIdentity(), false)

  renew(m.renewed_client_key, key)
  renew(m.renewed_client_cert, cert)
  assert.equal(client.reloadIdentity(), true)
  assert.notEqual(client.identityThumbprint, first)
  assert.equal((await client.lookup({ ird: MEMBER_28, pieIrd: SCHEME })).rate, '28')

  const renewed = client.identityThumbprint
  fs.writeFileSync(cert, fs.readFileSync(cert, 'utf8').slice(0, 100))
  assert.throws(() => client.reloadIdentity(), (e) => {
    assert.equal(e.code, 'NZPIR_CONFIG')
    assert.match(e.message, /options\.cert/)
    return true
  })
  assert.equal(client.identityThumbprint, renewed)
  assert.equal((await client.lookup({ ird: MEMBER_28, pieIrd: SCHEME })).rate, '28')
})

test('a PKCS#12 identity and JWT credential', async () => {
  const tlsP12 = path.join(dir, 'client.p12')
  const jwtP12 = path.join(dir, 'jwt.pfx')
  execFileSync('openssl', ['pkcs12', '-export', '-in', m.client_cert, '-inkey', m.client_key,
    '-passout', 'pass:tls-pw', '-out', tlsP12])
  execFileSync('openssl', ['pkcs12', '-export', '-in', m.jwt_rs256_cert, '-inkey', m.jwt_rs256_key,
    '-passout', 'pass:jwt-pw', '-out', jwtP12])
  const { cert, key, jwtCert, jwtKey, ...rest } = jwtOptions(m)
  const client = new nzpir.Client({
    ...rest,
    pkcs12: tlsP12,
    pkcs12Password: 'tls-pw',
    jwtPkcs12: jwtP12,
    jwtPkcs12Password: 'jwt-pw',
  })
  assert.equal((await client.lookup({ ird: MEMBER_28, pieIrd: SCHEME })).rate, '28')
  assert.throws(
    () => new nzpir.Client({ ...rest, pkcs12: tlsP12, pkcs12Password: 'nope', jwtCert, jwtKey }),
    (e) => e.code === 'NZPIR_CONFIG' && /options\.pkcs12Password/.test(e.message),
  )
})

test('doctor: the sandbox passes with the expected warning only', async () => {
  const checks = await nzpir.doctor(sb.configPath, { ird: MEMBER_28, pieIrd: SCHEME })
  assert.deepEqual(
    checks.filter((c) => c.status === 'warn').map((c) => c.id),
    ['client_cert.issuer'],
  )
  assert.equal(checks.filter((c) => c.status === 'fail').length, 0)
  const byId = Object.fromEntries(checks.map((c) => [c.id, c]))
  for (const id of ['gateway.tls', 'gateway.clock', 'gateway.status', 'gateway.lookup']) {
    assert.equal(byId[id].status, 'ok', id)
  }
  assert.ok(!JSON.stringify(checks).includes(MEMBER_28))
  const client = nzpir.Client.fromConfig(sb.configPath)
  const again = await client.doctor()
  assert.equal(again.find((c) => c.id === 'gateway.lookup').status, 'skip')
})

test('doctor: a mismatched key fails as configuration', async () => {
  const text = fs.readFileSync(sb.configPath, 'utf8').replace(m.client_key, m.renewed_client_key)
  const config = path.join(dir, 'nzpir.toml')
  fs.writeFileSync(config, text)
  const checks = await nzpir.doctor(config)
  const failed = checks.filter((c) => c.status === 'fail')
  assert.deepEqual(failed.map((c) => c.id), ['client_cert.key_match'])
  assert.equal(failed[0].kind, 'config')
  assert.match(failed[0].detail, /does not match/)
  assert.ok(failed[0].action)
})
