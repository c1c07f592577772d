'use strict'
// The Node measurements of bench/run.sh: nzpir's package against what a Node
// developer would use instead (https + jsonwebtoken, @fnzc/nz-ird-validator).
//
//   node bench.js ird PEER CORPUS SECONDS          nzpir | fnzc
//   node bench.js lookup PEER SETTINGS.json SECONDS nzpir | nzpir-fresh | https-reused |
//                                                   https-percall | https-percall-pem | https-fresh
//   node bench.js jwt PEER ALG CERT KEY SECONDS     nzpir | jsonwebtoken | jsonwebtoken-pem
//   node bench.js bulk PEER SETTINGS.json REGISTER.csv N
//                                                   nzpir (lookupMany) | https-pool (N-wide
//                                                   promise pool of https + jsonwebtoken)
//
// SETTINGS.json (written by run.sh) names the endpoint, the TLS files, the
// JWT credential and nzpir's configuration file for the same server. Each
// measurement warms up, runs for SECONDS of wall time and prints one JSON
// line: {"peer", "items", "secs", "per_sec", "ns_per"}.

const crypto = require('node:crypto')
const fs = require('node:fs')
const https = require('node:https')

const IRD = '139276507'
const PIE_IRD = '125000002'
const ISSUER = 'nzpir bench'

function report(peer, items, secs, extra = {}) {
  console.log(
    JSON.stringify({
      peer,
      items,
      secs: +secs.toFixed(6),
      per_sec: +(items / secs).toFixed(3),
      ns_per: +((secs * 1e9) / items).toFixed(3),
      ...extra,
    }),
  )
}

const now = () => Number(process.hrtime.bigint()) / 1e9

// Warms up (a tenth of the time, at most 0.5 s), then calls f until secs
// have passed; f returns (or resolves to) how many items it did.
async function timed(secs, f) {
  const warm = now() + Math.min(secs / 10, 0.5)
  while (now() < warm) await f()
  let items = 0
  const start = now()
  for (;;) {
    items += await f()
    const elapsed = now() - start
    if (elapsed >= secs) return [items, elapsed]
  }
}

function timedSync(secs, f) {
  const warm = now() + Math.min(secs / 10, 0.5)
  while (now() < warm) f()
  let items = 0
  const start = now()
  for (;;) {
    items += f()
    const elapsed = now() - start
    if (elapsed >= secs) return [items, elapsed]
  }
}

function ird(peer, corpus, secs) {
  const items = fs.readFileSync(corpus, 'ascii').split('\n')
  if (items[items.length - 1] === '') items.pop()
  let onePass
  if (peer === 'nzpir') {
    const { validIrds } = require('nzpir')
    onePass = () => validIrds(items)
  } else if (peer === 'fnzc') {
    const { isValidIRDNumber } = require('@fnzc/nz-ird-validator')
    onePass = () => items.map((s) => isValidIRDNumber(s))
  } else {
    throw new Error(`unknown ird peer ${peer}`)
  }
  const valid = onePass().filter(Boolean).length
  const [n, elapsed] = timedSync(secs, () => onePass().length)
  report(peer, n, elapsed, { valid })
}

function thumbprint(certPem) {
  return new crypto.X509Certificate(certPem).fingerprint256.replace(/:/g, '')
}

function claims(issuer, sub) {
  const iat = Math.floor(Date.now() / 1000)
  return { iss: issuer, sub, startLogon: '', iat, exp: iat + 300 }
}

