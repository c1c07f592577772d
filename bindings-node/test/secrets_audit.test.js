'use strict'
// The secrets audit of the Node binding. A child process
// (secrets-audit-child.js) runs lookups (M2M JWT RS256 and ES256, a
// startLogon with a person's details, OAuth with a JavaScript token store and
// a rotation, a static bearer token, IR's mock) and every error path
// (strict mode's codes, IR003, 5xx, PIR150, drops, broken bodies, a timeout,
// TLS, a closed port, local validation, wrong arguments, configuration
// errors, a PKCS#12 bundle with its right and a wrong password, and token
// store errors). The binding has no logger of its own (the core's log
// records go nowhere in Node), so the child runs with RUST_LOG=trace,
// RUST_BACKTRACE=full and NODE_DEBUG for Node's own modules, the most any
// layer could be made to say, and everything it writes to stdout and stderr
// is captured here.
//
// Checked: that output, and every error's message, stack, inspect() and
// JSON (and its causes), and inspect() of clients, results and token infos,
// against the secrets the child used: the base64 lines of the sandboxes'
// private keys, the OAuth client secrets, every access and refresh token the
// store was handed, the authorisation code, state and PKCE verifier, every
// JWT (anything "eyJ"), every IRD number in 9-digit, 8-digit and dashed
// forms, the names and dates of birth sent, and the PKCS#12 passwords.
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

test('no secret or personal data in output, errors or inspect()', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nzpir-audit-'))
  const report = path.join(dir, 'report.json')
  try {
    const child = spawnSync(process.execPath, [path.join(__dirname, 'secrets-audit-child.js'), report], {
      env: { ...process.env, RUST_LOG: 'trace', RUST_BACKTRACE: 'full', NODE_DEBUG: 'nzpir,module,timer' },
      encoding: 'utf8',
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
    })
    const r = JSON.parse(fs.readFileSync(report, 'utf8'))
    assert.equal(r.failed, undefined, `the audit itself failed: ${r.failed}`)
    assert.equal(child.status, 0, child.stderr)

    // Not vacuous: the child ran everything and saw every kind of error.
    assert.ok(child.stderr.length > 0, 'NODE_DEBUG wrote to stderr: it is captured')
    for (const code of ['NZPIR_INVALID_INPUT', 'NZPIR_INVALID_ARG', 'NZPIR_CONFIG', 'NZPIR_TLS',
      'NZPIR_TRANSPORT', 'NZPIR_TIMEOUT', 'NZPIR_AUTH', 'NZPIR_AUTHORISATION', 'NZPIR_RATE_LIMITED',
      'NZPIR_REJECTED', 'NZPIR_SERVER', 'NZPIR_CONSENT_REQUIRED', 'NZPIR_TOKEN_STORE']) {
      assert.ok(r.codes.includes(code), `no ${code} error was produced`)
    }
    assert.ok(r.secrets.length > 100, `${r.secrets.length} secrets`)
    assert.ok(r.secrets.some(([w]) => w === 'refresh token'), 'the store saw refresh tokens')

    // A lookup's result names the investor it answers about (the child marks
    // those values as allowed there, and only there).
    const texts = [...r.texts, ['stdout', child.stdout, []], ['stderr', child.stderr, []]]
    const leaks = new Set()
    for (const [where, text, allowed] of texts) {
      for (const [what, s] of r.secrets) {
        if (text.includes(s) && !allowed.includes(s)) {
          leaks.add(`${where} contains the ${what} ${JSON.stringify(s)}: ${text}`)
        }
      }
      if (text.includes('eyJ')) leaks.add(`${where} contains something JWT-shaped: ${text}`)
    }
    assert.equal(leaks.size, 0, `${leaks.size} leaks:\n${[...leaks].sort().join('\n')}`)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
