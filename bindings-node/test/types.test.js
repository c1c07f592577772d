'use strict'
// The declarations: complete (no `any`/`unknown` in what is generated) and
// right (a typed program that uses every part compiles under `strict`, and
// the misuses marked @ts-expect-error are refused).
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const pkg = path.resolve(__dirname, '..')

test('tsc --noEmit accepts the typed usage files', () => {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [pkg] })
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types')], { encoding: 'utf8' })
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`)
})

test('the generated declarations name every type', () => {
  const dts = fs.readFileSync(path.join(pkg, 'native.d.ts'), 'utf8')
  const body = dts.replace(/\/\*[\s\S]*?\*\//g, '')
  assert.doesNotMatch(body, /\b(any|unknown)\b/)
  for (const name of ['Client', 'Sandbox', 'isValidIrd', 'normaliseIrd', 'normalizeIrd', 'validIrds', 'mintJwt', 'version']) {
    assert.match(body, new RegExp(`\\b${name}\\b`))
  }
  assert.match(body, /lookup\(request: LookupRequest\): Promise<LookupResult>/)
})

test('ErrorCode and the NzpirErrorCode type hold one code per kind of the core table', () => {
  const nzpir = require('..')
  const kinds = require('../load.js').errorKinds()
  assert.ok(kinds.length >= 12)
  const dts = fs.readFileSync(path.join(pkg, 'types.d.ts'), 'utf8')
  const union = dts.slice(dts.indexOf('export type NzpirErrorCode'), dts.indexOf('export interface NzpirError '))
  for (const k of kinds) {
    assert.ok(Object.values(nzpir.ErrorCode).includes(k.code), `ErrorCode lacks ${k.code}`)
    assert.ok(union.includes(`'${k.code}'`), `NzpirErrorCode lacks ${k.code}`)
    assert.match(k.kind, /^[a-z_]+$/)
  }
  assert.equal(new Set(kinds.map((k) => k.code)).size, kinds.length)
  // Every property the contract names is on a real error.
  const e = nzpir.normaliseIrd.bind(null, '136410133')
  assert.throws(e, (err) => {
    for (const p of ['code', 'kind', 'irCode', 'httpStatus', 'fieldErrors', 'irErrors', 'retryable', 'attempts']) {
      assert.ok(p in err, `an error lacks ${p}`)
    }
    return true
  })
})
