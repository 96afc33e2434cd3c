// A flight recorder for the bench's failover trials (issue 17: where do the
// tails come from?). It wraps, in this page only, the member's raft core and
// the driver's hooks that decide an election: (pre)votes sent and received
// with their answers, MsgTimeoutNow, term / role / leader changes, death
// certificates (closeSessions, reportPeerGone with the rank), links that
// went down and signaling presence. Each record has the wall-clock time
// (clock.ts), so failover.ts can lay every survivor's records on one time line
// around the kill. Diagnosis only: it reaches into private fields through
// the tab's diagnostic handle and changes nothing the member does.
import type { Mesh } from '../../../src/index'
import { wallNow } from './clock'

export interface FlightRecord {
  /** wall clock, ms */
  t: number
  /** what happened, in a few words */
  e: string
}

/** At most this many records are kept (the oldest go). */
const MAX_RECORDS = 20000

/** Raft message types that decide an election (every other type is left out: appends and heartbeats are too many). */
const ELECTION_TYPES = new Set(['MsgPreVote', 'MsgPreVoteResp', 'MsgVote', 'MsgVoteResp', 'MsgTimeoutNow', 'MsgTransferLeader'])

/* eslint-disable @typescript-eslint/no-explicit-any -- private fields reached on purpose, bench-side only */
type Any = any

export interface Flight {
  member: string
  /** a record from the page itself (the bench's own steps, e.g. a campaign won) */
  note(e: string): void
  records(since: number): FlightRecord[]
  /** the page is going (pagehide, heard before the mesh's own listener): log each record from now on */
  closing(): void
}

export function recordFlight(mesh: Mesh): Flight {
  const records: FlightRecord[] = []
  // a closing page cannot be asked for its records: from pagehide on, each is
  // also logged to the console, which failover.ts hears until the page is gone
  let closing = false
  const note = (e: string): void => {
    const r = { t: wallNow(), e }
    records.push(r)
    if (records.length > MAX_RECORDS) records.splice(0, records.length - MAX_RECORDS)
    if (closing) console.log(`[flight] ${r.t} ${r.e}`)
  }

  const info = (mesh as unknown as Record<symbol, { diagnosticMember(): Any } | undefined>)[Symbol.for('meshkeeper.browserTab')]
  if (info === undefined) return { member: '?', note: () => undefined, records: () => [], closing: () => undefined }
  const member = info.diagnosticMember()
  const ctx = member.ctx
  const node = ctx.raft
  const core = node.raft
  let last = { term: core.term as number, role: core.role as string, lead: core.lead as string | null }
  const changes = (): void => {
    const now = { term: core.term as number, role: core.role as string, lead: core.lead as string | null }
    if (now.term !== last.term || now.role !== last.role || now.lead !== last.lead) note(`${now.role} term ${now.term} lead ${now.lead ?? '-'}`)
    last = now
  }
  const wrap = (obj: Any, name: string, before: (...args: Any[]) => void): void => {
    const original = obj[name].bind(obj)
    obj[name] = (...args: Any[]): unknown => {
      before(...args)
      const out = original(...args)
      changes()
      return out
    }
  }
  const msg = (m: Any): string => `${m.type} t${m.term}${m.reject === true ? ' REJECT' : ''} idx ${m.index}/${m.logTerm}`
  wrap(node, 'step', (m: Any) => {
    if (ELECTION_TYPES.has(m.type)) note(`<- ${m.from} ${msg(m)} (mine ${core.log.lastIndex()}/${core.log.lastTerm()} vote ${core.vote ?? '-'} lead ${core.lead ?? '-'})`)
  })
  // the replication around the failover: appends and their answers, and each Ready as the loop takes it
  const REPLICATION = new Set(['MsgApp', 'MsgAppResp'])
  const entries = (m: Any): string => (m.entries?.length > 0 ? ` e${m.entries[0].index}-${m.entries[m.entries.length - 1].index}` : '')
  wrap(node, 'step', (m: Any) => {
    if (REPLICATION.has(m.type)) note(`<- ${m.from} ${msg(m)}${entries(m)} commit ${m.commit}`)
  })
  wrap(member.loop, 'take', (_raft: Any, rd: Any) => {
    const hs = rd.hardState == null ? '' : ` hs t${rd.hardState.term}/v${rd.hardState.vote ?? '-'}/c${rd.hardState.commit}`
    const es = rd.entries.length > 0 ? ` e${rd.entries[0].index}-${rd.entries[rd.entries.length - 1].index}` : ''
    const ce = rd.committedEntries.length > 0 ? ` apply ${rd.committedEntries[0].index}-${rd.committedEntries[rd.committedEntries.length - 1].index}` : ''
    note(`ready${hs}${es}${ce} msgs ${rd.messages.length} (in flight ${member.loop.inFlight})`)
  })
  wrap(node, 'tick', () => undefined)
  wrap(node, 'campaign', () => note('campaign (driver)'))
  wrap(node, 'campaignKnowingLeaderless', () => note('campaignKnowingLeaderless'))
  wrap(node, 'reportPeerGone', (id: string, rank: number) => note(`raft.reportPeerGone ${id} rank ${rank} (lead ${core.lead ?? '-'}, elapsed ${core.electionElapsed}/${core.randomizedElectionTimeout})`))
  wrap(ctx, 'sendRaft', (m: Any) => {
    if (ELECTION_TYPES.has(m.type)) note(`-> ${m.to} ${msg(m)}`)
    else if (REPLICATION.has(m.type)) note(`-> ${m.to} ${msg(m)}${entries(m)} commit ${m.commit}`)
  })
  // a raft message the link table could not hand to a link (none open to
  // that peer): dropped, as Raft allows, and otherwise invisible here (a
  // graceful close: a successor's MsgVote that never reached the other
  // survivor cost an election timeout)
  const links = ctx.links
  const send = links.send.bind(links)
  links.send = (peer: string, m: Any): boolean => {
    const ok = send(peer, m) as boolean
    if (!ok && m.type === 'raft') note(`send to ${peer} failed (no open link)`)
    return ok
  }
  wrap(member, 'closeSessions', (sessions: string[]) => note(`certificate: closeSessions ${sessions.join(',')}`))
  wrap(member, 'reportPeerGone', (id: string) => note(`certificate: reportPeerGone ${id}`))
  wrap(member.dispatch, 'message', (peer: string, m: Any) => {
    if (m.type === 'leaving') note(`<- ${peer} leaving`)
  })
  wrap(member.dispatch, 'linkDown', (peer: string, reason: string) => note(`linkDown ${peer} (${reason})`))
  wrap(member.roster, 'presence', (peer: string, present: boolean) => note(`presence ${peer} ${present ? 'here' : 'gone'}`))
  // the election recipe's stages after a device vanished: the leader proposes
  // the gone member's sessions expired, each replica applies it
  const leaderSessions = member.sessions.leader
  const due = leaderSessions.due.bind(leaderSessions)
  leaderSessions.due = (...args: Any[]): unknown => {
    const cmd = due(...args)
    if (cmd !== null) note(`proposes expire-sessions ${(cmd.sessions as string[]).join(',')}`)
    return cmd
  }
  wrap(leaderSessions, 'gone', (sessions: string[]) => note(`applied: sessions gone ${sessions.join(',')}`))
  return {
    member: member.id as string,
    note,
    records: (since) => records.filter((r) => r.t >= since),
    closing: () => {
      closing = true
      note('pagehide')
    },
  }
}
