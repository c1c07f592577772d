'use strict'
// The nzpir package: the native module (native.js and native.d.ts are
// generated) and the error codes.

const { AsyncLocalStorage } = require('node:async_hooks')
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

// The identity's expiry as a Date (the native getter gives milliseconds).
Object.defineProperty(native.Client.prototype, 'identityExpiresAt', {
  configurable: true,
  enumerable: false,
  get() {
    const ms = this.identityNotAfterMs
    return ms == null ? null : new Date(ms)
  },
})

// lookupMany and lookupManyIter: the native run (`startLookupMany`) hands
// results over in input order, in chunks, from its own threads; here they
// become Promise.allSettled-shaped entries, the errors real Error objects
// with the same properties a rejected lookup() has.
const ERROR_PROPS = ['code', 'kind', 'irCode', 'httpStatus', 'fieldErrors', 'irErrors', 'retryable', 'attempts']

function itemError(info) {
  const e = new Error(info.message)
  for (const k of ERROR_PROPS) e[k] = info[k]
  return e
}

function settled(item) {
  if (item.value) {
    Object.defineProperty(item.value, inspectCustom, { value: redactedInspect })
    return { status: 'fulfilled', value: item.value }
  }
  return { status: 'rejected', reason: itemError(item.error) }
}

function abortReason(signal) {
  if (signal.reason !== undefined) return signal.reason
  const e = new Error('This operation was aborted')
  e.name = 'AbortError'
  return e
}

function checkSignal(signal) {
  if (signal === undefined || signal === null) return undefined
  if (typeof signal !== 'object' || typeof signal.addEventListener !== 'function' || typeof signal.aborted !== 'boolean') {
    const e = new TypeError('`options.signal` must be an AbortSignal')
    e.code = 'NZPIR_INVALID_ARG'
    e.field = 'options.signal'
    throw e
  }
  return signal
}

function checkOnProgress(onProgress) {
  if (onProgress === undefined || onProgress === null) return undefined
  if (typeof onProgress !== 'function') {
    const e = new TypeError('`options.onProgress` must be a function')
    e.code = 'NZPIR_INVALID_ARG'
    e.field = 'options.onProgress'
    throw e
  }
  return onProgress
}

// The results of a run over `requests`, chunk by chunk, in input order;
// onProgress after each chunk. An aborted signal cancels the run and throws
// its reason.
async function* chunks(client, requests, options) {
  const signal = checkSignal(options && options.signal)
  const onProgress = checkOnProgress(options && options.onProgress)
  if (signal && signal.aborted) throw abortReason(signal)
  const list = Array.isArray(requests) ? requests : Array.from(requests)
  const run = client.startLookupMany(list, options)
  const onAbort = () => run.cancel()
  if (signal) signal.addEventListener('abort', onAbort, { once: true })
  try {
    for (;;) {
      const chunk = await run.next()
      yield chunk.items
      if (onProgress) onProgress(chunk.progress)
      if (chunk.done) {
        if (signal && signal.aborted) throw abortReason(signal)
        return
      }
    }
  } finally {
    if (signal) signal.removeEventListener('abort', onAbort)
    run.cancel() // a loop left early stops the run; a finished run is not affected
  }
}

Object.defineProperty(native.Client.prototype, 'lookupMany', {
  configurable: true,
  writable: true,
  value: async function lookupMany(requests, options) {
    const out = []
    for await (const items of chunks(this, requests, options)) {
      for (const item of items) out.push(settled(item))
    }
    return out
  },
})

Object.defineProperty(native.Client.prototype, 'lookupManyIter', {
  configurable: true,
  writable: true,
  value: async function* lookupManyIter(requests, options) {
    for await (const items of chunks(this, requests, options)) {
      for (const item of items) yield settled(item)
    }
  },
})

