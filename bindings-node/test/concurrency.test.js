'use strict'
// Lookups run on the binding's own threads: many at once share one client, and the
// event loop keeps running while one waits on a slow gateway.
const test = require('node:test')
const assert = require('node:assert/strict')
const { nzpir, SCHEME, MEMBER_28, MEMBER_10_5, MEMBER_NOT_FOUND, startSandbox, jwtOptions } = require('./helpers')

let sb, m

test.before(async () => {
  ;({ sb, m } = await startSandbox({ ir003Limit: 0 }))
})
test.after(() => sb.stop())

test('32 concurrent lookups on one client all get their own answer', async () => {
  const client = new nzpir.Client(jwtOptions(m))
  const expected = { [MEMBER_28]: '28', [MEMBER_10_5]: '10.5', [MEMBER_NOT_FOUND]: null }
  const irds = Array.from({ length: 32 }, (_, i) => Object.keys(expected)[i % 3])
  const before = sb.stats().pir_requests
  const results = await Promise.all(irds.map((ird) => client.lookup({ ird, pieIrd: SCHEME })))
  assert.equal(results.length, 32)
  results.forEach((r, i) => {
    assert.equal(r.ird, irds[i])
    assert.equal(r.rate, expected[irds[i]])
  })
  assert.equal(sb.stats().pir_requests - before, 32)
})

test('a timer keeps firing on schedule while a slow lookup is in flight', async () => {
  const client = new nzpir.Client(jwtOptions(m))
  await client.lookup({ ird: MEMBER_28, pieIrd: SCHEME }) // warm: connection and JWT
  const delay = 800
  sb.setFault({ kind: 'delay', ms: delay, times: 1 })
  const ticks = []
  const timer = setInterval(() => ticks.push(performance.now()), 10)
  const started = performance.now()
  const result = await client.lookup({ ird: MEMBER_28, pieIrd: SCHEME })
  const elapsed = performance.now() - started
  clearInterval(timer)
  assert.equal(result.rate, '28')
  assert.ok(elapsed >= delay, `the lookup took ${elapsed} ms, less than the delay`)
  // A 10 ms timer over ~800 ms: dozens of ticks, and no long gap between two.
  assert.ok(ticks.length >= (delay / 10) * 0.6, `only ${ticks.length} ticks in ${elapsed} ms`)
  const gaps = ticks.slice(1).map((t, i) => t - ticks[i])
  assert.ok(Math.max(...gaps) < 100, `longest gap ${Math.max(...gaps)} ms`)
})

test('a slow sandbox start does not hold the event loop either', async () => {
  let ticks = 0
  const timer = setInterval(() => ticks++, 5)
  const other = await nzpir.Sandbox.start({ profile: 'ir-mock' })
  clearInterval(timer)
  try {
    assert.equal(other.profile, 'ir-mock')
    assert.ok(ticks > 0, 'no tick while the sandbox started')
    const c = new nzpir.Client({ endpoint: other.url, ca: other.manifest.ca_cert, cert: other.manifest.client_cert, key: other.manifest.client_key, validateLocally: false, maxRetries: 0 })
    assert.equal((await c.lookup({ ird: '139276507' })).rate, '28')
  } finally {
    await other.stop()
  }
  assert.equal(other.running, false)
})
