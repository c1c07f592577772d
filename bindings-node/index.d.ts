// The nzpir package's types: the generated declarations of the native module
// (native.d.ts), the hand-written ones of arguments and errors (types.d.ts),
// and the two helpers index.js adds.

import type { NzpirArgumentError, NzpirError, NzpirSandboxError } from './types'

export {
  Client,
  Sandbox,
  isValidIrd,
  normalizeIrd,
  validIrds,
  mintJwt,
  doctor,
  version,
} from './native'
export type {
  AuthorizationRequest,
  DoctorCheck,
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
  }
}

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
