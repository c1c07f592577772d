// Hand-written declarations for what the Rust sources cannot describe: the
// shapes of the arguments (read field by field in src/args.rs, so that a
// wrong one is a TypeError naming the field), the sandbox's manifest and
// counters (serialised from the sandbox's own types), and the errors.
// native.d.ts (generated) imports the argument types from here.

import type { BulkProgress, FieldErrorInfo, IrErrorInfo, LookupResult, TokenSet } from './native'

/** A PEM: a file path, PEM text (a string starting with `-----BEGIN`), or a Buffer holding PEM text. */
export type PemSource = string | Buffer

/** An OAuth token store of the application's own. Both may be async. */
export interface TokenStore {
  /** The stored tokens, or `null` when nothing was stored yet. */
  load(): Promise<TokenSet | null | undefined> | TokenSet | null | undefined
  /** Replaces the stored tokens; must be durable when it resolves (IR's refresh tokens are single-use). */
  save(tokens: TokenSet): Promise<void> | void
  /**
   * Optional: takes the store's lock across processes and returns (or
   * resolves to) the function that releases it, as `proper-lockfile`'s
   * `lock()` does. nzpir holds it around every load-refresh-save, so that
   * processes sharing the store never send a spent refresh token (IR then
   * revokes the whole grant).
   */
  lock?(): Promise<() => unknown> | (() => unknown)
}

/** OAuth settings (a myIR user consents; the client refreshes the tokens itself). */
export interface OAuthOptions {
  /** The client id IR issued. */
  clientId: string
  /** The client secret IR issued. */
  clientSecret: string
  /** The redirect URI registered with IR (needed to start an authorisation). */
  redirectUri?: string
  /** The OAuth server's base URL; defaults to the environment's. */
  endpoint?: string
  /** A file path (JSON, written atomically, mode 0600) or a store object. */
  tokenStore: string | TokenStore
}

/** Options of `new Client(options)`. Durations are in milliseconds. */
export interface ClientOptions {
  /** IR's environment; its gateway URL unless `endpoint` is given. */
  environment?: 'production' | 'test' | 'mock' | 'sandbox'
  /** `cloud` (mutual TLS, the default). `desktop` is refused: IR has no desktop PIR endpoint. */
  connection?: 'cloud' | 'desktop'
  /** The gateway's base URL (`https://host:port`). */
  endpoint?: string
  /** The TLS client certificate (and chain). */
  cert?: PemSource
  /** The TLS client key (PKCS#8, SEC1 or PKCS#1). */
  key?: PemSource
  /** Extra trusted root CAs (e.g. the sandbox's), added to the public roots. */
  ca?: PemSource
  /**
   * The TLS client certificate, chain and key as a PKCS#12 file (.p12/.pfx), instead of
   * cert/key. Like cert/key files, it is watched: a renewed file is used for new connections.
   */
  pkcs12?: string
  /** The pkcs12 file's password (none: an empty password). */
  pkcs12Password?: string
  /** M2M JWT: the signing certificate registered with IR. */
  jwtCert?: PemSource
  /** M2M JWT: the signing key. */
  jwtKey?: PemSource
  /** M2M JWT: the signing certificate and key as a PKCS#12 file (.p12/.pfx), instead of jwtCert/jwtKey. */
  jwtPkcs12?: string
  /** M2M JWT: the jwtPkcs12 file's password (none: an empty password). */
  jwtPkcs12Password?: string
  /**
   * M2M JWT: the algorithm configured at IR (default: RS256 for RSA, ES256/ES384/ES512 for
   * EC P-256/P-384/P-521 keys). IR lists RS256/384/512 and ES256/384/512; PS256 is not on
   * IR's list and is kept for a credential deliberately configured with it.
   */
  jwtAlg?: 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'ES256' | 'ES384' | 'ES512'
  /** M2M JWT: `iss`, the provider's name as registered with IR. */
  issuer?: string
  /** M2M JWT: `startLogon`, a myIR logon to act as (empty: authorised by the certificate). */
  startLogon?: string
  /**
   * M2M JWT: what `startLogon` carries when no logon is set: `'null'` (the default, IR's
   * build packs) or `'empty'` (`""`, as IR's sample script sends) for a gateway that wants it.
   */
  unsetStartLogon?: 'null' | 'empty'
  /** M2M JWT: token lifetime in milliseconds (default 540 000; 60 000 to 28 800 000, IR's 8 hours). */
  jwtTtl?: number
  /** A static bearer token. */
  bearerToken?: string
  /** OAuth settings. */
  oauth?: OAuthOptions
  /** Time one attempt may take, in milliseconds (default 60 000, IR's gateway timeout). */
  timeout?: number
  /** Time to connect, TLS handshake included, in milliseconds (default 10 000). */
  connectTimeout?: number
  /** Retries after the first attempt, for transient faults only (default 2; at most 100). */
  maxRetries?: number
  /** Delay before the first retry, in milliseconds (default 250; doubles, with jitter). */
  retryBaseDelay?: number
  /** An HTTP(S) proxy URL; without it, `HTTPS_PROXY`/`NO_PROXY` are honoured. */
  proxy?: string
  /** Check requests locally before sending (default true). */
  validateLocally?: boolean
  /** Idle connections kept for reuse (default 32); 0 keeps none, so every call opens a new connection. */
  maxIdleConnections?: number
}

