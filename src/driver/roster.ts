// What this member knows about the others, and what the leader's membership
// policy (membership.ts) decides from it.
//
// The configuration (who votes, who learns) is the core's; everything else
// about a member is here: its browser and visibility (from hellos, joins and
// the leader's roster broadcast), who asked to join, who left or was
// certified dead, and when each was last heard. Kept apart from the Ready
// loop and the dispatch because these facts arrive from many directions and
// only the leader's periodic membership round reads them all.
import type { MemberInfo } from '../shared/types'
import type { RosterEntry } from '../wire/node-messages'
import type { MemberContext } from './member-context'
import { nextConfChange } from './membership'

/** members whose closed link, or departure from the signaling, we remember */
const MAX_REMEMBERED = 1024

/** note `member` at `now` as the newest entry; bounded: the oldest entries go first */
function rememberNewest(map: Map<string, number>, member: string, now: number): void {
  map.delete(member)
  map.set(member, now)
  if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value!)
}

export class Roster {
  /** facts about members: browser and visibility, from hellos, joins and the leader's roster */
  private readonly facts = new Map<string, RosterEntry>()
  /** members that asked to join (leader's view) */
  private readonly joiners = new Map<string, string>()
  /** members that left gracefully or were certified dead */
  private readonly departed = new Set<string>()
  private readonly lastHeard = new Map<string, number>()
  /** when our link to a member closed, for members we have no link to since (oldest first) */
  private readonly unlinkedAt = new Map<string, number>()
  /** when a member left every signaling channel, for members not present since (oldest first) */
  private readonly leftSignalingAt = new Map<string, number>()
  /** when each member last sent us anything (unlike lastHeard, never granted by a takeover) */
  private readonly spokeAt = new Map<string, number>()
  private lastMembershipAt = -Infinity
  private lastMembersKey = ''

  constructor(
    private readonly ctx: MemberContext,
    private readonly maxVoters: number,
  ) {
    this.facts.set(ctx.id, { member: ctx.id, browser: ctx.browser, visible: ctx.visible() })
  }

  /** Every member of the configuration, with its role and what we know of it (sorted by id). */
  members(): MemberInfo[] {
    const ctx = this.ctx
    if (!ctx.running) return []
    const conf = ctx.raft.status().conf
    const voters = new Set([...conf.voters, ...conf.votersOutgoing])
    const ids = [...new Set([...conf.voters, ...conf.votersOutgoing, ...conf.learners])].sort()
    return ids.map((id) => {
      const facts = this.facts.get(id)
      const voter = voters.has(id)
      let role: MemberInfo['role']
      if (id === ctx.lead) role = 'leader'
      else if (!voter) role = 'learner'
      else if (id === ctx.id && (ctx.role === 'candidate' || ctx.role === 'pre-candidate')) role = 'candidate'
      else role = 'follower'
      return { id, role, voter, browser: facts?.browser ?? '', visible: facts?.visible ?? true, self: id === ctx.id }
    })
  }

  /** Tell the app the members changed, only when they did. */
  emitIfChanged(): void {
    const members = this.members()
    const key = JSON.stringify(members)
    if (key === this.lastMembersKey) return
    this.lastMembersKey = key
    this.ctx.emit('members', [members])
  }

  browserOf(member: string): string | undefined {
    return this.facts.get(member)?.browser
  }

  /** our own facts, as we tell a leader */
  own(): RosterEntry {
    return this.facts.get(this.ctx.id)!
  }

  /** our tab became hidden or visible; returns our facts as they are now */
  ownVisibility(visible: boolean): RosterEntry {
    const facts = { member: this.ctx.id, browser: this.ctx.browser, visible }
    this.facts.set(this.ctx.id, facts)
    return facts
  }

  /** every fact we hold, for the leader's roster broadcast */
  entries(): RosterEntry[] {
    return [...this.facts.values()]
  }

  /** when we last heard from the member (any message or link), if ever */
  lastHeardAt(member: string): number | undefined {
    return this.lastHeard.get(member)
  }

  heard(peer: string, now: number): void {
    this.lastHeard.set(peer, now)
    this.spokeAt.set(peer, now)
  }

  /** a link came up: the peer spoke, and its hello names its browser */
  linkUp(peer: string, hello: { member: string; browser: string }, now: number): void {
    this.lastHeard.set(peer, now)
    this.spokeAt.set(peer, now)
    this.unlinkedAt.delete(peer)
    if (hello.browser !== '' && hello.member === peer && !this.facts.has(peer)) {
      this.facts.set(peer, { member: peer, browser: hello.browser, visible: true })
    }
  }

  /** our link to `peer` closed (a newer link replacing it never reports a close) */
  linkDown(peer: string, now: number): void {
    rememberNewest(this.unlinkedAt, peer, now)
  }

  /** the signaling says `member` left every channel (false), or is back (true) */
  presence(member: string, present: boolean, now: number): void {
    if (present) this.leftSignalingAt.delete(member)
    else rememberNewest(this.leftSignalingAt, member, now)
  }

  /**
   * Has `member` gone away for `afterMs`, by evidence stronger than silence
   * alone? Either our link to it closed and stayed closed that long, or it
   * left every signaling channel (a closed or crashed page's sockets close
   * at once, while a data channel to it stays open for many seconds) and
   * has sent us nothing for that long since. A partition shows neither
   * within seconds: its links stall and its sockets stay open.
   */
  vanished(member: string, now: number, afterMs: number): boolean {
    if (member === this.ctx.id) return false
    const unlinked = this.unlinkedAt.get(member)
    if (unlinked !== undefined && !this.ctx.links.has(member) && now - unlinked >= afterMs) return true
    const left = this.leftSignalingAt.get(member)
    return left !== undefined && now - Math.max(left, this.spokeAt.get(member) ?? -Infinity) >= afterMs
  }

