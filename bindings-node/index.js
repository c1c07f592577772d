'use strict'
// The nzpir package: the native module (native.js and native.d.ts are
// generated) and the error codes.

const native = require('./native.js')

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

const snake = (key) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
const camel = (key) => key.replace(/_([a-z])/g, (_, c) => c.toUpperCase())

// The facts with snake_case keys, as the core reads them. Amounts may be
// numbers, decimal strings or bigints (sent as their exact text).
function snakeFacts(value, depth) {
  if (depth > 8) return value
  if (typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) return value.map((v) => snakeFacts(v, depth + 1))
  if (value !== null && typeof value === 'object') {
    const out = {}
    for (const [k, v] of Object.entries(value)) out[snake(k)] = snakeFacts(v, depth + 1)
    return out
  }
  return value
}

/**
 * Estimates an investor's PIR from their facts by IR's published rules:
 * `{ pirYear | filingPeriod, investorType, residency, trusteeElection,
 * zeroRatePie, notifiedForeignInvestor, income: [{ year, taxableIncome,
 * pieIncome }] }`. Returns `{ rate (exact text), rateNumber, rule, explanation, missing,
 * pirYear, decidedByYear }`; bad facts throw an `NZPIR_INVALID_INPUT` error
 * whose `fieldErrors` name each field (camelCase) and rule.
 */
function estimatePir(facts) {
  if (facts === null || typeof facts !== 'object' || Array.isArray(facts)) {
    const e = new TypeError('`facts` must be an object')
    e.code = ErrorCode.INVALID_ARG
    e.field = 'facts'
    throw e
  }
  try {
    const result = native.estimatePirJson(JSON.stringify(snakeFacts(facts, 0)))
    result.missing = result.missing.map(camel)
    return result
  } catch (e) {
    if (e && e.code === ErrorCode.INVALID_INPUT && Array.isArray(e.fieldErrors)) {
      for (const f of e.fieldErrors) {
        const field = camel(f.field)
        e.message = e.message.split(f.field).join(field)
        f.field = field
      }
    }
    throw e
  }
}

module.exports = {
  estimatePir,
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
