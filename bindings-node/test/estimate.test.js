'use strict'
// estimatePir: IR's PIR rules with camelCase facts, the rate as exact text and
// as a number, field-naming errors, and the sandbox investors whose answers
// come from facts.
const test = require('node:test')
const assert = require('node:assert/strict')
const { nzpir, SCHEME, startSandbox } = require('./helpers')

test('the 48k/70k row before 2026 and the 53.5k/78.1k row after (PIR-OB-012)', () => {
  const e = nzpir.estimatePir({
    pirYear: 2025,
    income: [
      { year: 2023, taxableIncome: '48000.00', pieIncome: 22000 },
      { year: 2024, taxableIncome: 47999.99, pieIncome: '22000.01' },
    ],
  })
  assert.equal(e.rate, '17.5')
  assert.equal(e.rateNumber, 17.5)
  assert.equal(e.rule, 'resident_individual')
  assert.equal(e.pirYear, 2025)
  assert.equal(e.decidedByYear, 2024)
  assert.match(e.explanation, /48,000 or less/)
  assert.deepEqual(e.missing, [])
  const after = nzpir.estimatePir({
    filingPeriod: '2026-03-31',
    income: [
      { year: 2024, taxableIncome: 53500n, pieIncome: '24600' },
      { year: 2025, taxableIncome: '53500.01' },
    ],
  })
  assert.equal(after.rate, '17.5')
  assert.match(after.explanation, /53,500/)
})

test('every investor type and residency (PIR-OB-009 to 011)', () => {
  for (const investorType of ['company', 'incorporated_society', 'charity', 'pie', 'superannuation_fund']) {
    const e = nzpir.estimatePir({ investorType })
    assert.equal(e.rate, '0', investorType)
    assert.equal(e.rateNumber, 0)
    assert.equal(e.rule, 'zero_rate_entity')
  }
  assert.equal(nzpir.estimatePir({ residency: 'non_resident' }).rate, '28')
  assert.equal(nzpir.estimatePir({ pirYear: 2026, income: [] }).rate, '10.5')
  assert.equal(nzpir.estimatePir({ investorType: 'trustee', trusteeElection: 28 }).rate, '28')
  assert.equal(nzpir.estimatePir({ residency: 'transitional_resident', zeroRatePie: true }).rate, '0')
  const none = nzpir.estimatePir({ investorType: 'trustee' })
  assert.equal(none.rate, null)
  assert.equal(none.rateNumber, null)
  assert.equal(none.rule, 'cannot_estimate')
  assert.deepEqual(none.missing, ['trusteeElection'])
  assert.deepEqual(nzpir.estimatePir({}).missing, ['pirYear'])
})

test('bad facts throw NZPIR_INVALID_INPUT naming each field in camelCase', () => {
  assert.throws(
    () =>
      nzpir.estimatePir({
        pirYear: 2010,
        investorType: 'person',
        income: [{ year: 2024, taxableIncome: '1.234', pieIncome: -1 }],
      }),
    (e) => {
      assert.equal(e.code, 'NZPIR_INVALID_INPUT')
      const got = e.fieldErrors.map((f) => `${f.field}:${f.rule}`).sort()
      assert.deepEqual(got, [
        'income.pieIncome:not_negative',
        'income.taxableIncome:amount',
        'investorType:one_of',
        'pirYear:year_range',
      ])
      assert.match(e.message, /pirYear/)
      return true
    },
  )
  assert.throws(() => nzpir.estimatePir('2025'), (e) => e.code === 'NZPIR_INVALID_ARG')
})

test('sandbox investors with facts answer as the rules say', async () => {
  const { sb } = await startSandbox({ ir003Limit: 0 })
  try {
    const client = nzpir.Client.fromConfig(sb.configPath)
    assert.equal((await client.lookup({ ird: '139280008', pieIrd: SCHEME })).notFound, true)
    assert.equal((await client.lookup({ ird: '139280016', pieIrd: SCHEME })).rate, '28')
    assert.equal((await client.lookup({ ird: '139280024', pieIrd: SCHEME })).rate, '10.5')
    const r = await client.lookup({ ird: '139280032', pieIrd: SCHEME, filingPeriod: '2025-03-31' })
    assert.equal(r.rate, '17.5')
  } finally {
    sb.stop()
  }
})
