'use strict'
// Every outcome and every error class, against a live sandbox over mutual TLS.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const {
  nzpir,
  SCHEME,
  TUATARA,
  MEMBER_28,
  MEMBER_10_5,
  MEMBER_NOT_FOUND,
  NON_MEMBER,
  startSandbox,
  jwtOptions,
  rejectsWith,
} = require('./helpers')

let sb, m, client

test.before(async () => {
  ;({ sb, m } = await startSandbox({ ir003Limit: 3 }))
  client = nzpir.Client.fromConfig(sb.configPath)
})
test.after(() => sb.stop())
test.afterEach(() => sb.clearFaults())

test('the ready config: a suggested rate, exact, and not-found', async () => {
  assert.equal(client.endpoint, sb.url)
  assert.equal(client.userAgent, `nzpir/${nzpir.version()} node`)
  assert.deepEqual(await client.lookup({ ird: MEMBER_28, pieIrd: SCHEME }), {
    rate: '28',
    rateNumber: 28,
    notFound: false,
    ird: MEMBER_28,
    pieIrd: SCHEME,
  })
  const low = await client.lookup({ ird: '13-927-6310', pieIrd: SCHEME })
  assert.equal(low.rate, '10.5')
  assert.equal(low.rateNumber, 10.5)
  assert.equal(low.ird, MEMBER_10_5)
  assert.deepEqual(await client.lookup({ ird: MEMBER_NOT_FOUND, pieIrd: SCHEME }), {
    rate: null,
    rateNumber: null,
    notFound: true,
    ird: MEMBER_NOT_FOUND,
    pieIrd: SCHEME,
  })
  assert.equal(await client.status(), undefined)
})

test('new Client(options) with a startLogon, and soft matching with Date values', async () => {
  const c = new nzpir.Client(jwtOptions(m, { startLogon: 'tuatara.admin', jwtAlg: 'RS256' }))
  const r = await c.lookup({ ird: '139276272', pieIrd: TUATARA, filingPeriod: 2025 })
  assert.equal(r.rate, '17.5')
  // 139276329 is tied to the PIE only by soft matching (name, DOB, address).
  const soft = {
    ird: '139276329',
    pieIrd: TUATARA,
    name: { firstName: 'Gary', lastName: 'Allen' },
    address: { street: '123 Ha Crescent', city: 'Auckland', postCode: '2104', country: 'NZ' },
  }
  assert.equal((await c.lookup({ ...soft, dob: '1990-01-02' })).rate, '28')
  assert.equal((await c.lookup({ ...soft, dob: new Date('1990-01-02') })).rate, '28')
  assert.equal((await c.lookup({ ...soft, dob: new Date(1990, 0, 2) })).rate, '28')
  await rejectsWith(c.lookup({ ...soft, dob: new Date(1990, 0, 3) }), 'NZPIR_AUTHORISATION', ['139276329'])
  // PEM given as text and as Buffers works the same as paths.
  const pem = new nzpir.Client({
    ...jwtOptions(m),
    cert: fs.readFileSync(m.client_cert, 'utf8'),
    key: fs.readFileSync(m.client_key),
    ca: fs.readFileSync(m.ca_cert),
    jwtKey: fs.readFileSync(m.jwt_rs256_key, 'utf8'),
  })
  assert.equal((await pem.lookup({ ird: MEMBER_28, pieIrd: SCHEME })).rate, '28')
})

test('NZPIR_INVALID_INPUT: local validation, every broken rule, nothing sent', async () => {
  const before = sb.stats().pir_requests
  const e = await rejectsWith(
    client.lookup({
      ird: '136410133',
      pieIrd: SCHEME,
      filingPeriod: '2024-03-30',
      dob: '1990-02-30',
      address: { street: '1 Queen St', city: 'Auckland', country: 'New Zealand' },
    }),
    'NZPIR_INVALID_INPUT',
    ['136410133', 'Queen'],
  )
  assert.deepEqual(
    e.fieldErrors.map((f) => `${f.field}:${f.rule}`).sort(),
    ['Address.Country:country_code', 'Dob:calendar_date', 'FilingPeriod:filing_period_march_31', 'IRD:ird_check_digit'],
  )
  assert.equal(e.attempts, 0)
  assert.equal(e.httpStatus, null)
  assert.equal(sb.stats().pir_requests, before)
})