  /**
   * `peer` asked to join (or, already in the configuration, updates its
   * facts). True when it is a newcomer we had not heard ask before: the
   * leader lets it in at once (membershipRound, urgentJoin) rather than at its paced round.
   */
  joined(peer: string, facts: RosterEntry): boolean {
    const conf = this.ctx.raft.status().conf
    const fresh = !this.joiners.has(peer) && !conf.voters.includes(peer) && !conf.learners.includes(peer)
    this.facts.set(peer, facts)
    this.departed.delete(peer)
    this.joiners.set(peer, facts.browser)
    return fresh
  }

  /** `peer` leaves gracefully: never a hand-off target, removed by the policy */
  left(peer: string): void {
    this.departed.add(peer)
    this.joiners.delete(peer)
  }

  /** a death certificate (a free Web Lock): the member is gone for good */
  gone(peer: string): void {
    this.departed.add(peer)
  }

  /**
   * After a death certificate for `gone`, our rank among the survivors that
   * campaign: 0 campaigns at once, the others later, one after another
   * (Raft.reportPeerGone). Every surviving tab of its browser hears the
   * certificate within a few ms, and two campaigns at once split the votes
   * (an election timeout lost). The order: of the voters that hear it too
   * (running in the browser of `gone`: linked to us, or us), visible ones
   * first (a hidden tab's timers are slowed), each group by id. A choice
   * with a shorter log is refused by a longer one, which then campaigns
   * itself (Raft.handleVoteRequest).
   */
  rankAfterDeath(gone: string): number {
    const ctx = this.ctx
    // we hear its certificate, so it ran in our browser
    const browser = ctx.browser
    return this.rankAmong(gone, (m) => m.self || (ctx.links.has(m.id) && m.browser === browser))
  }

  /**
   * After `gone` vanished (Roster.vanished: every survivor hears the
   * signaling server say so within a few ms), our rank among the voters that
   * campaign: visible ones first, each group by id, as rankAfterDeath does
   * for the tabs of one browser; not a voter: after all of them.
   */
  rankAfterVanish(gone: string): number {
    return this.rankAmong(gone, () => true)
  }

  /** our rank among the voters (but `gone` and the departed) that `hears` keeps */
  private rankAmong(gone: string, hears: (m: MemberInfo) => boolean): number {
    const hearers = this.members()
      .filter((m) => m.voter && m.id !== gone && !this.departed.has(m.id) && hears(m))
      // members() is sorted by id and sort is stable: visible ones first, each group by id
      .sort((a, b) => Number(b.visible) - Number(a.visible))
    // not among them (not a voter): after all of them, as before ranks only
    // the first campaigned; with nobody else to hear it, at once
    const own = hearers.findIndex((m) => m.self)
    return own < 0 ? hearers.length : own
  }

  hasDeparted(member: string): boolean {
    return this.departed.has(member)
  }

  /** our leader's roster: its facts about everyone but us */
  fromLeader(entries: RosterEntry[]): void {
    for (const entry of entries) if (entry.member !== this.ctx.id) this.facts.set(entry.member, entry)
    this.emitIfChanged()
  }

  /** the slot was wiped (a divergence): the old cluster's requests mean nothing in the new one */
  forgetRequests(): void {
    this.joiners.clear()
    this.departed.clear()
  }

  /** This member just became leader. */
  leaderTookOver(now: number): void {
    // everyone gets a full failure timeout from now: we cannot know when the
    // previous leader last heard from them
    for (const id of this.members().map((m) => m.id)) this.lastHeard.set(id, Math.max(this.lastHeard.get(id) ?? now, now))
    this.lastMembershipAt = now
  }

  /**
   * May `peer` close `owner`'s sessions (a death certificate)? When both run
   * in one browser (the same non-empty browser id, as they announced it), or
   * when we have no link to `owner`: we hear no heartbeat from it, so its
   * sessions would expire anyway; closing them only comes early.
   */
  mayCloseSessionsOf(peer: string, owner: string): boolean {
    if (!this.ctx.links.has(owner)) return true
    const browser = this.facts.get(peer)?.browser
    return browser !== undefined && browser !== '' && browser === this.facts.get(owner)?.browser
  }

  /**
   * Leader only, every tick: one membership change at most every
   * membershipEveryMs. `urgentJoin` runs one whatever the pace: a newcomer just
   * asked to join (adding a learner costs no voter anything, and the new
   * tab's first write waits for it).
   */
  membershipRound(now: number, urgentJoin = false): void {
    const ctx = this.ctx
    const st = ctx.raft.status()
    // a member that left (or is certified dead) and is still in the
    // configuration goes at once: a closing member waits for its removal
    const inConf = (id: string): boolean => st.conf.voters.includes(id) || st.conf.learners.includes(id)
    const urgent = urgentJoin || [...this.departed].some(inConf)
    if (!urgent && now - this.lastMembershipAt < ctx.timing.membershipEveryMs) return
    this.lastMembershipAt = now
    const change = nextConfChange(
      {
        self: ctx.id,
        conf: st.conf,
        progress: st.progress,
        commit: st.commit,
        now,
        joiners: this.joiners,
        browserOf: (id) => this.facts.get(id)?.browser,
        lastHeard: (id) => this.lastHeard.get(id),
        departed: this.departed,
      },
      { maxVoters: this.maxVoters, failureTimeoutMs: ctx.timing.failureTimeoutMs, catchUpLag: ctx.timing.catchUpLag },
    )
    if (change === null) return
    try {
      ctx.raft.proposeConfChange(change)
    } catch {
      // a change is pending or leadership moved: the next round decides again
    }
  }
}
