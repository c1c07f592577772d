'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { nzpir } = require('./helpers')

test('isValidIrd: IR worked examples, typed forms and the reasons it refuses', () => {
  // IR raised the ceiling from 150,000,000 to 200,000,000 on 1 April 2026.
  for (const ok of ['49091850', '049091850', '35901981', '49098576', '136410132', '49-091-850', '049 091 850',
    '150000009', '172345603', '199999990']) {
    assert.equal(nzpir.isValidIrd(ok), true, ok)
  }
  assert.deepEqual(nzpir.validIrds(['172345603', '200000005']), [true, false])
  for (const bad of ['136410133', '9125568', 'abc', '', '49--091-850', '1500000001', '200000005']) {
    assert.equal(nzpir.isValidIrd(bad), false, bad)
  }
})

test('normaliseIrd gives the wire form, or throws NZPIR_INVALID_INPUT with the rule', () => {
  assert.equal(nzpir.normaliseIrd('49-091-850'), '049091850')
  for (const [input, rule] of [
    ['136410133', 'ird_check_digit'],
    ['1234567', 'ird_length'],
    ['49O91850', 'ird_digits'],
    ['000000000', 'ird_range'],
  ]) {
    assert.throws(
      () => nzpir.normaliseIrd(input),
      (e) => {
        assert.ok(e instanceof Error)
        assert.equal(e.code, 'NZPIR_INVALID_INPUT')
        assert.equal(e.kind, 'invalid_input')
        assert.deepEqual(
          e.fieldErrors.map((f) => [f.field, f.rule]),
          [['IRD', rule]],
        )
        assert.equal(typeof e.fieldErrors[0].message, 'string')
        assert.ok(!e.message.includes(input), e.message)
        assert.equal(e.irCode, null)
        assert.equal(e.httpStatus, null)
        assert.equal(e.attempts, 0)
        return true
      },
    )
  }
})

test('validIrds equals isValidIrd item by item', () => {
  const inputs = ['49091850', '49-091-850', '136410133', '', 'x']
  // Every 9-digit neighbour of a valid number: about one in eleven passes.
  for (let n = 49091000; n < 49093000; n++) inputs.push(String(n))
  for (let n = 136410000; n < 136410300; n++) inputs.push(`${String(n).slice(0, 3)}-${String(n).slice(3, 6)}-${String(n).slice(6)}`)
  const bulk = nzpir.validIrds(inputs)
  assert.equal(bulk.length, inputs.length)
  assert.deepEqual(
    bulk,
    inputs.map((s) => nzpir.isValidIrd(s)),
  )
  const valid = bulk.filter(Boolean).length
  assert.ok(valid > 150 && valid < 300, `valid ${valid}`)
  assert.deepEqual(nzpir.validIrds([]), [])
})

test('validIrds on a large array agrees with isValidIrd, odd items and all', () => {
  const inputs = []
  for (let n = 49091000; n < 49091400; n++) inputs.push(String(n))
  inputs.push('', '049091850\n', '49-091-850', ' 049 091 850', '049\n091850', '\n')
  const bulk = nzpir.validIrds(inputs)
  assert.equal(bulk.length, inputs.length)
  assert.deepEqual(
    bulk,
    inputs.map((s) => nzpir.isValidIrd(s)),
  )
  // Long items (past the stack buffer) and non-ASCII ones.
  const plain = inputs.concat([`${' '.repeat(40)}049091850`, '0490918５0', '\u0130049091850', '049091850'.repeat(5)])
  assert.deepEqual(
    nzpir.validIrds(plain),
    plain.map((s) => nzpir.isValidIrd(s)),
  )
  const mixed = plain.slice()
  mixed[300] = 49091850
  assert.throws(
    () => nzpir.validIrds(mixed),
    (e) => e instanceof TypeError && e.field === 'values[300]',
  )
})

test('wrong argument types are TypeErrors naming the argument, never echoing it', () => {
  const cases = [
    [() => nzpir.isValidIrd(49091850), 's'],
    [() => nzpir.normaliseIrd(null), 's'],
    [() => nzpir.validIrds('49091850'), 'values'],
    [() => nzpir.validIrds(['49091850', 49091850]), 'values[1]'],
  ]
  for (const [call, field] of cases) {
    assert.throws(call, (e) => {
      assert.ok(e instanceof TypeError, String(e))
      assert.equal(e.code, 'NZPIR_INVALID_ARG')
      assert.equal(e.field, field)
      assert.ok(e.message.includes(`\`${field}\``), e.message)
      assert.ok(!e.message.includes('49091850'), e.message)
      return true
    })
  }
})

test('version', () => {
  assert.match(nzpir.version(), /^\d+\.\d+\.\d+/)
  assert.equal(nzpir.version(), require('../package.json').version)
})

test('normalizeIrd, the former spelling, is the same function', () => {
  assert.equal(nzpir.normalizeIrd('49-091-850'), '049091850')
  assert.throws(() => nzpir.normalizeIrd('136410133'), (e) => e.code === 'NZPIR_INVALID_INPUT')
})