test('NZPIR_REJECTED: PIR101 without PieIRD, and EV1100 from IR with local validation off', async () => {
  const e = await rejectsWith(client.lookup({ ird: MEMBER_28 }), 'NZPIR_REJECTED', [MEMBER_28])
  assert.equal(e.irCode, 'PIR101')
  assert.equal(e.httpStatus, 400)
  assert.deepEqual(e.irErrors.map((i) => [i.code, i.type]), [['PIR101', 'validation']])
  assert.equal(e.retryable, false)
  const loose = new nzpir.Client(jwtOptions(m, { validateLocally: false }))
  const e2 = await rejectsWith(
    loose.lookup({ ird: MEMBER_28, pieIrd: SCHEME, address: { street: 'x', city: 'y', country: 'ZZ' } }),
    'NZPIR_REJECTED',
  )
  assert.equal(e2.irCode, 'EV1100')
  assert.equal(e2.irErrors[0].field, 'Country')
})

test('NZPIR_AUTHORISATION: the caller may not ask about this investor', async () => {
  const e = await rejectsWith(client.lookup({ ird: NON_MEMBER, pieIrd: SCHEME }), 'NZPIR_AUTHORISATION', [NON_MEMBER])
  assert.equal(e.irCode, 'EV1043')
  assert.equal(e.httpStatus, 401)
  const e2 = await rejectsWith(client.lookup({ ird: MEMBER_28, pieIrd: TUATARA }), 'NZPIR_AUTHORISATION')
  assert.equal(e2.irCode, 'EV1042')
})

test('NZPIR_AUTH: unregistered certificate, wrong signing key, a bad bearer token', async () => {
  const unregistered = new nzpir.Client(
    jwtOptions(m, { cert: m.unregistered_client_cert, key: m.unregistered_client_key }),
  )
  const e = await rejectsWith(unregistered.lookup({ ird: MEMBER_28, pieIrd: SCHEME }), 'NZPIR_AUTH')
  assert.equal(e.irCode, 'EV1023')
  // A JWT signed with a credential IR does not know: its `sub` matches nothing.
  const unknownSigner = new nzpir.Client(
    jwtOptions(m, { jwtCert: m.unregistered_client_cert, jwtKey: m.unregistered_client_key }),
  )
  const e2 = await rejectsWith(unknownSigner.lookup({ ird: MEMBER_28, pieIrd: SCHEME }), 'NZPIR_AUTH')
  assert.equal(e2.irCode, 'EV1027')
  const token = 'not-a-real-token-0123456789'
  const bearer = new nzpir.Client({ ...jwtOptions(m), jwtCert: undefined, jwtKey: undefined, issuer: undefined, bearerToken: token })
  const e3 = await rejectsWith(bearer.lookup({ ird: MEMBER_28, pieIrd: SCHEME }), 'NZPIR_AUTH', [token])
  assert.equal(e3.irCode, 'EV1024')
})

test('NZPIR_RATE_LIMITED: IR003 after the sandbox limit', async () => {
  const ird = MEMBER_10_5
  sb.resetQuotas()
  for (let i = 0; i < 3; i++) assert.equal((await client.lookup({ ird, pieIrd: SCHEME })).rate, '10.5')
  const e = await rejectsWith(client.lookup({ ird, pieIrd: SCHEME }), 'NZPIR_RATE_LIMITED', [ird])
  assert.equal(e.irCode, 'IR003')
  assert.equal(e.retryable, false)
  sb.resetQuotas()
})

