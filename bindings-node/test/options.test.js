'use strict'
// The options schema's cases (tests/options/cases.json, made by the core from
// the schema): each bad value given as an option of `new Client` gives the
// same rule as every other surface, the setting named as the option.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const nzpir = require('nzpir')

const CASES = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'tests', 'options', 'cases.json'), 'utf8'))

function optionsWith(name, value) {
  const [outer, inner] = name.split('.')
  return inner === undefined ? { [outer]: value } : { [outer]: { [inner]: value } }
}

test('the table covers every setting', () => {
  const names = new Set(CASES.map((c) => c.setting))
  for (const n of ['environment', 'key', 'max_retries', 'max_idle_connections', 'token_store']) assert.ok(names.has(n), n)
  assert.equal(names.size, CASES.length)
})

for (const c of CASES) {
  test(`a bad ${c.setting} names options.${c.node.name}`, () => {
    assert.throws(
      () => new nzpir.Client(optionsWith(c.node.name, c.node.value)),
      (e) => {
        assert.equal(e.message, c.node.error)
        if (c.node.wrong_type) {
          assert.ok(e instanceof TypeError, String(e))
          assert.equal(e.code, 'NZPIR_INVALID_ARG')
          assert.equal(e.field, `options.${c.node.name}`)
        } else {
          assert.equal(e.code, 'NZPIR_CONFIG')
          assert.equal(e.setting, `options.${c.node.name}`)
        }
        return true
      },
    )
  })
}

/** Writes `text` to `name` in a new temporary folder and calls `fn(file, dir)`. */
function withFile(name, text, fn) {
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'nzpir-options-'))
  try {
    const file = path.join(dir, name)
    fs.writeFileSync(file, text)
    fn(file, dir)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

// The same values in a configuration file: the error names the file's key,
// as the C ABI and the TOML file do.
for (const c of CASES) {
  test(`a bad ${c.setting} in a file names ${c.json.name}`, () => {
    withFile('nzpir.json', c.json.document, (file) => {
      assert.throws(
        () => nzpir.Client.fromConfig(file),
        (e) => {
          assert.equal(e.message, c.json.error)
          assert.equal(e.code, c.json.wrong_type ? 'NZPIR_INVALID_ARG' : 'NZPIR_CONFIG')
          return true
        },
      )
    })
  })
}

test('fromConfig names its tokenStore option as given', () => {
  withFile('nzpir.toml', 'environment = "mock"\n', (file, dir) => {
    assert.throws(() => nzpir.Client.fromConfig(file, { tokenStore: path.join(dir, 't.json') }), (e) => {
      assert.equal(e.code, 'NZPIR_CONFIG')
      assert.equal(e.setting, 'options.tokenStore')
      assert.match(e.message, /^config `options\.tokenStore`: is only used with OAuth/)
      return true
    })
  })
})

test('a file named in a configuration file is named by its key', () => {
  const toml = 'environment = "test"\n[tls]\nclient_cert = "/nonexistent/c.pem"\nclient_key = "/nonexistent/k.pem"\n'
  withFile('nzpir.toml', toml, (file) => {
    assert.throws(() => nzpir.Client.fromConfig(file), (e) => {
      assert.equal(e.code, 'NZPIR_CONFIG')
      assert.match(e.message, /^config `tls\.client_cert`: cannot read \/nonexistent\/c\.pem/)
      return true
    })
  })
  // Given as an option, it is named as the option.
  assert.throws(
    () => new nzpir.Client({ environment: 'test', cert: '/nonexistent/c.pem', key: '/nonexistent/k.pem' }),
    { message: /^config `options\.cert`: cannot read \/nonexistent\/c\.pem/ },
  )
})