/** What `doctor()` does besides the checks every run makes. */
export interface DoctorOptions {
  /** One real lookup of this investor (IRD number) at the end. */
  ird?: string
  /** The PIE's IRD number for that lookup. */
  pieIrd?: string
}

/** Options of `Client.fromConfig(path, options)`. */
export interface FromConfigOptions {
  /** Replaces the file's OAuth `token_store`. */
  tokenStore?: string | TokenStore
}

/** A date: `yyyy-MM-dd`, or a `Date` (its UTC date at UTC midnight, else its local date). */
export type DateInput = string | Date

/** The investor and the PIE to ask about; IR's fields in JavaScript's spelling. */
export interface LookupRequest {
  /** The investor's IRD number (8 or 9 digits, `49-091-850` style accepted). */
  ird: string
  /** The PIE's (or scheme's) IRD number. */
  pieIrd?: string
  /** The filing period: 31 March of a tax year, or the year it ends (`2026`). */
  filingPeriod?: DateInput | number
  /** The name as one string ("Last, First"). */
  formattedName?: string
  /** The name, for IR's soft matching. */
  name?: { firstName?: string; middleName?: string; lastName?: string }
  /** Date of birth. */
  dob?: DateInput
  /** The address as one string. */
  formattedAddress?: string
  /** The address, for IR's soft matching (`country`: ISO 3166-1 alpha-2). */
  address?: { street?: string; city?: string; postCode?: string; state?: string; country?: string }
}

/** Options of `mintJwt`. */
export interface JwtOptions {
  cert: PemSource
  key: PemSource
  alg?: ClientOptions['jwtAlg']
  issuer?: string
  startLogon?: string
  unsetStartLogon?: ClientOptions['unsetStartLogon']
  /** Lifetime in milliseconds (default 540 000; at most 28 800 000, IR's 8 hours). */
  ttl?: number
}

/** Options of `Sandbox.start`. */
export interface SandboxOptions {
  /** `strict` (IR's production rules over a fixture, the default) or `ir-mock`. */
  profile?: 'strict' | 'ir-mock'
  /** A folder for the PKI, `nzpir.toml` and `manifest.json` (default: a temporary one). */
  pkiDir?: string
  /** A fixture file (JSON) instead of the default fixture. */
  fixtureFile?: string
  /** IR003 after this many answered queries of one IRD in 24 hours (default 25; 0: off). */
  ir003Limit?: number
  /** Seconds between the sandbox's clock and the system clock. */
  clockOffset?: number
  /** Lifetime of OAuth access tokens, in milliseconds. */
  accessTokenTtl?: number
  /** Send `expires_in` as a string, as some of IR's samples do. */
  expiresInAsString?: boolean
}

/** A fault for the next `times` requests (all until cleared when absent). */
export type FaultSpec = (
  | { kind: 'delay'; ms: number }
  | { kind: 'status'; status: number }
  /** This status (400-599) with `body`, JSON text sent as it is (a hostile or broken server). */
  | { kind: 'answer'; status: number; body: string }
  /** A gateway's 429, with `Retry-After: secs` when `secs` is given. */
  | { kind: 'too_many_requests'; secs?: number }
  | { kind: 'drop_before_read' | 'drop_after_read' | 'drop_after_process' | 'truncated_body' | 'malformed_body' | 'pir150' | 'other_investor' }
) & { times?: number; scope?: 'pir' | 'token' }

/** A party of the sandbox's fixture. */
export interface SandboxParty {
  id: string
  kind: 'pie' | 'kiwisaver_scheme' | 'kiwisaver_provider' | 'scheme_admin_manager' | 'tax_preparer' | 'other'
  ird: string
  name: string
  logons: string[]
  credentials: string[]
  schemes?: string[]
  manages?: string[]
  clients?: string[]
  members?: string[]
  reconciliation?: string[]
  client_investors?: string[]
}

/** An investor of the sandbox's fixture. */
export interface SandboxInvestor {
  ird: string
  suggested_pir_rate?: number | null
  memberships?: string[]
  reconciliation?: string[]
  tax_preparers?: string[]
  name?: { first?: string; middle?: string; last?: string }
  dob?: string
  address?: { street?: string; city?: string; post_code?: string; state?: string; country?: string }
}