test('NZPIR_SERVER: PIR150 and a 500 page; transient faults are retried', async () => {
  const once = new nzpir.Client(jwtOptions(m))
  sb.setFault({ kind: 'pir150', times: 1 })
  const e = await rejectsWith(once.lookup({ ird: MEMBER_28, pieIrd: SCHEME }), 'NZPIR_SERVER')
  assert.equal(e.irCode, 'PIR150')
  assert.equal(e.httpStatus, 500)
  assert.equal(e.retryable, true)
  sb.setFault({ kind: 'malformed_body', times: 1 })
  await rejectsWith(once.lookup({ ird: MEMBER_28, pieIrd: SCHEME }), 'NZPIR_SERVER')
  // Two 503s, then the answer: three attempts with retries on.
  const retrying = new nzpir.Client(jwtOptions(m, { maxRetries: 2, retryBaseDelay: 10 }))
  sb.setFault({ kind: 'status', status: 503, times: 2 })
  const before = sb.callsFor(MEMBER_NOT_FOUND)
  assert.equal((await retrying.lookup({ ird: MEMBER_NOT_FOUND, pieIrd: SCHEME })).notFound, true)
  assert.equal(sb.callsFor(MEMBER_NOT_FOUND) - before, 3)
  sb.setFault({ kind: 'status', status: 503, times: 3 })
  const e3 = await rejectsWith(retrying.lookup({ ird: MEMBER_NOT_FOUND, pieIrd: SCHEME }), 'NZPIR_SERVER')
  assert.equal(e3.httpStatus, 503)
  assert.equal(e3.attempts, 3)
})

test('a hostile error body: an unrecognised code, its text nowhere', async () => {
  // What a hostile or broken server might send: a "code" that is an IRD
  // number or a formula, a message with a person's name and address.
  const body = JSON.stringify({
    errors: [
      { code: '049091850', type: 'validation', message: 'Gary Allen, 1 Queen St, IRD 049091850' },
      { code: '=HYPERLINK("http://evil.example")', type: 'validation', message: 'Queen St' },
    ],
  })
  sb.setFault({ kind: 'answer', status: 400, body, times: 1 })
  const once = new nzpir.Client(jwtOptions(m))
  const hostile = ['049091850', 'Gary', 'Queen', 'HYPERLINK', 'evil.example']
  const e = await rejectsWith(once.lookup({ ird: MEMBER_28, pieIrd: SCHEME }), 'NZPIR_REJECTED', hostile)
  assert.equal(e.irCode, 'UNRECOGNISED')
  assert.equal(e.httpStatus, 400)
  const shown = JSON.stringify(e) + String(e) + require('node:util').inspect(e)
  for (const s of hostile) assert.ok(!shown.includes(s), s)
  // The fault is checked where it is defined, with the same rule everywhere.
  assert.throws(() => sb.setFault({ kind: 'answer', status: 200, body: '{}' }), /between 400 and 599/)
  assert.throws(() => sb.setFault({ kind: 'no_such_fault' }), /unknown variant/)
})

test('NZPIR_TIMEOUT: a delayed answer past the timeout', async () => {
  sb.setFault({ kind: 'delay', ms: 1500, times: 1 })
  const c = new nzpir.Client(jwtOptions(m, { timeout: 300 }))
  const e = await rejectsWith(c.lookup({ ird: MEMBER_28, pieIrd: SCHEME }), 'NZPIR_TIMEOUT')
  assert.equal(e.retryable, true)
})

test('NZPIR_TRANSPORT: nothing listening, and a dropped connection', async () => {
  const c = new nzpir.Client(jwtOptions(m, { endpoint: 'https://127.0.0.1:1' }))
  await rejectsWith(c.lookup({ ird: MEMBER_28, pieIrd: SCHEME }), 'NZPIR_TRANSPORT')
  sb.setFault({ kind: 'drop_after_read', times: 1 })
  await rejectsWith(new nzpir.Client(jwtOptions(m)).lookup({ ird: MEMBER_28, pieIrd: SCHEME }), 'NZPIR_TRANSPORT')
})

