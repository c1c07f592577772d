// The same package from an ES module: named and default imports.
import nzpir, { Client, Sandbox, isValidIrd, type LookupResult } from 'nzpir'

export async function esm(): Promise<LookupResult> {
  const sb = await Sandbox.start()
  const valid: boolean = isValidIrd('49091850') && nzpir.isValidIrd('49091850')
  const client = Client.fromConfig(sb.configPath)
  const r = await client.lookup({ ird: '139276507', pieIrd: '125000002' })
  await sb.stop()
  console.log(valid)
  return r
}