/** An OAuth client of the sandbox's fixture. */
export interface SandboxOAuthClient {
  client_id: string
  client_secret: string
  redirect_uris: string[]
  logon: string | null
  refresh_tokens?: boolean
}

/** The sandbox's `manifest.json` (snake_case keys: a contract shared by every language). */
export interface SandboxManifest {
  url: string
  profile: 'strict' | 'ir-mock'
  ca_cert: string
  client_cert: string
  client_key: string
  unregistered_client_cert: string
  unregistered_client_key: string
  /** A renewal of `client_cert`: another certificate with the same CN, accepted (registration is by CN). */
  renewed_client_cert: string
  renewed_client_key: string
  jwt_rs256_cert: string
  jwt_rs256_key: string
  jwt_ec_cert: string
  jwt_ec_key: string
  jwt_ec_alg: string
  config: string
  parties: SandboxParty[]
  logons: { id: string; party: string | null }[]
  investors: { ird: string; suggested_pir_rate: number | null; fixture: SandboxInvestor }[]
  oauth: {
    base_url: string
    authorize_url: string
    token_url: string
    introspect_url: string
    revoke_url: string
    scope: string
    access_token_ttl_secs: number
    clients: SandboxOAuthClient[]
  }
  thumbprints: Record<string, string>
  admin_url: string
  pki_dir: string
  server_cert: string
  ir003_limit: number
  pid: number
  version: string
}

/** The sandbox's counters. */
export interface SandboxStats {
  pir_requests: number
  pir_responses: Record<string, number>
  ir_codes: Record<string, number>
  token_requests: Record<string, number>
  authorize_requests: number
  introspect_requests: number
  revoke_requests: number
  status_requests: number
  faults_applied: number
  connections: number
  tls_handshake_failures: number
  not_found: number
  method_not_allowed: number
  payload_too_large: number
}

/** The stable codes of nzpir's errors. */
export type NzpirErrorCode =
  | 'NZPIR_INVALID_INPUT'
  | 'NZPIR_CONFIG'
  | 'NZPIR_TLS'
  | 'NZPIR_TRANSPORT'
  | 'NZPIR_TIMEOUT'
  | 'NZPIR_AUTH'
  | 'NZPIR_AUTHORISATION'
  | 'NZPIR_RATE_LIMITED'
  | 'NZPIR_REJECTED'
  | 'NZPIR_SERVER'
  | 'NZPIR_CONSENT_REQUIRED'
  | 'NZPIR_TOKEN_STORE'
  | 'NZPIR_ERROR'

/** What every rejection and throw of nzpir is (besides `NzpirArgumentError` and `NzpirSandboxError`). */
export interface NzpirError extends Error {
  code: NzpirErrorCode
  /** The core's name for the kind, e.g. `rate_limited`. */
  kind: string
  /** IR's code (`EV1041`, `IR003`, `PIR101`...), or `null`. */
  irCode: string | null
  /** The HTTP status, when the gateway answered. */
  httpStatus: number | null
  /** For `NZPIR_INVALID_INPUT`: every broken rule; empty otherwise. */
  fieldErrors: FieldErrorInfo[]
  /** Every error IR sent. */
  irErrors: IrErrorInfo[]
  /** Whether trying again later may succeed. */
  retryable: boolean
  /** How many times the gateway was called (0: nothing was sent). */
  attempts: number
  /** For `NZPIR_CONFIG` about one option: the option (`options.timeout`), else `null`/absent. */
  setting?: string | null
}

/** Options of `client.lookupMany` and `client.lookupManyIter`. */
export interface LookupManyOptions {
  /** Lookups in flight at once, 1 to 256 (default 4). */
  concurrency?: number
  /** At most this many lookups started per second (0.001 to 10000). */
  maxRps?: number
  /**
   * A journal file: completed lookups are recorded (keyed hashes, never IRD
   * numbers; mode 0600) and a later run with the same path repeats none.
   */
  journal?: string
  /** Called on the JavaScript thread as results arrive. */
  onProgress?: (progress: BulkProgress) => void
  /** Aborting it stops the run: no new lookup starts, the call rejects with the signal's reason. */
  signal?: AbortSignal
}

/** One request's outcome, shaped as `Promise.allSettled`'s entries. */
export type LookupSettledResult =
  | { status: 'fulfilled'; value: LookupResult }
  | { status: 'rejected'; reason: NzpirError }

/** A wrong argument type, a missing or an unknown field. */
export interface NzpirArgumentError extends TypeError {
  code: 'NZPIR_INVALID_ARG'
  /** The field, e.g. `request.name.firstName`. */
  field: string
}

/** A sandbox that could not start. */
export interface NzpirSandboxError extends Error {
  code: 'NZPIR_SANDBOX'
}