test('NZPIR_TLS: the sandbox CA not trusted', async () => {
  const c = new nzpir.Client({ ...jwtOptions(m), ca: undefined })
  await rejectsWith(c.lookup({ ird: MEMBER_28, pieIrd: SCHEME }), 'NZPIR_TLS')
  await rejectsWith(c.status(), 'NZPIR_TLS')
})

test('NZPIR_CONFIG: unreadable files, bad PEM, a bad setting', () => {
  const cases = [
    { ...jwtOptions(m), cert: '/nonexistent/client.pem' },
    { ...jwtOptions(m), key: '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n' },
    { ...jwtOptions(m), jwtAlg: 'HS256' },
    { ...jwtOptions(m), endpoint: 'ftp://example.test' },
    { environment: 'test' },
  ]
  for (const options of cases) {
    assert.throws(
      () => new nzpir.Client(options),
      (e) => {
        assert.equal(e.code, 'NZPIR_CONFIG', e.message)
        assert.ok(!e.message.includes('BEGIN'), e.message)
        return true
      },
    )
  }
  assert.throws(() => nzpir.Client.fromConfig('/nonexistent/nzpir.toml'), { code: 'NZPIR_CONFIG' })
})

test('wrong argument types and shapes: TypeError NZPIR_INVALID_ARG naming the field', async () => {
  const throwsArg = (fn, field) =>
    assert.throws(fn, (e) => {
      assert.ok(e instanceof TypeError, String(e))
      assert.equal(e.code, 'NZPIR_INVALID_ARG')
      assert.equal(e.field, field)
      return true
    })
  throwsArg(() => new nzpir.Client(), 'options')
  throwsArg(() => new nzpir.Client({ endpoint: 42 }), 'options.endpoint')
  throwsArg(() => new nzpir.Client({ endpoint: sb.url, timeOut: 5 }), 'options')
  throwsArg(() => new nzpir.Client({ ...jwtOptions(m), ca: 5 }), 'options.ca')
  // A wrong value (not a wrong type) is the core's NZPIR_CONFIG, naming the option.
  const throwsSetting = (fn, setting) =>
    assert.throws(fn, (e) => {
      assert.equal(e.code, 'NZPIR_CONFIG', e.message)
      assert.equal(e.setting, setting)
      assert.ok(e.message.includes(`\`${setting}\``), e.message)
      return true
    })
  throwsSetting(() => new nzpir.Client({}), 'options.environment')
  throwsSetting(() => new nzpir.Client({ environment: 'staging' }), 'options.environment')
  throwsSetting(() => new nzpir.Client({ endpoint: sb.url, timeout: -1 }), 'options.timeout')
  throwsSetting(() => new nzpir.Client({ endpoint: sb.url, maxRetries: 101 }), 'options.maxRetries')
  throwsSetting(() => new nzpir.Client({ endpoint: sb.url, cert: m.client_cert }), 'options.key')
  throwsSetting(() => new nzpir.Client({ ...jwtOptions(m), bearerToken: 't' }), 'options')
  throwsSetting(
    () => nzpir.Client.fromConfig(sb.configPath, { tokenStore: { load() {}, save() {} } }),
    'options.tokenStore',
  )
  // The same spellings as Python and the TOML file: an alias, any case.
  assert.ok(new nzpir.Client({ ...jwtOptions(m), connection: 'CLOUD', maxIdleConnections: 0 }))
  throwsArg(() => nzpir.Client.fromConfig(5), 'path')
  const rejectsArg = async (p, field) => {
    const e = await rejectsWith(p, 'NZPIR_INVALID_ARG', [MEMBER_28])
    assert.ok(e instanceof TypeError)
    assert.equal(e.field, field)
  }
  await rejectsArg(client.lookup(), 'request')
  await rejectsArg(client.lookup({}), 'request.ird')
  await rejectsArg(client.lookup({ ird: Number(MEMBER_28) }), 'request.ird')
  await rejectsArg(client.lookup({ ird: MEMBER_28, pie_ird: SCHEME }), 'request')
  await rejectsArg(client.lookup({ ird: MEMBER_28, name: 'Gary Allen' }), 'request.name')
  await rejectsArg(client.lookup({ ird: MEMBER_28, name: { firstName: 7 } }), 'request.name.firstName')
  await rejectsArg(client.lookup({ ird: MEMBER_28, dob: 19900102 }), 'request.dob')
  await rejectsArg(client.lookup({ ird: MEMBER_28, dob: new Date('nope') }), 'request.dob')
  await rejectsArg(client.lookup({ ird: MEMBER_28, address: { country: 'NZ', zip: '1' } }), 'request.address')
})

