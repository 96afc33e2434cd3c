// What the writes of one bench window cost in IndexedDB, from the probe's log
// of every tab (browser/idb-probe.ts): per tab and per kind of transaction
// (its stores and durability) how many a committed write costs, how long one
// takes from creation to completion, how long it waited for its turn (to its
// first request's success), and how many transactions of any tab were still
// open when it was created — the queue it joined, as the tabs share one
// backing store.
import type { IdbTx } from './browser/idb-probe'

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
