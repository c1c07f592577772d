// Start nzpir's local sandbox (IR's gateway over real mutual TLS, in this
// process), look up an investor's suggested PIR with the ready configuration,
// and print it.
//
//   npm install && npm start
'use strict'

const { Client, Sandbox } = require('nzpir')

async function main() {
  const sandbox = await Sandbox.start()
  try {
    // The sandbox writes a ready nzpir.toml: mutual TLS with its client
    // certificate, and M2M JWTs signed for the KiwiSaver provider of scheme
    // 125000002. Against IR you would pass your own certificates instead:
    //   new Client({ environment: 'test', cert, key, jwtCert, jwtKey, issuer })
    const client = Client.fromConfig(sandbox.configPath)

    const result = await client.lookup({ ird: '139276310', pieIrd: '125000002' })
    if (result.notFound) {
      console.log('IR has no rate for this investor')
    } else {
      console.log(`suggested PIR: ${result.rate}%`)
    }

    try {
      await client.lookup({ ird: '139276272', pieIrd: '125000002' })
    } catch (e) {
      // Not a member of the scheme: IR refuses (EV1043).
      console.log(`refused: ${e.code} ${e.irCode}`)
    }
  } finally {
    await sandbox.stop()
  }
}

main().catch((e) => {
  console.error(`${e.code || 'error'}: ${e.message}`)
  process.exit(1)
})
