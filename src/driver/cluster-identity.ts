// Which cluster this member belongs to, and what it does when that changes.
//
// A member is born into a cluster (bootstrap), adopts one (a newcomer added
// by a leader), or loses one (its cluster lost a meet: cluster-meet.ts has
// the rule). Kept apart because these are the only moments a member's
// identity changes, and a divergence is the one place the member throws its
// whole state away and starts over: every step of it, in its order, is here.
// The same identity gates consensus: only our cluster's members (or
// newcomers we may join) reach our core (consensus-gate.ts).
import { RawNode } from '../raft/index'
import { MeshError } from '../shared/errors'
import type { ConfState } from '../raft/types'
import type { MemberRecord, SaveBatch } from '../storage/types'
import type { ClusterClaim, NodeMessage } from '../wire/node-messages'
import { ClusterMeet, divergedTree, newClusterId } from './cluster-meet'
import { acceptsRaftFrom, inConfiguration } from './consensus-gate'
import type { MemberContext } from './member-context'
import type { NoQuorumHandling } from './no-quorum'
import { raftConfig } from './options'
import type { Roster } from './roster'
import type { SessionKeeper } from './sessions'

export class ClusterIdentity {
  /** our cluster, the claims of the clusters we meet, and the rule between them */
  private readonly meet: ClusterMeet
  private lastJoinAt = -Infinity

  constructor(
    private readonly ctx: MemberContext,
    private readonly roster: Roster,
    private readonly sessions: SessionKeeper,
    private readonly quorum: NoQuorumHandling,
  ) {
    this.meet = new ClusterMeet(
      {
        self: ctx.id,
        browser: ctx.browser,
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- links is undefined until start (declared with `!`)
        linked: (peer) => ctx.links?.has(peer),
        conf: () => ctx.raft.status().conf,
        commit: () => ctx.raft.status().commit,
        leader: () => ctx.lead,
        browserOf: (m) => roster.browserOf(m),
      },
      // a claim must outlast a few election timeouts before a leader acts on it
      ctx.timing.tickMs * ctx.timing.electionTicks * 3,
    )
  }

  /**
   * A member starts on its slot as loaded (`record`; null for a new slot):
   * the cluster it belongs to is the one its slot recorded, or, for a new
   * slot told to found one (`bootstrap`), a new cluster with its first
   * configuration. A new slot's first save records its meta with that id.
   */
  adoptSlot(record: MemberRecord | null): { firstSave: SaveBatch | null; bootstrap: ConfState | undefined } {
    const { ctx } = this
    if (record !== null) {
      this.clusterId = record.meta.clusterId === '' ? null : record.meta.clusterId
      return { firstSave: null, bootstrap: undefined }
    }
    let bootstrap: ConfState | undefined
    if (ctx.opts.bootstrap === true) {
      // a new cluster; its id carries no time (the meet rule reads no clock)
      const voters = ctx.opts.bootstrapVoters ?? [ctx.id]
      this.clusterId = ctx.opts.clusterId ?? newClusterId(ctx.id, ctx.opts.random, voters)
      bootstrap = { voters: [...voters], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }
    }
    return { firstSave: { meta: { member: ctx.id, clusterId: this.clusterId ?? '', createdAt: ctx.clock.now() } }, bootstrap }
  }

  /** the cluster this member belongs to; null for a newcomer that joined none yet */
  get clusterId(): string | null {
    return this.meet.clusterId
  }

  set clusterId(id: string | null) {
    this.meet.clusterId = id
  }

  /** the leader our cluster's (or the one we would join) claims name, if any (cluster-meet.ts) */
  claimedLeader(): string | null {
    return this.meet.claimedLeader()
  }

  /** which linked peers a newcomer still weighs before it narrows its links (link-policy.ts, Reach);
   *  the cluster it means to join is weighed once, at the first question */
  weighing(): (peer: string) => boolean {
    let target: string | null | undefined
    return (peer) => this.meet.weighs(peer, (target ??= this.meet.clusterId ?? this.meet.best()))
  }

