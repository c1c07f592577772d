'use strict'
// client.lookupMany and client.lookupManyIter against a live sandbox: input
// order, Promise.allSettled-shaped entries, per-request errors, type errors
// naming the index and field, AbortSignal, the journal, the async iterator.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const util = require('node:util')
const { nzpir, SCHEME, MEMBER_28, MEMBER_10_5, MEMBER_NOT_FOUND, startSandbox, jwtOptions } = require('./helpers')

let sb, m, dir

test.before(async () => {
  ;({ sb, m } = await startSandbox({ ir003Limit: 0 }))
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nzpir-bulk-'))
  // Journal keys of the test's own, never the user's.
  process.env.NZPIR_JOURNAL_KEY = path.join(dir, 'keys', 'journal.key')
})
test.after(async () => {
  await sb.stop()
  fs.rmSync(dir, { recursive: true, force: true })
})
test.afterEach(() => sb.clearFaults())

/** `n` valid IRD numbers unknown to the fixture (IR answers EV1043). */
function distinctIrds(n, start = 30_000_000) {
  const out = []
  for (let base = start; out.length < n; base += 1000) {
    const cands = Array.from({ length: 1000 }, (_, i) => String(base + i))
    nzpir.validIrds(cands).forEach((ok, i) => ok && out.push(cands[i]))
  }
  return out.slice(0, n)
}

test('a few thousand requests: entries in input order, per-request errors', async () => {
  const client = new nzpir.Client(jwtOptions(m))
  const unknown = distinctIrds(2000)
  const requests = []
  unknown.forEach((ird, i) => {
    requests.push({ ird, pieIrd: SCHEME })
    if (i % 100 === 0) {
      requests.push({ ird: MEMBER_28, pieIrd: SCHEME })
      requests.push({ ird: '136410133', pieIrd: SCHEME }) // check digit
      requests.push({ ird: MEMBER_10_5, pieIrd: SCHEME })
      requests.push({ ird: MEMBER_NOT_FOUND, pieIrd: SCHEME })
    }
  })
  const before = sb.stats().pir_requests
  const progress = []
  const out = await client.lookupMany(requests, { concurrency: 8, onProgress: (p) => progress.push(p) })
  assert.equal(out.length, requests.length)
  out.forEach((r, i) => {
    const ird = requests[i].ird
    if (ird === MEMBER_28) {
      assert.equal(r.status, 'fulfilled')
      assert.equal(r.value.rate, '28')
      assert.equal(r.value.ird, MEMBER_28)
      assert.ok(!util.inspect(r.value).includes(MEMBER_28), 'inspect redacts the IRD number')
    } else if (ird === MEMBER_10_5) {
      assert.equal(r.value.rate, '10.5')
    } else if (ird === MEMBER_NOT_FOUND) {
      assert.equal(r.value.notFound, true)
    } else if (ird === '136410133') {
      assert.equal(r.status, 'rejected')
      assert.ok(r.reason instanceof Error)
      assert.equal(r.reason.code, 'NZPIR_INVALID_INPUT')
      assert.equal(r.reason.fieldErrors[0].rule, 'ird_check_digit')
      assert.equal(r.reason.attempts, 0)
    } else {
      assert.equal(r.status, 'rejected', ird)
      assert.equal(r.reason.code, 'NZPIR_AUTHORISATION')
      assert.equal(r.reason.irCode, 'EV1043')
      assert.equal(r.reason.httpStatus, 401)
      assert.ok(nzpir.isNzpirError(r.reason))
      assert.ok(!r.reason.message.includes(ird))
    }
  })
  // Identical requests once; the invalid one never.
  assert.equal(sb.stats().pir_requests - before, 2003)
  assert.equal(sb.callsFor('136410133'), 0)
  const last = progress[progress.length - 1]
  assert.equal(last.done, requests.length)
  assert.equal(last.total, requests.length)
  assert.equal(last.lookups, 2003)
})

test('a request of the wrong shape rejects with a TypeError naming its index and field', async () => {
  const client = new nzpir.Client(jwtOptions(m))
  const ok = { ird: MEMBER_28, pieIrd: SCHEME }
  const before = sb.stats().pir_requests
  const cases = [
    [[ok, { ird: 139276507 }], 'requests[1].ird'],
    [[ok, ok, 'x'], 'requests[2]'],
    [[ok, { ird: MEMBER_28, pieIRD: SCHEME }], 'requests[1]'],
    [[ok, null], 'requests[1]'],
    [[{ ird: MEMBER_28, name: 'Ann' }], 'requests[0].name'],
  ]
  for (const [requests, field] of cases) {
    await assert.rejects(client.lookupMany(requests), (e) => {
      assert.ok(e instanceof TypeError, e)
      assert.equal(e.code, 'NZPIR_INVALID_ARG')
      assert.equal(e.field, field)
      assert.ok(!e.message.includes('139276507'))
      return true
    })
  }
  for (const maxRps of [0, -1, NaN, Infinity, 1e12, '5']) {
    await assert.rejects(client.lookupMany([ok], { maxRps }), (e) => e.field === 'options.maxRps')
  }
  for (const concurrency of [0, 257, 1.5]) {
    await assert.rejects(client.lookupMany([ok], { concurrency }), (e) => e.field === 'options.concurrency')
  }
  await assert.rejects(client.lookupMany([ok], { signal: 'no' }), (e) => e.field === 'options.signal')
  await assert.rejects(client.lookupMany([ok], { bogus: 1 }), (e) => e.code === 'NZPIR_INVALID_ARG')
  assert.equal(sb.stats().pir_requests, before, 'nothing was sent')
})