// A token store's load() and save() run while the client waits for them
// (its refresh lock held): a call back into the same client from inside
// them, however many awaits deep, would wait for itself. The store runs in
// an AsyncLocalStorage context naming its client, and such calls reject at
// once with NZPIR_TOKEN_STORE instead.
const insideStore = new AsyncLocalStorage()
const kOwner = Symbol('nzpir.tokenStoreOwner')

function guardedStore(store, owner) {
  if (store == null || typeof store !== 'object') return store
  if (typeof store.load !== 'function' || typeof store.save !== 'function') return store
  const guarded = {
    load: (...args) => insideStore.run(owner, () => store.load(...args)),
    save: (...args) => insideStore.run(owner, () => store.save(...args)),
  }
  if (store.lock != null) {
    // Checked by the native side (a function, or it says which rule broke).
    guarded.lock =
      typeof store.lock === 'function' ? (...args) => insideStore.run(owner, () => store.lock(...args)) : store.lock
  }
  return guarded
}

// `options.tokenStore` (fromConfig) or `options.oauth.tokenStore` (new Client).
function withGuardedStore(options, owner) {
  if (options == null || typeof options !== 'object' || Array.isArray(options)) return options
  let out = options
  if (options.tokenStore != null && typeof options.tokenStore === 'object') {
    out = { ...out, tokenStore: guardedStore(options.tokenStore, owner) }
  }
  const oauth = options.oauth
  if (oauth != null && typeof oauth === 'object' && oauth.tokenStore != null && typeof oauth.tokenStore === 'object') {
    out = { ...out, oauth: { ...oauth, tokenStore: guardedStore(oauth.tokenStore, owner) } }
  }
  return out
}

function reentrant() {
  const e = new Error(
    'the token store called back into the same client from its load() or save(): it must not, as the client waits for the store to return',
  )
  e.code = 'NZPIR_TOKEN_STORE'
  return e
}

function isReentrant(client) {
  const owner = client[kOwner]
  return owner !== undefined && insideStore.getStore() === owner
}

for (const name of ['lookup', 'status', 'completeAuthorization', 'refreshToken', 'introspectToken', 'revokeToken']) {
  const descriptor = Object.getOwnPropertyDescriptor(native.Client.prototype, name)
  if (!descriptor || typeof descriptor.value !== 'function') continue
  const inner = descriptor.value
  Object.defineProperty(native.Client.prototype, name, {
    ...descriptor,
    value: {
      [name](...args) {
        if (isReentrant(this)) return Promise.reject(reentrant())
        return inner.apply(this, args)
      },
    }[name],
  })
}

function owned(client, owner) {
  Object.defineProperty(client, kOwner, { value: owner })
  return client
}

// `Client` is the native class with the store guarded: same prototype (so
// `instanceof` and every method are the native ones), same static factory.
function Client(options, ...rest) {
  if (new.target === undefined) {
    throw new TypeError("Class constructor Client cannot be invoked without 'new'")
  }
  const owner = {}
  return owned(new native.Client(withGuardedStore(options, owner), ...rest), owner)
}
Client.prototype = native.Client.prototype
Client.fromConfig = function fromConfig(path, options, ...rest) {
  const owner = {}
  return owned(native.Client.fromConfig(path, withGuardedStore(options, owner), ...rest), owner)
}

/** The `code` of every error nzpir throws or rejects with. */
// The codes of nzpir's errors: one per kind of the core's table (through
// the native errorKinds()), then those of arguments, the sandbox, and a kind
// this version does not know.
const ErrorCode = Object.freeze({
  INVALID_ARG: 'NZPIR_INVALID_ARG',
  ...Object.fromEntries(native.errorKinds().map((k) => [k.code.slice('NZPIR_'.length), k.code])),
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
  Client,
  estimatePir,
  Sandbox: native.Sandbox,
  isValidIrd: native.isValidIrd,
  normaliseIrd: native.normaliseIrd,
  normalizeIrd: native.normalizeIrd,
  validIrds,
  mintJwt: native.mintJwt,
  doctor: native.doctor,
  version: native.version,
  ErrorCode,
  isNzpirError,
}
