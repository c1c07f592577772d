// ES module entry: the same objects as the CommonJS entry.
import nzpir from './index.js'

export const {
  Client,
  Sandbox,
  isValidIrd,
  normaliseIrd,
  normalizeIrd,
  validIrds,
  mintJwt,
  doctor,
  estimatePir,
  version,
  ErrorCode,
  isNzpirError,
} = nzpir
export default nzpir
