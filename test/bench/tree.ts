// npm run bench:tree — figures for src/tree (printed, never asserted: the machine is noisy).
//   1. apply rate of small single-op `set` txns (goal ≥ 500,000/s on one core),
//      alone and with decodeCommand in front (what a member does per entry)
//   2. a 100,000-node snapshot: encode, restore (decode + validate), digest (goal < 1 s each)
import { decodeCommand, encodeCommand } from '../../src/tree/command'
import { ZTree } from '../../src/tree/ztree'
import type { Command } from '../../src/tree/types'

const time = <T>(f: () => T): [T, number] => {
  const t0 = performance.now()
  const out = f()
  return [out, performance.now() - t0]
}
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')

function setRate(n: number, decode: boolean): number {
  const tree = new ZTree()
  let zxid = 0
  tree.apply(++zxid, { type: 'open-session', session: 'bench', timeoutMs: 10_000, time: 0 })
  tree.apply(++zxid, {
    type: 'txn',
    session: 'bench',
    seq: 0,
    ackedBelow: 0,
    multi: false,
    ops: [{ op: 'create', path: '/counter', data: new Uint8Array(8), mode: 'persistent' }],
    time: 0,
  })
  const data = new Uint8Array(16)
  const cmds: Command[] = []
  for (let i = 1; i <= n; i++) {
    // the client acknowledges as it goes, so the dedup table stays small (its steady state)
    cmds.push({ type: 'txn', session: 'bench', seq: i, ackedBelow: i, multi: false, ops: [{ op: 'set', path: '/counter', data, version: -1 }], time: i })
  }
  const encoded = decode ? cmds.map(encodeCommand) : []
  const [, ms] = time(() => {
    if (decode) for (let i = 0; i < n; i++) tree.apply(++zxid, decodeCommand(encoded[i]!))
    else for (let i = 0; i < n; i++) tree.apply(++zxid, cmds[i]!)
  })
  if (tree.stat('/counter')!.version !== n) throw new Error('bench: sets were not applied')
  return (n / ms) * 1000
}

function bigTree(nodes: number): ZTree {
  const tree = new ZTree()
  let zxid = 0
  tree.apply(++zxid, { type: 'open-session', session: 'bench', timeoutMs: 10_000, time: 0 })
  const data = new TextEncoder().encode('some value 0123')
  let seq = 0
  const create = (path: string): void => {
    const r = tree.apply(++zxid, {
      type: 'txn',
      session: 'bench',
      seq,
      ackedBelow: seq++,
      multi: false,
      ops: [{ op: 'create', path, data, mode: 'persistent' }],
      time: zxid,
    }).result
    if (!r.ok) throw new Error(`bench: create ${path}: ${r.code}`)
  }
  const fanout = 1_000
  let made = 1
  for (let p = 0; made < nodes; p++) {
    const parent = `/group-${String(p).padStart(4, '0')}`
    create(parent)
    made++
    for (let c = 0; c < fanout - 1 && made < nodes; c++, made++) create(`${parent}/node-${c}`)
  }
  return tree
}

const N = Number(process.argv[2] ?? 1_000_000)
const NODES = 100_000
const best = <T>(runs: number, f: () => T): [T, number] => {
  let out!: T
  let ms = Infinity
  for (let i = 0; i < runs; i++) {
    const [o, t] = time(f)
    out = o
    ms = Math.min(ms, t)
  }
  return [out, ms]
}

// snapshot figures first, on a fresh heap
const [tree, buildMs] = time(() => bigTree(NODES))
console.log(`build ${fmt(tree.nodeCount)} nodes by apply: ${fmt(buildMs)} ms`)
const [snap, encodeMs] = best(3, () => tree.snapshot())
const [restored, decodeMs] = best(3, () => ZTree.restore(snap))
const [digest, digestMs] = time(() => tree.digest())
if (restored.digest() !== digest) throw new Error('bench: restored digest differs')
console.log(`snapshot of ${fmt(NODES)} nodes: ${(snap.length / 1e6).toFixed(2)} MB (best of 3)`)
console.log(`  encode:  ${fmt(encodeMs)} ms  (goal < 1000 ms)`)
console.log(`  restore: ${fmt(decodeMs)} ms  (goal < 1000 ms)`)
console.log(`  digest:  ${fmt(digestMs)} ms  (snapshot + SHA-256)`)

// warm up the JIT, then measure
setRate(50_000, false)
setRate(50_000, true)
const applyRate = setRate(N, false)
const decodeApplyRate = setRate(N, true)
console.log(`apply, small set txns:            ${fmt(applyRate)} /s  (${fmt(N)} sets; goal ≥ 500,000/s)`)
console.log(`decodeCommand + apply, same sets: ${fmt(decodeApplyRate)} /s`)
