// `import` works as well as `require`, and both give the same objects.
import test from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import nzpir, { Client, Sandbox, isValidIrd, validIrds, ErrorCode, isNzpirError } from 'nzpir'

const require = createRequire(import.meta.url)

test('named and default imports are the CommonJS exports', async () => {
  const cjs = require('nzpir')
  assert.equal(Client, cjs.Client)
  assert.equal(Sandbox, cjs.Sandbox)
  assert.equal(nzpir.isValidIrd, cjs.isValidIrd)
  assert.equal(isValidIrd('49091850'), true)
  assert.deepEqual(validIrds(['49091850']), [true])
  assert.equal(ErrorCode.AUTH, 'NZPIR_AUTH')
  const sb = await Sandbox.start({ profile: 'ir-mock' })
  try {
    const m = sb.manifest
    const c = new Client({ endpoint: sb.url, cert: m.client_cert, key: m.client_key, ca: m.ca_cert, validateLocally: false })
    assert.equal((await c.lookup({ ird: '139276310' })).rate, '10.5')
    await assert.rejects(c.lookup({ ird: '139276329' }), (e) => isNzpirError(e) && e.code === 'NZPIR_AUTHORISATION')
  } finally {
    await sb.stop()
  }
})