  /** our claim, as every peer hears it */
  claim(): ClusterClaim {
    return this.meet.claim()
  }

  /** A newcomer asks at once rather than at its next join round. */
  askSoon(): void {
    this.lastJoinAt = -Infinity
  }

  /** May a raft message from `peer` reach our core? (consensus-gate.ts; it runs
   *  on every raft message, so the meet's weighing is asked for only when needed) */
  acceptsRaftFrom(peer: string): boolean {
    const ctx = this.ctx
    const conf = ctx.raft.status().conf
    return acceptsRaftFrom(peer, {
      self: ctx.id,
      conf,
      clusterId: this.meet.clusterId,
      peerCluster: this.meet.clusterOf(peer),
      joining: () => this.meet.best(),
      vouched: () => this.meet.leaderVouchedFor(peer, (q) => inConfiguration(conf, q)),
    })
  }

  /** Leader: `peer` asks to join. Its first MsgApp, once a configuration
   *  adds it, starts where its claim says its log agrees with ours (0 for a
   *  newcomer: every entry, or our snapshot) rather than with a probe after
   *  our last index that an empty newcomer can only refuse (issue 17). */
  hintLogEnd(peer: string): void {
    const end = this.meet.claimedLogEnd(peer)
    if (end !== undefined) this.ctx.raft.hintLogEnd(peer, end)
  }

  /** A peer's claim: evidence for the meet rule, weighed on our ticks; only
   *  our own leader's decision to yield is followed at once. */
  heardClaim(peer: string, msg: ClusterClaim): void {
    const ctx = this.ctx
    if (this.meet.heard(peer, msg)) ctx.links.send(peer, this.meet.claim())
    const winner = this.meet.yieldOrder(peer, ctx.lead, msg)
    if (winner !== null) {
      void this.diverge(winner)
      return
    }
    // a newcomer asks the cluster it just heard of at once, not at its next
    // tick: a new tab's first write waits for it to be let in
    if (!ctx.isLeader && !ctx.diverging) this.askToJoin(ctx.clock.now())
    // no leader known yet, and now one is claimed: our session's open and
    // writes go to it now (MemberContext.routeLead), beside our join
    if (ctx.routeTo.lead === null && ctx.running && !ctx.stopped && !ctx.diverging && ctx.routeLead() !== null) {
      this.sessions.own.leaderKnown()
      this.sessions.requests.leaderKnown()
    }
  }

  /** The meet rule, on every tick: a leader whose cluster stayed lighter than
   *  another yields for its cluster (followers follow it); see cluster-meet.ts. */
  evaluate(now: number): void {
    const ctx = this.ctx
    if (ctx.diverging) return
    const winner = this.meet.evaluate(now, { leading: ctx.isLeader, leaderless: ctx.lead === null })
    if (winner === null) return
    this.meet.yieldTo(winner)
    // the followers hear the decision before our claim turns newcomer's
    ctx.links.broadcast(this.meet.claim())
    void this.diverge(winner)
  }

  /** A newcomer that applied its first configuration belongs to the cluster that added it. */
  adopt(): void {
    const ctx = this.ctx
    if (this.meet.clusterId !== null) return
    const conf = ctx.raft.status().conf
    if (!conf.voters.includes(ctx.id) && !conf.learners.includes(ctx.id)) return
    // eslint-disable-next-line @typescript-eslint/prefer-nullish-coalescing -- a peer that said '' (no cluster yet) falls through to best() too
    const cluster = (ctx.lead !== null ? this.meet.clusterOf(ctx.lead) : undefined) || this.meet.best()
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a claim's cluster id is decoded from a peer message
    if (cluster === null || cluster === undefined || cluster === '') return
    this.meet.clusterId = cluster
    ctx.storage.save({ meta: { member: ctx.id, clusterId: cluster, createdAt: ctx.clock.now() } }).catch((err: unknown) => ctx.failStorage(err))
    ctx.links.broadcast(this.meet.claim())
  }

