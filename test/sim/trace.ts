// The run's trace: every event, as one readable line each.
//
// The last `keep` lines are kept for the failure report; when hashing is on,
// every line (ticks included) is folded into a SHA-256 so two runs of one seed
// can be compared bit for bit. Ticks are hashed but not kept: they would push
// the interesting lines out of the tail.
import * as encoding from 'lib0/encoding'
import { digest } from 'lib0/hash/sha256'
import { toHexString } from 'lib0/buffer'
import type { Message } from '../../src/raft/types'

/** Flush the pending bytes into the running hash every this many bytes. */
const CHUNK = 1 << 16

export class Trace {
  private readonly tail: string[] = []
  private next = 0
  private enc: encoding.Encoder | null
  private chained: Uint8Array = new Uint8Array(32)
  private count = 0

  constructor(
    private readonly now: () => number,
    hash: boolean,
    private readonly keep = 200,
  ) {
    this.enc = hash ? encoding.createEncoder() : null
  }

  /** How many events were recorded. */
  get events(): number {
    return this.count
  }

  /** Record one event of `member` (or `*` for the world). */
  line(member: string, text: string): void {
    const line = `${String(this.now()).padStart(7)}ms ${member.padEnd(4)} ${text}`
    this.hashLine(line)
    if (this.tail.length < this.keep) this.tail.push(line)
    else this.tail[this.next] = line
    this.next = (this.next + 1) % this.keep
  }

  /** Record an event that goes into the hash only (ticks). */
  quiet(member: string, text: string): void {
    this.hashLine(`${this.now()} ${member} ${text}`)
  }

  /** The last lines, oldest first. */
  lines(): string[] {
    return this.tail.length < this.keep ? this.tail.slice() : this.tail.slice(this.next).concat(this.tail.slice(0, this.next))
  }

  /** The hash of every event so far (hex), or null when hashing is off. */
  hash(): string | null {
    if (this.enc === null) return null
    this.flush()
    return toHexString(this.chained)
  }

  private hashLine(line: string): void {
    this.count++
    if (this.enc === null) return
    encoding.writeVarString(this.enc, line)
    if (encoding.length(this.enc) >= CHUNK) this.flush()
  }

  private flush(): void {
    const enc = this.enc!
    const chunk = encoding.toUint8Array(enc)
    const both = new Uint8Array(this.chained.length + chunk.length)
    both.set(this.chained)
    both.set(chunk, this.chained.length)
    this.chained = digest(both)
    this.enc = encoding.createEncoder()
  }
}

/** A message in one short line: type, route, term and the fields its type uses. */
export function describeMessage(m: Message): string {
  let s = `${m.type} ${m.from}->${m.to} t${m.term}`
  switch (m.type) {
    case 'MsgApp':
      s += ` prev ${m.index}/${m.logTerm} commit ${m.commit} +${m.entries.length}`
      if (m.entries.length > 0) s += ` [${m.entries[0]!.index}..${m.entries[m.entries.length - 1]!.index}]`
      break
    case 'MsgAppResp':
      s += m.reject ? ` reject ${m.index} hint ${m.rejectHint}/${m.logTerm}` : ` ok ${m.index}`
      break
    case 'MsgVote':
    case 'MsgPreVote':
      s += ` last ${m.index}/${m.logTerm}${m.context !== null ? ' forced' : ''}`
      break
    case 'MsgVoteResp':
    case 'MsgPreVoteResp':
    case 'MsgSnapResp':
      s += m.reject ? ' reject' : ' grant'
      if (m.type === 'MsgSnapResp') s += ` ${m.index}`
      break
    case 'MsgHeartbeat':
      s += ` commit ${m.commit}${m.context !== null ? ' read' : ''}`
      break
    case 'MsgSnap':
      if (m.snapshot !== null) s += ` snap ${m.snapshot.meta.index}/${m.snapshot.meta.term} bytes ${m.snapshot.offset}+${m.snapshot.data.length}/${m.snapshot.total}`
      break
    case 'MsgProp':
      s += ` +${m.entries.length}`
      break
    case 'MsgReadIndexResp':
      s += ` index ${m.index}`
      break
    default:
      break
  }
  return s
}