// One POST as a Node developer writes it with the https module.
function post(options, body) {
  return new Promise((resolve, reject) => {
    const req = https.request(options, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}`))
        else resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

async function lookup(peer, settingsPath, secs) {
  const s = JSON.parse(fs.readFileSync(settingsPath, 'utf8'))
  let one
  if (peer === 'nzpir' || peer === 'nzpir-fresh') {
    const { Client } = require('nzpir')
    const check = (r) => {
      if (r.rate === null) throw new Error('no rate')
      return 1
    }
    if (peer === 'nzpir') {
      const client = Client.fromConfig(s.config)
      one = async () => check(await client.lookup({ ird: IRD, pieIrd: PIE_IRD }))
    } else {
      // A new client per call, which also loads its keys and mints a JWT
      // (`max_idle_connections = 0` in the configuration is the fresh
      // connection alone).
      one = async () => check(await Client.fromConfig(s.config).lookup({ ird: IRD, pieIrd: PIE_IRD }))
    }
  } else {
    const jwt = require('jsonwebtoken')
    const url = new URL(s.endpoint)
    const tls = {
      cert: fs.readFileSync(s.client_cert),
      key: fs.readFileSync(s.client_key),
      ca: fs.readFileSync(s.ca_cert),
    }
    const jwtPem = fs.readFileSync(s.jwt_key)
    const jwtKey = crypto.createPrivateKey(jwtPem)
    const sub = thumbprint(fs.readFileSync(s.jwt_cert))
    const sign = (key) => jwt.sign(claims(s.issuer, sub), key, { algorithm: 'RS256', keyid: 'M2M' })
    const reused = sign(jwtKey)
    let token
    if (peer === 'https-reused' || peer === 'https-fresh') token = () => reused
    else if (peer === 'https-percall') token = () => sign(jwtKey)
    // As jsonwebtoken's README shows: the PEM as the key, parsed on every call.
    else if (peer === 'https-percall-pem') token = () => sign(jwtPem)
    else throw new Error(`unknown lookup peer ${peer}`)
    // agent: false is a new connection (and TLS context) per request.
    const agent =
      peer === 'https-fresh' ? false : new https.Agent({ keepAlive: true, maxSockets: 1, ...tls })
    one = async () => {
      const body = JSON.stringify({ IRD: IRD, PieIRD: PIE_IRD })
      const answer = await post(
        {
          hostname: url.hostname,
          port: url.port,
          path: '/gateway/calculators/pir',
          method: 'POST',
          agent,
          ...(agent === false ? tls : {}),
          headers: {
            Authorization: token(),
            'Content-Type': 'application/json; charset=utf-8',
            'Content-Length': Buffer.byteLength(body),
          },
        },
        body,
      )
      if (answer.SuggestedPirRate == null) throw new Error('no rate')
      return 1
    }
  }
  const [n, elapsed] = await timed(secs, one)
  report(peer, n, elapsed)
}

function mint(peer, alg, certPath, keyPath, secs) {
  const certPem = fs.readFileSync(certPath, 'utf8')
  const keyPem = fs.readFileSync(keyPath, 'utf8')
  let one
  if (peer === 'nzpir') {
    const { mintJwt } = require('nzpir')
    // What a user calls: the API takes the PEMs (or paths) every time.
    one = () => (mintJwt({ cert: certPem, key: keyPem, alg, issuer: ISSUER }), 1)
  } else if (peer === 'jsonwebtoken' || peer === 'jsonwebtoken-pem') {
    const jwt = require('jsonwebtoken')
    const sub = thumbprint(certPem)
    const key = peer === 'jsonwebtoken' ? crypto.createPrivateKey(keyPem) : keyPem
    one = () => (jwt.sign(claims(ISSUER, sub), key, { algorithm: alg, keyid: 'M2M' }), 1)
  } else {
    throw new Error(`unknown jwt peer ${peer}`)
  }
  const [n, elapsed] = timedSync(secs, one)
  report(peer, n, elapsed)
}

// Every row of a register (IRD,PieIRD as its first columns) once, N at a time.
async function bulk(peer, settingsPath, registerPath, n) {
  const s = JSON.parse(fs.readFileSync(settingsPath, 'utf8'))
  const rows = fs
    .readFileSync(registerPath, 'utf8')
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((l) => l.split(','))
  let rated = 0
  let start
  if (peer === 'nzpir') {
    const { Client } = require('nzpir')
    const client = Client.fromConfig(s.config)
    await client.lookup({ ird: IRD, pieIrd: PIE_IRD }) // connect and mint the JWT first
    const requests = rows.map(([ird, pieIrd]) => ({ ird, pieIrd }))
    start = now()
    const entries = await client.lookupMany(requests, { concurrency: n })
    rated = entries.filter((e) => e.status === 'fulfilled' && e.value.rate !== null).length
  } else if (peer === 'https-pool') {
    const jwt = require('jsonwebtoken')
    const url = new URL(s.endpoint)
    const agent = new https.Agent({
      keepAlive: true,
      maxSockets: n,
      cert: fs.readFileSync(s.client_cert),
      key: fs.readFileSync(s.client_key),
      ca: fs.readFileSync(s.ca_cert),
    })
    const sub = thumbprint(fs.readFileSync(s.jwt_cert))
    const token = jwt.sign(claims(s.issuer, sub), crypto.createPrivateKey(fs.readFileSync(s.jwt_key)), {
      algorithm: 'RS256',
      keyid: 'M2M',
    })
    const one = async ([ird, pieIrd]) => {
      const body = JSON.stringify({ IRD: ird, PieIRD: pieIrd })
      try {
        const answer = await post(
          {
            hostname: url.hostname,
            port: url.port,
            path: '/gateway/calculators/pir',
            method: 'POST',
            agent,
            headers: {
              Authorization: token,
              'Content-Type': 'application/json; charset=utf-8',
              'Content-Length': Buffer.byteLength(body),
            },
          },
          body,
        )
        if (answer.SuggestedPirRate != null) rated++
      } catch {
        // an error answer counts as done, as in the other peers
      }
    }
    await Promise.all(Array.from({ length: n }, () => one([IRD, PIE_IRD]))) // open n connections
    rated = 0
    start = now()
    let next = 0
    await Promise.all(
      Array.from({ length: n }, async () => {
        while (next < rows.length) await one(rows[next++])
      }),
    )
    agent.destroy()
  } else {
    throw new Error(`unknown bulk peer ${peer}`)
  }
  const secs = now() - start
  report(peer, rows.length, secs, { rated })
}

async function main(argv) {
  const [what, ...rest] = argv
  if (what === 'ird' && rest.length === 3) return ird(rest[0], rest[1], +rest[2])
  if (what === 'lookup' && rest.length === 3) return lookup(rest[0], rest[1], +rest[2])
  if (what === 'jwt' && rest.length === 5) return mint(rest[0], rest[1], rest[2], rest[3], +rest[4])
  if (what === 'bulk' && rest.length === 4) return bulk(rest[0], rest[1], rest[2], +rest[3])
  throw new Error('usage: bench.js ird PEER CORPUS SECONDS | lookup PEER SETTINGS SECONDS | jwt PEER ALG CERT KEY SECONDS')
}

main(process.argv.slice(2)).catch((e) => {
  console.error(`bench.js: ${e && e.stack ? e.stack : e}`)
  process.exit(1)
})