  /** A member outside the configuration (or without a leader) keeps asking every peer to let it in. */
  askToJoin(now: number): void {
    const ctx = this.ctx
    const inConf = ctx.inConfiguration(ctx.raft.status().conf)
    // a member that hears no leader may have been removed while it was away
    // (its own view of the configuration is stale): it asks too — a learner,
    // which never campaigns, may follow a leader long deposed
    if (ctx.leaving || (inConf && this.quorum.contact.leaderInTouch(ctx.lead)) || now - this.lastJoinAt < ctx.timing.joinEveryMs) return
    // ask only the cluster we mean to join: the winner among those we met
    const target = this.meet.clusterId ?? this.meet.best()
    const msg: NodeMessage = { type: 'join', member: { member: ctx.id, browser: ctx.browser, visible: ctx.visible() } }
    for (const peer of ctx.links.peers()) {
      const theirs = this.meet.clusterOf(peer)
      if (theirs === undefined || theirs === '' || theirs !== target) continue
      ctx.links.send(peer, msg)
      // paced only once someone was asked: a round with no claim heard yet
      // (a link up before the member started) leaves the next claim to ask
      this.lastJoinAt = now
    }
  }

  /**
   * A leader of our own cluster contradicted our committed log: it was taken
   * over (`forceNewCluster`) without writes we had. Same as a lost meet: the
   * app gets our tree (`diverged`, `forced`), we start over as a newcomer.
   */
  divergeForced(): void {
    void this.diverge(this.meet.clusterId ?? '', true)
  }

  /**
   * Our cluster lost a meet (cluster-meet.ts). The app gets our tree as it
   * was, readable (`diverged`), the slot is wiped, and this member starts over as
   * a newcomer of the winner (learner first, promoted by its policy). Writes
   * and reads in flight fail with SESSION_EXPIRED: their session is gone.
   */
  private async diverge(winner: string, forced = false): Promise<void> {
    const ctx = this.ctx
    if (ctx.diverging || ctx.stopped) return
    ctx.diverging = true
    ctx.running = false
    ctx.control.pauseTicks()
    ctx.emit('diverged', [divergedTree(ctx.tree, this.meet.clusterId ?? '', winner, forced)])
    ctx.connection.lost()
    try {
      if (ctx.opts.reopenStorage === undefined) throw new MeshError('STORAGE', 'this cluster lost to an older one and the member cannot reopen its slot to start over')
      await ctx.storage.destroy()
      ctx.storage = await ctx.opts.reopenStorage()
      ctx.storage.onFailure?.((err) => ctx.failStorage(err))
      await ctx.storage.save({ meta: { member: ctx.id, clusterId: '', createdAt: ctx.clock.now() } })
    } catch (err) {
      ctx.diverging = false
      ctx.failStorage(err)
      return
    }
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop() may run during the awaits above
    if (ctx.stopped) return
    this.meet.reset()
    ctx.raft = new RawNode(raftConfig(ctx.opts, ctx.timing, null, undefined))
    ctx.tree = ctx.newTree()
    ctx.appliedIndex = 0
    ctx.snapshotIndex = 0
    ctx.lead = null
    ctx.role = 'follower'
    ctx.term = 0
    ctx.routeTo = { lead: null, term: 0 }
    this.roster.forgetRequests()
    this.sessions.reads.failAll(new MeshError('SESSION_EXPIRED', 'the cluster diverged; its state is gone'))
    this.sessions.newSession()
    ctx.leaderChanged = true
    this.lastJoinAt = -Infinity
    ctx.diverging = false
    ctx.running = true
    ctx.links.broadcast(this.meet.claim())
    ctx.control.resumeTicks()
  }
}