test('an AbortSignal stops the run and rejects with its reason', async () => {
  const client = new nzpir.Client(jwtOptions(m))
  const requests = distinctIrds(300, 40_000_000).map((ird) => ({ ird, pieIrd: SCHEME }))
  sb.setFault({ kind: 'delay', ms: 100 })
  const before = sb.stats().pir_requests
  const controller = new AbortController()
  setTimeout(() => controller.abort(), 400)
  await assert.rejects(client.lookupMany(requests, { concurrency: 2, signal: controller.signal }), (e) => {
    assert.equal(e.name, 'AbortError')
    return true
  })
  await new Promise((r) => setTimeout(r, 300))
  const made = sb.stats().pir_requests - before
  await new Promise((r) => setTimeout(r, 400))
  assert.equal(sb.stats().pir_requests - before, made, 'no lookup starts after the abort')
  assert.ok(made < 300, `${made}`)
  // Already aborted: nothing starts at all.
  await assert.rejects(client.lookupMany(requests, { signal: AbortSignal.abort() }), (e) => e.name === 'AbortError')
  assert.equal(sb.stats().pir_requests - before, made)
})

test('lookupManyIter yields entries in order; leaving the loop stops the run', async () => {
  const client = new nzpir.Client(jwtOptions(m))
  const irds = [MEMBER_28, MEMBER_10_5, MEMBER_NOT_FOUND, '136410133']
  const requests = Array.from({ length: 400 }, (_, i) => ({ ird: irds[i % 4], pieIrd: SCHEME }))
  const seen = []
  for await (const entry of client.lookupManyIter(requests, { concurrency: 2 })) {
    seen.push(entry.status === 'fulfilled' ? entry.value.rate ?? 'nf' : entry.reason.code)
  }
  assert.equal(seen.length, 400)
  assert.deepEqual(seen.slice(0, 4), ['28', '10.5', 'nf', 'NZPIR_INVALID_INPUT'])

  const many = distinctIrds(300, 50_000_000).map((ird) => ({ ird, pieIrd: SCHEME }))
  sb.setFault({ kind: 'delay', ms: 50 })
  const before = sb.stats().pir_requests
  let taken = 0
  for await (const entry of client.lookupManyIter(many, { concurrency: 2 })) {
    assert.equal(entry.status, 'rejected')
    if (++taken === 3) break
  }
  await new Promise((r) => setTimeout(r, 300))
  const made = sb.stats().pir_requests - before
  await new Promise((r) => setTimeout(r, 300))
  assert.equal(sb.stats().pir_requests - before, made, 'stopped')
  assert.ok(made < 300)
})

test('a journal makes a second run repeat no lookup', async () => {
  const client = new nzpir.Client(jwtOptions(m))
  const journal = path.join(dir, 'run.journal')
  const requests = distinctIrds(40, 60_000_000).map((ird) => ({ ird, pieIrd: SCHEME }))
  requests.push({ ird: MEMBER_28, pieIrd: SCHEME })
  const before = sb.stats().pir_requests
  const first = await client.lookupMany(requests, { journal })
  assert.equal(fs.statSync(journal).mode & 0o777, 0o600)
  assert.ok(!fs.readFileSync(journal, 'utf8').includes(MEMBER_28))
  const made = sb.stats().pir_requests - before
  assert.equal(made, 41)
  let lastProgress
  const again = await client.lookupMany(requests, { journal, onProgress: (p) => (lastProgress = p) })
  assert.equal(sb.stats().pir_requests - before, made, 'all from the journal')
  assert.equal(lastProgress.resumed, 41)
  assert.deepEqual(
    again.map((e) => e.status),
    first.map((e) => e.status),
  )
  assert.equal(again[40].value.rate, '28')
  assert.equal(again[0].reason.irCode, 'EV1043')
})

test('the event loop keeps running while lookupMany waits on a slow gateway', async () => {
  const client = new nzpir.Client(jwtOptions(m))
  await client.lookup({ ird: MEMBER_28, pieIrd: SCHEME })
  sb.setFault({ kind: 'delay', ms: 500, times: 1 })
  let ticks = 0
  const timer = setInterval(() => ticks++, 10)
  const out = await client.lookupMany([{ ird: MEMBER_28, pieIrd: SCHEME }])
  clearInterval(timer)
  assert.equal(out[0].value.rate, '28')
  assert.ok(ticks >= 20, `${ticks}`)
})

test("a gateway's rate limit is waited out", async () => {
  const client = new nzpir.Client(jwtOptions(m, { maxRetries: 0 }))
  sb.setFault({ kind: 'too_many_requests', secs: 1, times: 1 })
  await assert.rejects(client.lookup({ ird: MEMBER_28, pieIrd: SCHEME }), (e) => {
    assert.equal(e.code, 'NZPIR_RATE_LIMITED')
    assert.equal(e.httpStatus, 429)
    assert.ok(e.irCode == null)
    return true
  })
  sb.setFault({ kind: 'too_many_requests', secs: 1, times: 2 })
  const started = Date.now()
  const out = await client.lookupMany(
    [
      { ird: MEMBER_28, pieIrd: SCHEME },
      { ird: MEMBER_10_5, pieIrd: SCHEME },
    ],
    { concurrency: 2 },
  )
  assert.deepEqual(
    out.map((e) => e.status === 'fulfilled' && e.value.rate),
    ['28', '10.5'],
  )
  assert.ok(Date.now() - started >= 900, 'waited as the gateway asked')
  assert.equal(sb.stats().pir_responses['429'], 3)
  assert.throws(() => sb.setFault({ kind: 'too_many_requests', secs: -1 }), /secs/)
})
