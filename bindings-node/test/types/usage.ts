// Type-checked (tsc --noEmit), never run: how a TypeScript program uses nzpir,
// and what the declarations must refuse.
import {
  Client,
  ErrorCode,
  doctor,
  Sandbox,
  estimatePir,
  isNzpirError,
  isValidIrd,
  mintJwt,
  normaliseIrd,
  normalizeIrd,
  validIrds,
  type ClientOptions,
  type DoctorCheck,
  type LookupRequest,
  type LookupResult,
  type NzpirErrorCode,
  type PirEstimate,
  type PirFacts,
  type TokenSet,
  type TokenStore,
} from 'nzpir'

export async function main(): Promise<void> {
  const ok: boolean = isValidIrd('49-091-850')
  const wire: string = normaliseIrd('49091850')
  const former: string = normalizeIrd('49091850')
  const flags: boolean[] = validIrds(['49091850', 'x'])
  const facts: PirFacts = { pirYear: 2026, income: [{ year: 2025, taxableIncome: '61000.50', pieIncome: 0 }] }
  const estimate: PirEstimate = estimatePir(facts)
  const estimated: string | null = estimate.rate
  const estimatedNumber: number | null = estimate.rateNumber
  // @ts-expect-error investor types are a closed set
  estimatePir({ investorType: 'person' })

  const sb: Sandbox = await Sandbox.start({ profile: 'strict', ir003Limit: 0 })
  const m = sb.manifest
  const caPath: string = m.ca_cert
  const rate28: number | null | undefined = m.investors[0]?.suggested_pir_rate
  sb.setFault({ kind: 'delay', ms: 100, times: 1 })
  const checks: DoctorCheck[] = await doctor(sb.configPath, { ird: '139276507', pieIrd: '125000002' })
  const firstStatus: string | undefined = checks[0]?.status
  const p12 = new Client({ endpoint: m.url, pkcs12: 'c.p12', pkcs12Password: 'pw', ca: caPath })
  const idExpires: Date | null = p12.identityExpiresAt
  const reloaded: boolean = p12.reloadIdentity()
  const own: DoctorCheck[] = await p12.doctor({ ird: '139276507' })
  sb.addFault({ kind: 'status', status: 503, scope: 'pir' })
  const calls: number = sb.callsFor('139276507')
  const requests: number = sb.stats().pir_requests

  const options: ClientOptions = {
    endpoint: sb.url,
    cert: m.client_cert,
    key: Buffer.from('-----BEGIN PRIVATE KEY-----'),
    ca: caPath,
    jwtCert: m.jwt_rs256_cert,
    jwtKey: m.jwt_rs256_key,
    jwtAlg: 'RS256',
    issuer: 'Kowhai KiwiSaver Ltd',
    timeout: 5_000,
    maxRetries: 1,
  }
  const client = new Client(options)
  const fromFile: Client = Client.fromConfig(sb.configPath)
  const request: LookupRequest = {
    ird: '139276507',
    pieIrd: '125000002',
    filingPeriod: 2026,
    name: { firstName: 'Gary', lastName: 'Allen' },
    dob: new Date(1990, 0, 2),
    address: { street: '1 Queen St', city: 'Auckland', country: 'NZ' },
  }
  const result: LookupResult = await client.lookup(request)
  const exact: string | null = result.rate
  const approx: number | null = result.rateNumber
  const notFound: boolean = result.notFound
  await fromFile.status()

  try {
    await client.lookup({ ird: '136410133' })
  } catch (e) {
    if (isNzpirError(e)) {
      const code: NzpirErrorCode | 'NZPIR_INVALID_ARG' | 'NZPIR_SANDBOX' = e.code
      if (e.code === ErrorCode.INVALID_INPUT) {
        for (const f of e.fieldErrors) console.log(f.field, f.rule, f.message)
      } else if (e.code === 'NZPIR_INVALID_ARG') {
        const field: string = e.field
      } else if (e.code !== 'NZPIR_SANDBOX') {
        const ir: string | null = e.irCode
        const status: number | null = e.httpStatus
        const retry: boolean = e.retryable
      }
    }
  }

  const memory: { t: TokenSet | null } = { t: null }
  const store: TokenStore = {
    async load() {
      return memory.t
    },
    async save(tokens) {
      memory.t = tokens
    },
  }
  const oauth = new Client({
    endpoint: sb.url,
    oauth: { clientId: 'sandbox-app', clientSecret: 's', redirectUri: 'http://127.0.0.1/callback', tokenStore: store },
  })
  const auth = oauth.authorizationRequest()
  const granted = await oauth.completeAuthorization(auth.url, auth)
  const expires: number = granted.expiresAt
  const info = await oauth.introspectToken({ kind: 'refresh' })
  const user: string | null = info.username
  await oauth.revokeToken()
  await oauth.refreshToken().catch(() => undefined)

  const jwt = mintJwt({ cert: m.jwt_ec_cert, key: m.jwt_ec_key, alg: 'ES256', issuer: 'x' })
  const token: string = jwt.token

  const controller = new AbortController()
  const settled = await client.lookupMany([{ ird: '139276507', pieIrd: '125000002' }], {
    concurrency: 4,
    maxRps: 50,
    signal: controller.signal,
    onProgress: (p) => {
      const done: number = p.done
      const total: number | null = p.total
      console.log(done, total)
    },
  })
  for (const entry of settled) {
    if (entry.status === 'fulfilled') {
      const r: string | null = entry.value.rate
      console.log(r)
    } else {
      const code: string = entry.reason.code
      const ir: string | null = entry.reason.irCode
      console.log(code, ir)
    }
  }
  for await (const entry of client.lookupManyIter([{ ird: '139276507' }])) {
    const status: 'fulfilled' | 'rejected' = entry.status
    console.log(status)
  }

  // What the declarations must refuse:
  // @ts-expect-error lookupMany takes requests, not IRD numbers
  await client.lookupMany(['139276507'])
  // @ts-expect-error maxRps is a number
  await client.lookupMany([], { maxRps: '5' })
  // @ts-expect-error an IRD number is a string
  await client.lookup({ ird: 139276507 })
  // @ts-expect-error unknown request fields are refused (as at run time)
  await client.lookup({ ird: '139276507', pieIRD: '125000002' })
  // @ts-expect-error the rate may be null
  const notNull: string = result.rate
  // @ts-expect-error environments are a closed set
  new Client({ environment: 'staging' })
  // @ts-expect-error faults have known kinds
  sb.setFault({ kind: 'explode' })
  // @ts-expect-error a token store needs save()
  new Client({ endpoint: 'https://x', oauth: { clientId: 'a', clientSecret: 'b', tokenStore: { load: async () => null } } })

  await sb.stop()
  console.log(ok, wire, flags, estimated, estimatedNumber, rate28, calls, requests, exact, approx, notFound, expires, user, token, notNull)
  console.log(firstStatus, idExpires, reloaded, own)
}
