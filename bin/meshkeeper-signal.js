#!/usr/bin/env node
// meshkeeper-signal: run the signaling server.
//   meshkeeper-signal --port 4444 [--host 0.0.0.0] [--path /signal] [--allow-origin https://a.example,https://b.example] [--trust-proxy] [--redis redis://host:6379]
// With --redis, every process given the same Redis shares its rooms (pub/sub;
// needs the ioredis package next to meshkeeper).
// An installed package runs the built dist/server.js. In this repository,
// before `npm run build`, it runs the TypeScript source through tsx's ESM
// loader (tsx is a dev dependency), so `node bin/meshkeeper-signal.js` works
// from a fresh checkout.
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`)
  if (i >= 0 && process.argv[i + 1] !== undefined) return process.argv[i + 1]
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`))
  return eq === undefined ? fallback : eq.slice(name.length + 3)
}

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log('usage: meshkeeper-signal [--port 4444] [--host <interface>] [--path <path>] [--allow-origin <origin,...>] [--trust-proxy] [--redis <url>]')
  process.exit(0)
}

const port = Number(arg('port', process.env.PORT ?? '4444'))
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`meshkeeper-signal: bad --port ${arg('port', '')}`)
  process.exit(2)
}
const host = arg('host', undefined)
const path = arg('path', undefined)
const origins = arg('allow-origin', undefined)
const allowOrigins = origins === undefined ? undefined : origins.split(',').filter((o) => o.length > 0)
// behind a reverse proxy: shares per address are counted by X-Forwarded-For
const trustProxy = process.argv.includes('--trust-proxy')
const redis = arg('redis', undefined)

const built = fileURLToPath(new URL('../dist/server.js', import.meta.url))
let server
if (existsSync(built)) {
  server = await import(pathToFileURL(built).href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  server = await import(new URL('../src/server/index.ts', import.meta.url).href)
}

const signaling = await server.startSignalingServer({ port, host, path, allowOrigins, trustProxy, redis })
console.log(`meshkeeper-signal: listening on ${signaling.url} (health: http://${new URL(signaling.url).host}/health)${redis === undefined ? '' : ', rooms shared through Redis'}`)

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  await signaling.close()
  process.exit(0)
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
