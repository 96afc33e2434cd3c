// Message dispatch: every node message from a peer, and every link going up
// or down, lands here and is handed to the piece it concerns — raft messages
// to the core (after the consensus gate), forwards and session heartbeats to
// the leader's duties, joins, leavings and rosters to the roster, cluster
// claims to cluster identity.
//
// Every byte from the network is untrusted (invariant 6): the links decoded
// the frame; here each message is checked against who sent it (a peer speaks
// only for itself, forwards only for its own sessions, within its budget:
// peer-budget.ts). What fails a check is dropped, changes nothing, and is
// reported with BAD_MESSAGE, and the transport refuses the peer for a while.
import type { Message } from '../raft/types'
import { decodeRaftMessage } from '../wire/raft-codec'
import { decodeCommand } from '../tree/command'
import type { Command } from '../tree/types'
import { MeshError, toMeshError } from '../shared/errors'
import type { NodeMessage } from '../wire/node-messages'
import type { ClusterIdentity } from './cluster-identity'
import type { CheckedForward, ForwardIntake } from './forward-intake'
import type { MemberContext } from './member-context'
import type { NoQuorumHandling } from './no-quorum'
import { checkForwardSize, checkForwardedCommand, ownsSession } from './peer-budget'
import type { Roster } from './roster'
import type { SessionKeeper } from './sessions'
import { CLOSED_BY_PEER } from '../transport/types'

export class MessageDispatch {
  constructor(
    private readonly ctx: MemberContext,
    /** leader only: peers' checked forwards, charged to their budgets and proposed */
    private readonly intake: ForwardIntake,
    private readonly roster: Roster,
    private readonly sessions: SessionKeeper,
    private readonly identity: ClusterIdentity,
    private readonly quorum: NoQuorumHandling,
  ) {}

  message(peer: string, msg: NodeMessage): void {
    const ctx = this.ctx
    if (ctx.stopped || !ctx.running) return
    const now = ctx.clock.now()
    this.roster.heard(peer, now)
    this.quorum.contact.heard(peer)
    // our session keepalive must not wait for timers a hidden tab's browser throttles
    if (peer === ctx.lead && !ctx.isLeader) this.sessions.own.leaderHeard()
    switch (msg.type) {
      case 'raft': {
        let m: Message
        try {
          m = decodeRaftMessage(msg.bytes)
        } catch (err) {
          this.badInput(peer, err)
          return
        }
        // only members of our cluster (or newcomers) take part in our consensus
        if (!this.identity.acceptsRaftFrom(peer)) return
        // a peer speaks only for itself, and only to us
        if (m.from !== peer || m.to !== ctx.id) {
          this.badInput(peer, new MeshError('BAD_MESSAGE', `raft message from ${m.from} to ${m.to} on the link of ${peer}`))
          return
        }
        this.quorum.contact.heardRaft(peer, m)
        ctx.timeline?.heard(m)
        ctx.raft.step(m)
        ctx.control.pump()
        return
      }
      case 'forward':
        this.forwarded(peer, [msg.command])
        return
      case 'forwards':
        this.forwarded(peer, msg.commands)
        return
      case 'session-heartbeat': {
        if (!ctx.isLeader) return
        // a session is kept alive only by the member that owns it (its id is public in ephemeralOwner)
        const foreign = msg.sessions.find((s) => !ownsSession(peer, s))
        if (foreign !== undefined) this.badInput(peer, new MeshError('BAD_MESSAGE', `${peer} sent a heartbeat for another member's session (${foreign})`))
        else this.sessions.leader.touch(msg.sessions, now)
        return
      }
      case 'join':
        if (msg.member.member !== peer) return
        if (ctx.isLeader) this.identity.hintLogEnd(peer)
        // a newcomer's first ask: the leader lets it in now, not at its next round
        if (this.roster.joined(peer, msg.member) && ctx.isLeader) {
          this.roster.membershipRound(now, true)
          ctx.control.pump()
        }
        return
      case 'leaving':
        if (msg.member !== peer) return
        this.roster.left(peer)
        return
      case 'cluster':
        this.identity.heardClaim(peer, msg)
        return
      case 'roster':
        if (peer !== ctx.lead) return
        this.roster.fromLeader(msg.members)
        return
    }
  }

  /**
   * Leader only: a peer's forwarded commands (one `forward`, or a `forwards`
   * batch). Every command is decoded and checked (peer-budget.ts: only client
   * commands, only for the peer's own sessions, within the size limits)
   * before any is proposed: one bad command refuses the whole batch as bad
   * input, and nothing of it enters the log. Then the intake charges each to
   * the peer's budget one by one (forward-intake.ts): proposed together, or
   * waiting for room, or dropped quietly (its requester resends).
   */
  private forwarded(peer: string, encoded: readonly Uint8Array[]): void {
    const ctx = this.ctx
    // (a leader still saving the Ready that made it one takes them too: forward-intake.ts)
    if (!ctx.proposesHere) return // the requester resends to the leader it learns of
    const mayClose = (x: string, y: string): boolean => this.roster.mayCloseSessionsOf(x, y)
    const checked: CheckedForward[] = []
    for (const bytes of encoded) {
      let cmd: Command
      try {
        cmd = decodeCommand(bytes)
      } catch (err) {
        this.badInput(peer, err)
        return
      }
      const refused = checkForwardSize(bytes.length) ?? checkForwardedCommand(peer, cmd, mayClose)
      if (refused instanceof MeshError) {
        this.badInput(peer, refused)
        return
      }
      checked.push({ cmd, bytes: bytes.length })
    }
    this.intake.offer(peer, checked)
  }

  linkUp(peer: string, hello: { member: string; browser: string }): void {
    const ctx = this.ctx
    this.roster.linkUp(peer, hello, ctx.clock.now())
    // introduce our cluster first: the link is ordered, so the peer knows it
    // before any raft message of ours arrives (links open at start are
    // introduced right after the table exists)
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- links is undefined until start (declared with `!`)
    if (ctx.links !== undefined) ctx.links.send(peer, this.identity.claim())
    // a newcomer asks at once rather than at its next join round
    this.identity.askSoon()
    // a member of ours (a reloaded tab) learns who leads now, not at the next heartbeat
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- raft is undefined until start (declared with `!`)
    if (ctx.raft !== undefined && ctx.isLeader) {
      ctx.raft.reportLinked(peer)
      ctx.control.pump()
    }
  }

  linkDown(peer: string, reason: string): void {
    const ctx = this.ctx
    // only the peer's own close says it went; a failed link may be a partition
    if (reason === CLOSED_BY_PEER) this.roster.linkDown(peer, ctx.clock.now())
    if (ctx.isLeader) ctx.raft.reportUnreachable(peer)
    ctx.control.pump()
  }

  /** A peer sent what we do not accept: the message is dropped (it changed
   *  nothing), the app hears BAD_MESSAGE, and the transport drops the peer's
   *  link and refuses it for a while — a peer that sends one malformed message
   *  is broken or hostile, and would send the next. */
  badInput(peer: string, err: unknown): void {
    const e = toMeshError(err, 'BAD_MESSAGE')
    this.ctx.emit('error', [e.code === 'BAD_MESSAGE' ? e : new MeshError('BAD_MESSAGE', `from ${peer}: ${e.message}`, { cause: err })])
    this.ctx.opts.transport.refuse?.(peer, e.message)
  }
}
