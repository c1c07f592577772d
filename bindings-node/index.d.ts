// The nzpir package's types: the generated declarations of the native module
// (native.d.ts), the hand-written ones of arguments and errors (types.d.ts),
// and the two helpers index.js adds.

import type {
  LookupManyOptions,
  LookupRequest,
  LookupSettledResult,
  NzpirArgumentError,
  NzpirError,
  NzpirSandboxError,
} from './types'

export {
  Client,
  Sandbox,
  isValidIrd,
  normaliseIrd,
  normalizeIrd,
  validIrds,
  mintJwt,
  doctor,
  version,
} from './native'
export type {
  PirEstimate,
  AuthorizationRequest,
  DoctorCheck,
  BulkProgress,
  FieldErrorInfo,
  IntrospectionInfo,
  IrErrorInfo,
  LookupResult,
  MintedJwt,
  TokenInfo,
  TokenSet,
} from './native'
export * from './types'

declare module './native' {
  interface Client {
    /** When the client certificate in use expires, or `null` without one. */
    readonly identityExpiresAt: Date | null
    /**
     * Looks up many requests: resolves with one entry per request, in input
     * order, shaped as `Promise.allSettled`'s (`{ status: 'fulfilled', value }`
     * or `{ status: 'rejected', reason }`): one bad request never rejects the
     * whole call. Identical requests are looked up once; `concurrency`
     * lookups run at once on the binding's threads and `maxRps` caps their
     * start rate. A request of the wrong shape rejects with a `TypeError`
     * (`NZPIR_INVALID_ARG`) naming its index and field, before any lookup;
     * an aborted `signal` stops the run and rejects with its reason.
     */
    lookupMany(
      requests: Iterable<LookupRequest>,
      options?: LookupManyOptions,
    ): Promise<LookupSettledResult[]>
    /**
     * `lookupMany` as an async iterator: entries in input order as they
     * complete, holding only those not yet taken. Leaving the loop early
     * stops the run.
     */
    lookupManyIter(
      requests: Iterable<LookupRequest>,
      options?: LookupManyOptions,
    ): AsyncGenerator<LookupSettledResult, void, undefined>
  }
}

/** An investor's facts for `estimatePir` (amounts: numbers, decimal strings or bigints). */
export interface PirFacts {
  /** The PIR year: the year ending 31 March the rate is for, e.g. 2026. */
  pirYear?: number | string | null
  /** Instead of `pirYear`: 31 March of a tax year, `yyyy-MM-dd`. */
  filingPeriod?: string | null
  investorType?:
    | 'individual'
    | 'company'
    | 'incorporated_society'
    | 'charity'
    | 'pie'
    | 'superannuation_fund'
    | 'trustee'
    | null
  residency?: 'resident' | 'non_resident' | 'transitional_resident' | null
  /** A trustee's elected rate: 0, 10.5, 17.5 or 28. */
  trusteeElection?: number | string | null
  /** The PIE is a foreign investment zero-rate PIE. */
  zeroRatePie?: boolean | null
  /** The investor notified the PIE that they are a foreign investor. */
  notifiedForeignInvestor?: boolean | null
  /** Income years (ending 31 March); a year not listed had no income. */
  income?: Array<{
    year: number | string
    taxableIncome?: number | string | bigint | null
    pieIncome?: number | string | bigint | null
  }> | null
}

/**
 * Estimates an investor's PIR from their facts by IR's published rules (never
 * IR's answer: IR's suggested rate and the investor's own choice take precedence).
 * Throws an `NZPIR_INVALID_INPUT` error naming each bad field.
 */
export declare function estimatePir(facts: PirFacts): import('./native').PirEstimate

/** The `code` of every error nzpir throws or rejects with. */
export declare const ErrorCode: {
  readonly INVALID_ARG: 'NZPIR_INVALID_ARG'
  readonly INVALID_INPUT: 'NZPIR_INVALID_INPUT'
  readonly CONFIG: 'NZPIR_CONFIG'
  readonly TLS: 'NZPIR_TLS'
  readonly TRANSPORT: 'NZPIR_TRANSPORT'
  readonly TIMEOUT: 'NZPIR_TIMEOUT'
  readonly AUTH: 'NZPIR_AUTH'
  readonly AUTHORISATION: 'NZPIR_AUTHORISATION'
  readonly RATE_LIMITED: 'NZPIR_RATE_LIMITED'
  readonly REJECTED: 'NZPIR_REJECTED'
  readonly SERVER: 'NZPIR_SERVER'
  readonly CONSENT_REQUIRED: 'NZPIR_CONSENT_REQUIRED'
  readonly TOKEN_STORE: 'NZPIR_TOKEN_STORE'
  readonly SANDBOX: 'NZPIR_SANDBOX'
  readonly ERROR: 'NZPIR_ERROR'
}

/** Whether `e` is an error nzpir made (it has one of `ErrorCode`'s codes). */
export declare function isNzpirError(
  e: unknown,
): e is NzpirError | NzpirArgumentError | NzpirSandboxError
