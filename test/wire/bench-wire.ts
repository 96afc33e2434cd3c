// Wire figures: `npx tsx test/wire/bench-wire.ts`. Prints, asserts nothing
// about speed (the machine is shared and noisy).
import type { Message } from '../../src/raft/types'
import { decodeRaftMessage, encodeRaftMessage } from '../../src/wire/raft-codec'
import { openEnvelope, sealEnvelope } from '../../src/wire/envelope'
import { ReplayGuard, SealCounter } from '../../src/wire/replay'
import { deriveRoomKey } from '../../src/wire/room-key'
import { open, seal } from '../../src/wire/seal'

const ENTRIES = 64
const ENTRY_BYTES = 32

const msgApp: Message = {
  type: 'MsgApp',
  from: 'member-a1',
  to: 'member-b2',
  term: 12,
  logTerm: 12,
  index: 100_000,
  commit: 99_990,
  reject: false,
  rejectHint: 0,
  context: null,
  snapshot: null,
  entries: Array.from({ length: ENTRIES }, (_, i) => ({ term: 12, index: 100_001 + i, type: 'normal' as const, data: new Uint8Array(ENTRY_BYTES).fill(i) })),
}

function timeSync(label: string, iterations: number, fn: () => void, bytesPer = 0): void {
  for (let i = 0; i < Math.min(1000, iterations); i++) fn() // warm up
  const t0 = performance.now()
  for (let i = 0; i < iterations; i++) fn()
  const ms = performance.now() - t0
  const per = (ms * 1000) / iterations
  const mbps = bytesPer > 0 ? `, ${((bytesPer * iterations) / (ms / 1000) / 1e6).toFixed(1)} MB/s` : ''
  console.log(`${label.padEnd(44)} ${per.toFixed(2).padStart(8)} µs/op, ${Math.round(iterations / (ms / 1000)).toLocaleString('en').padStart(9)} ops/s${mbps}`)
}

async function timeAsync(label: string, iterations: number, fn: () => Promise<unknown>, bytesPer = 0): Promise<void> {
  for (let i = 0; i < Math.min(200, iterations); i++) await fn()
  const t0 = performance.now()
  for (let i = 0; i < iterations; i++) await fn()
  const ms = performance.now() - t0
  const per = (ms * 1000) / iterations
  const mbps = bytesPer > 0 ? `, ${((bytesPer * iterations) / (ms / 1000) / 1e6).toFixed(1)} MB/s` : ''
  console.log(`${label.padEnd(44)} ${per.toFixed(2).padStart(8)} µs/op, ${Math.round(iterations / (ms / 1000)).toLocaleString('en').padStart(9)} ops/s${mbps}`)
}

async function main(): Promise<void> {
  const encoded = encodeRaftMessage(msgApp)
  console.log(`MsgApp with ${ENTRIES} entries of ${ENTRY_BYTES} bytes: ${encoded.length} bytes encoded`)
  timeSync('encodeRaftMessage(MsgApp x64)', 20_000, () => void encodeRaftMessage(msgApp), encoded.length)
  timeSync('decodeRaftMessage(MsgApp x64) incl. validation', 20_000, () => void decodeRaftMessage(encoded), encoded.length)
  const heartbeat = encodeRaftMessage({ ...msgApp, type: 'MsgHeartbeat', entries: [], logTerm: 0, index: 0 })
  timeSync(`decodeRaftMessage(MsgHeartbeat, ${heartbeat.length} B)`, 200_000, () => void decodeRaftMessage(heartbeat))

  let t0 = performance.now()
  const key = await deriveRoomKey('correct horse battery staple', 'bench-room')
  console.log(`deriveRoomKey (PBKDF2 210,000 rounds + HKDF)      ${(performance.now() - t0).toFixed(0)} ms, once per join`)

  const small = new Uint8Array(100)
  const aad = new Uint8Array(24)
  const sealedSmall = await seal(key, small, aad)
  await timeAsync('seal 100 B', 5_000, () => seal(key, small, aad))
  await timeAsync('open 100 B', 5_000, () => open(key, sealedSmall, aad))
  const sealedApp = await seal(key, encoded, aad)
  await timeAsync(`seal MsgApp x64 (${encoded.length} B)`, 5_000, () => seal(key, encoded, aad), encoded.length)
  await timeAsync(`open MsgApp x64 (${encoded.length} B)`, 5_000, () => open(key, sealedApp, aad), encoded.length)

  const counter = new SealCounter()
  const frames: Uint8Array[] = []
  t0 = performance.now()
  for (let i = 0; i < 5_000; i++) frames.push(await sealEnvelope(key, { kind: 0, sender: 'member-a1', body: encoded }, counter))
  let ms = performance.now() - t0
  console.log(`${'sealEnvelope(MsgApp x64) with counter'.padEnd(44)} ${((ms * 1000) / 5_000).toFixed(2).padStart(8)} µs/op`)
  const guard = new ReplayGuard()
  t0 = performance.now()
  for (const f of frames) await openEnvelope(key, f, guard)
  ms = performance.now() - t0
  console.log(`${'openEnvelope(MsgApp x64) with replay check'.padEnd(44)} ${((ms * 1000) / frames.length).toFixed(2).padStart(8)} µs/op`)
}

await main()