test('sandbox helpers: faults are checked, counters count', async () => {
  assert.throws(() => sb.setFault({ kind: 'status', status: 404 }), { code: 'NZPIR_INVALID_ARG' })
  assert.throws(() => sb.setFault({ kind: 'explode' }), { code: 'NZPIR_INVALID_ARG' })
  assert.throws(() => sb.addFault({ kind: 'delay', ms: 10, times: 0 }), { code: 'NZPIR_INVALID_ARG' })
  const stats = sb.stats()
  assert.ok(stats.pir_requests > 0)
  assert.ok(stats.pir_responses['200'] > 0)
  assert.ok(stats.ir_codes.EV1043 > 0)
  assert.equal(sb.profile, 'strict')
  assert.ok(fs.existsSync(sb.manifestPath))
  assert.ok(fs.existsSync(sb.configPath))
  assert.equal(sb.manifest.url, sb.url)
  assert.ok(sb.running)
  await rejectsWith(nzpir.Sandbox.start({ profile: 'lenient' }), 'NZPIR_INVALID_ARG')
  await rejectsWith(nzpir.Sandbox.start({ fixtureFile: '/nonexistent/fixture.json' }), 'NZPIR_SANDBOX')
})

test('a filing period as a year, the year as text, a yyyy-MM-dd string or a Date', async () => {
  // A sandbox of its own: one investor asked five times (IR003 off).
  const { sb: own } = await startSandbox({ ir003Limit: 0 })
  try {
    const c = nzpir.Client.fromConfig(own.configPath)
    for (const filingPeriod of [2025, '2025', '2025-03-31', new Date('2025-03-31'), new Date(2025, 2, 31)]) {
      const r = await c.lookup({ ird: MEMBER_28, pieIrd: SCHEME, filingPeriod })
      assert.equal(r.rate, '28', String(filingPeriod))
    }
    assert.equal(own.stats().pir_requests, 5)
    // A year that makes no period is a field error, as in every other surface.
    for (const filingPeriod of [26, -2026, 20260]) {
      const e = await rejectsWith(c.lookup({ ird: MEMBER_28, pieIrd: SCHEME, filingPeriod }), 'NZPIR_INVALID_INPUT')
      assert.deepEqual(e.fieldErrors.map((f) => `${f.field}:${f.rule}`), ['FilingPeriod:year_range'])
    }
    assert.equal(own.stats().pir_requests, 5)
    await assert.rejects(c.lookup({ ird: MEMBER_28, pieIrd: SCHEME, filingPeriod: 2025.5 }), (e) => {
      assert.equal(e.code, 'NZPIR_INVALID_ARG')
      assert.equal(e.field, 'request.filingPeriod')
      return true
    })
  } finally {
    own.stop()
  }
})

test('a name or address given in part reaches validation, which names what is missing', async () => {
  const e = await rejectsWith(
    client.lookup({
      ird: MEMBER_28,
      pieIrd: SCHEME,
      name: { firstName: 'Gary' },
      address: { street: '1 Queen St', country: 'NZ' },
    }),
    'NZPIR_INVALID_INPUT',
    ['Gary', 'Queen'],
  )
  assert.deepEqual(e.fieldErrors.map((f) => `${f.field}:${f.rule}`), ['Name.LastName:required', 'Address.City:required'])
  assert.equal(e.retryable, false)
  assert.equal(e.attempts, 0)
})
