// Random command sequences (fast-check) against the tree's invariants:
// a failed or deduped txn changes nothing a reader can see, and after every
// entry the tree is well formed (ZooKeeper's structural rules hold).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ZTree } from '../../src/tree/ztree'
import { arbLog } from './arbitraries'

/** what a reader can see: nodes with stats and data, sessions */
const visible = (t: ZTree): string => {
  const out: unknown[] = []
  const walk = (path: string): void => {
    const g = t.get(path)!
    out.push(path, g.stat, Array.from(g.data))
    for (const c of t.children(path)!) walk(path === '/' ? '/' + c : path + '/' + c)
  }
  walk('/')
  return JSON.stringify([out, t.sessions().map((s) => t.session(s))])
}

const checkWellFormed = (t: ZTree): void => {
  const owners = new Map<string, string[]>()
  const walk = (path: string): void => {
    const stat = t.stat(path)!
    const kids = t.children(path)!
    expect(stat.numChildren).toBe(kids.length)
    expect(stat.mzxid).toBeGreaterThanOrEqual(stat.czxid)
    expect(stat.pzxid).toBeGreaterThanOrEqual(stat.czxid)
    expect(stat.pzxid).toBeLessThanOrEqual(t.lastZxid)
    if (stat.ephemeralOwner !== null) {
      expect(kids).toEqual([]) // no children under ephemerals
      owners.set(stat.ephemeralOwner, [...(owners.get(stat.ephemeralOwner) ?? []), path])
    }
    for (const c of kids) walk(path === '/' ? '/' + c : path + '/' + c)
  }
  walk('/')
  // every ephemeral's owner is a live session that lists it, and nothing else
  for (const s of t.sessions()) expect(t.session(s)!.ephemerals).toEqual((owners.get(s) ?? []).sort())
  for (const owner of owners.keys()) expect(t.session(owner)).not.toBeNull()
}

describe('tree invariants under random command sequences', () => {
  it('failed and deduped txns change nothing visible; the tree stays well formed', () => {
    let applied = 0
    let failed = 0
    fc.assert(
      fc.property(arbLog(80), (cmds) => {
        const t = new ZTree()
        cmds.forEach((cmd, i) => {
          const before = visible(t)
          const out = t.apply(i + 1, cmd)
          if (cmd.type === 'txn' && (!out.result.ok || out.deduped)) {
            expect(visible(t)).toBe(before)
            expect(out.events).toEqual([])
            failed++
          } else if (cmd.type === 'txn') {
            applied++
          }
          for (const e of out.events) expect(e.zxid).toBe(i + 1)
          checkWellFormed(t)
        })
      }),
      { numRuns: 200 },
    )
    // the generator must reach both outcomes, or this test checks little
    expect(applied).toBeGreaterThan(100)
    expect(failed).toBeGreaterThan(100)
  })
})
