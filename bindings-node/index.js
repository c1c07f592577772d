'use strict'
// The nzpir package: the native module (native.js and native.d.ts are
// generated) and the error codes.

const native = require('./load.js')

// A lookup's result names the investor (`ird`) and the PIE (`pieIrd`): the
// properties are there for the caller, but `console.log(result)` and other
// util.inspect() output (what loggers print) shows them as <redacted>, as
// Python's repr does. JSON.stringify, an explicit choice, keeps them.
const inspectCustom = Symbol.for('nodejs.util.inspect.custom')

function redactedInspect(depth, options, inspect) {
  const shown = { ...this }
  for (const key of ['ird', 'pieIrd']) {
    if (shown[key] != null) shown[key] = '<redacted>'
  }
  return inspect(shown, options)
}

const nativeLookup = native.Client.prototype.lookup
Object.defineProperty(native.Client.prototype, 'lookup', {
  ...Object.getOwnPropertyDescriptor(native.Client.prototype, 'lookup'),
  value: async function lookup(request) {
    const result = await nativeLookup.call(this, request)
    Object.defineProperty(result, inspectCustom, { value: redactedInspect })
    return result
  },
})

/** The `code` of every error nzpir throws or rejects with. */
const ErrorCode = Object.freeze({
  INVALID_ARG: 'NZPIR_INVALID_ARG',
  INVALID_INPUT: 'NZPIR_INVALID_INPUT',
  CONFIG: 'NZPIR_CONFIG',
  TLS: 'NZPIR_TLS',
  TRANSPORT: 'NZPIR_TRANSPORT',
  TIMEOUT: 'NZPIR_TIMEOUT',
  AUTH: 'NZPIR_AUTH',
  AUTHORISATION: 'NZPIR_AUTHORISATION',
  RATE_LIMITED: 'NZPIR_RATE_LIMITED',
  REJECTED: 'NZPIR_REJECTED',
  SERVER: 'NZPIR_SERVER',
  CONSENT_REQUIRED: 'NZPIR_CONSENT_REQUIRED',
  TOKEN_STORE: 'NZPIR_TOKEN_STORE',
  SANDBOX: 'NZPIR_SANDBOX',
  ERROR: 'NZPIR_ERROR',
})

const codes = new Set(Object.values(ErrorCode))

/** Whether `e` is an error nzpir made (it has one of `ErrorCode`'s codes). */
function isNzpirError(e) {
  return e instanceof Error && codes.has(e.code)
}

/**
 * One flag per item: whether it is a valid IRD number (as `isValidIrd`).
 * A large array of strings crosses into the native module as one joined
 * string, checked there in one pass: reading items one by one from native
 * code cost more than the check. Anything else, or an item holding a newline,
 * takes the item-by-item path, which also reports a wrong type.
 */
function validIrds(values) {
  if (Array.isArray(values) && values.length >= 16) {
    let strings = true
    for (let i = 0; i < values.length; i++) {
      if (typeof values[i] !== 'string') {
        strings = false
        break
      }
    }
    if (strings) {
      const flags = native.validIrdLines(values.join('\n'))
      if (flags.length === values.length) {
        const out = new Array(flags.length)
        for (let i = 0; i < flags.length; i++) out[i] = flags[i] === 1
        return out
      }
    }
  }
  return native.validIrds(values)
}

module.exports = {
  Client: native.Client,
  Sandbox: native.Sandbox,
  isValidIrd: native.isValidIrd,
  normalizeIrd: native.normalizeIrd,
  validIrds,
  mintJwt: native.mintJwt,
  version: native.version,
  ErrorCode,
  isNzpirError,
}
