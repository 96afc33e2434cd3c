// What the writes of one bench window cost in IndexedDB, from the probe's log
// of every tab (browser/idb-probe.ts): per tab and per kind of transaction
// (its stores and durability) how many a committed write costs, how long one
// takes from creation to completion, how long it waited for its turn (to its
// first request's success), and how many transactions of any tab were still
// open when it was created — the queue it joined, as the tabs share one
// backing store.
import type { IdbTx } from './browser/idb-probe'
import type { CommitTimelineRecord } from '../../src/shared/types'
import type { JoinedCommit } from '../../src/driver/commit-timeline-join'

type Put = (key: string, value: number | null, unit: 'ms' | 'count', more?: { n?: number }) => void

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor((s.length - 1) / 2)]!
}

const kindOf = (t: IdbTx): string => `${t.stores.join('+')}.${t.durability}`

export function putIdbFigures(key: string, tabs: readonly string[], logs: readonly IdbTx[][], writes: number, put: Put): void {
  const all = logs.flat().filter((t) => t.ended !== undefined)
  const lines: string[] = []
  logs.forEach((log, i) => {
    const byKind = new Map<string, IdbTx[]>()
    for (const t of log) if (t.ended !== undefined) byKind.set(kindOf(t), [...(byKind.get(kindOf(t)) ?? []), t])
    for (const [kind, txs] of byKind) {
      const k = `${key}.${tabs[i]}.${kind}`
      const took = median(txs.map((t) => t.ended! - t.created))
      const waited = median(txs.filter((t) => t.started !== undefined).map((t) => t.started! - t.created))
      const queue = median(txs.map((t) => all.filter((o) => o !== t && o.created <= t.created && o.ended! > t.created).length))
      put(`${k}.perWrite`, txs.length / writes, 'count', { n: txs.length })
      put(`${k}.took.p50`, took, 'ms', { n: txs.length })
      put(`${k}.turn.p50`, waited, 'ms', { n: txs.length })
      put(`${k}.openBefore.p50`, queue, 'count', { n: txs.length })
      lines.push(`  ${tabs[i]!.padEnd(9)} ${kind.padEnd(32)} ${(txs.length / writes).toFixed(2)}/write  took ${took?.toFixed(2)} ms  turn ${waited?.toFixed(2)} ms  open before ${queue}`)
    }
  })
  console.log(`  IndexedDB readwrite transactions during ${writes} writes (${key}):\n${lines.join('\n')}`)
}

/**
 * Where each member's save of a write's entry spends its time, per tab: from
 * the instant the entry reached the member (the leader: proposed; a
 * follower: the leader's first MsgApp carrying it, appSent) to its
 * transaction() (`toTx`: the Ready loop, the storage's queue behind its own
 * earlier saves, and for a follower the link), the transaction
 * (`turn`: to its first request's success; `took`: to complete), and from
 * complete to the member stamping the save done (`toStamp`: the Ready loop
 * finishing earlier Readies). `behindOwn` is how long the same tab's
 * previous readwrite transaction was still open after that instant (0 when
 * it had ended): the part of `toTx` spent queued behind its own saves. The
 * probe's records carry the entry indexes each transaction put (idb-probe.ts).
 */
export function putSaveStages(key: string, tabs: readonly string[], logs: readonly IdbTx[][], records: readonly CommitTimelineRecord[][], commits: readonly JoinedCommit[], put: Put): void {
  const lines: string[] = []
  logs.forEach((log, i) => {
    const member = records[i]!.find(() => true)?.member
    const ended = log.filter((t) => t.ended !== undefined).sort((a, b) => a.created - b.created)
    const parts: Record<'toTx' | 'turn' | 'took' | 'toStamp' | 'total' | 'behindOwn', number[]> = { toTx: [], turn: [], took: [], toStamp: [], total: [], behindOwn: [] }
    for (const c of commits) {
      const leader = c.leader === member
      const from = leader ? c.stages.proposed : c.stages.appSent
      const rec = records[i]!.find((r) => r.index === c.index && r.term === c.term)
      const done = leader ? rec?.stages.leaderPersisted : rec?.stages.followerPersisted
      const at = ended.findIndex((t) => t.durability !== 'relaxed' && (t.entries ?? []).includes(c.index))
      if (from === undefined || done === undefined || at < 0) continue
      const tx = ended[at]!
      const before = ended.slice(0, at).reduce((m, t) => Math.max(m, t.ended!), -Infinity)
      parts.toTx.push(tx.created - from)
      if (tx.started !== undefined) parts.turn.push(tx.started - tx.created)
      parts.took.push(tx.ended! - tx.created)
      parts.toStamp.push(done - tx.ended!)
      parts.total.push(done - from)
      parts.behindOwn.push(Math.max(0, before - from))
    }
    const figs = (Object.keys(parts) as (keyof typeof parts)[]).map((p) => {
      const m = median(parts[p])
      put(`${key}.${tabs[i]}.${p}.p50`, m, 'ms', { n: parts[p].length })
      return `${p} ${m?.toFixed(2)}`
    })
    lines.push(`  ${tabs[i]!.padEnd(9)} n ${parts.total.length}  ${figs.join('  ')}`)
  })
  console.log(`  each member's save of a write's entry, medians in ms (${key}; from proposed at the leader, appSent at a follower):\n${lines.join('\n')}`)
}
