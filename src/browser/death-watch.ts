// Death certificates (invariants 4 and 5). Within one browser a member's Web
// Lock is held by the tab that runs it, and the browser frees it when that
// tab dies — closed, crashed or killed, goodbye or not. So a tab queues a
// request on the lock of every other member slot of its browser; the request
// is granted exactly when the holder is gone. Then:
//
//   1. at once, while we still hold the lock (so no new tab of that member
//      can have opened a session yet): every session of that member in the
//      tree belonged to a dead tab — we ask the leader to close them, and the
//      dead tab's ephemerals go now instead of after the session timeout;
//      if the dead member led, our member stops waiting for it (an election
//      starts now);
//   2. we let go of the lock and give a reloading tab `graceMs` to take its
//      member back (identity.ts waits for it) — `reloadGraceMs` when its page
//      said it reloads (reclaim.ts);
//   3. if the lock is still free after that: a voter is taken over (same
//      IndexedDB slot, same log, lock now ours) so closing tabs never costs
//      quorum, until membership policy retires it; anything else is reported
//      gone so the leader removes it from the configuration.
//
// Every surviving tab of the browser queues on the same lock, in shared mode:
// the browser grants it to all of them at once when the holder dies (shared
// requests at the head of a queue are granted together), so each hears the
// certificate without waiting for the ones queued before it to run their
// callbacks — exclusive requests were granted one after another, each behind
// a busy main thread (bench scale9, 9 tabs on 2 cores: the survivors heard
// a crashed leader's death from 35 to 75 ms after the kill, the voter chosen
// to campaign fifth in line, the other voters ignoring its PreVote under the
// dead leader's lease until their turn). Shared holders still keep every
// exclusive request out, so step 1 holds: no new tab of the member can have
// opened a session while we close its sessions. The first to find the lock
// free after the grace (exclusive, ifAvailable) takes the member over.
import { acquireLock, memberLockName } from './identity'
import type { HeldLock, LockManagerLike } from './identity'

export interface DeathWatchHost {
  room: string
  /** our own member (never watched) */
  self: string
  locks: LockManagerLike
  /** member slots of the room in this browser's storage */
  listSlots(): Promise<string[]>
  /** sessions in the tree that belong to tabs running `member` */
  sessionsOf(member: string): string[]
  closeSessions(sessions: string[]): void
  reportPeerGone(member: string): void
  leader(): string | null
  isVoter(member: string): boolean
  /** some tab runs `member` now: we have a live link to it */
  linked(member: string): boolean
  /** run `member` in this tab; resolves once it is retired or this tab closes ('ended'), or once its own tab
   *  asked for it back ('given-back', reclaim.ts). The lock is released after. */
  takeOver(member: string, lock: HeldLock): Promise<'ended' | 'given-back'>
  /** a certificate was processed (diagnostics, tests) */
  onCertificate?(e: { member: string; sessions: string[]; outcome: 'reclaimed' | 'taken-over' | 'reported-gone' }): void
}

export interface DeathWatchOptions {
  /** how long a freed member stays free for a reloading tab before we act on it (default 1500 ms) */
  graceMs?: number
  /** how long a freed member stays free when its page said it reloads (reclaim.ts; default 10 000 ms) */
  reloadGraceMs?: number
  /** how often the slot list is re-read for members opened by new tabs (default 2000 ms) */
  refreshMs?: number
  /**
   * Members whose slots were all free when this tab opened (it found every
   * other tab of the browser gone: a reopen), with their locks, which the
   * tab took then and holds (start-member.ts). Their certificate is processed
   * at start, on those locks: no grace, no second request, no wait for the
   * slot list. No tab of theirs is letting go to reload, so waiting would
   * only keep their votes away (the reopening tab could not reach a quorum).
   * A tab restored in the same instant as this one may find its member taken
   * and choose another slot (identity.ts): it loses only its reload affinity.
   */
  vacantAtStart?: ReadonlyMap<string, HeldLock>
}

type WatchState =
  /** a lock request is queued: we learn of the holder's death */
  | { kind: 'watching'; abort: AbortController }
  /** a certificate is being processed */
  | { kind: 'busy' }
  /** nobody runs it; watched again once some tab runs it */
  | { kind: 'vacant' }

export class DeathWatch {
  private readonly states = new Map<string, WatchState>()
  private readonly graceMs: number
  private readonly reloadGraceMs: number
  /** members whose page said it reloads; the member's next certificate reads (and clears) it */
  private readonly reloading = new Set<string>()
  private readonly refreshMs: number
  /** slots free when this tab opened, with their locks, not yet certified (DeathWatchOptions.vacantAtStart) */
  private readonly vacantAtStart: Map<string, HeldLock>
  private timer: ReturnType<typeof setTimeout> | null = null
  private stopped = false

  constructor(
    private readonly host: DeathWatchHost,
    opts: DeathWatchOptions = {},
  ) {
    this.graceMs = opts.graceMs ?? 1500
    this.reloadGraceMs = Math.max(this.graceMs, opts.reloadGraceMs ?? 10_000)
    this.refreshMs = opts.refreshMs ?? 2000
    this.vacantAtStart = new Map(opts.vacantAtStart ?? [])
  }

  start(): void {
    for (const [member, lock] of this.vacantAtStart) {
      this.vacantAtStart.delete(member)
      if (member === this.host.self) {
        lock.release()
        continue
      }
      void this.act(member, this.certify(member), lock)
    }
    void this.refresh()
  }

  stop(): void {
    // vacant slots never certified (stopped before start) are let go
    for (const lock of this.vacantAtStart.values()) lock.release()
    this.vacantAtStart.clear()
    this.stopped = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    for (const st of this.states.values()) if (st.kind === 'watching') st.abort.abort()
    this.states.clear()
  }

  /** which members are watched (diagnostics, tests) */
  watched(): string[] {
    return [...this.states].filter(([, st]) => st.kind === 'watching').map(([id]) => id).sort()
  }

  /**
   * A member of this browser linked to us. A new tab's slot is otherwise
   * found only at the next read of the list (every refreshMs): a tab that
   * reloads or crashes before then would leave no certificate behind. A
   * member already watched costs nothing.
   */
  linkedUp(member: string): void {
    if (this.stopped || member === this.host.self) return
    const st = this.states.get(member)
    if (st === undefined || st.kind === 'vacant') void this.scan()
  }

  /**
   * `member`'s page is reloading (it said so on `pageswap`, reclaim.ts): its
   * next certificate waits reloadGraceMs, not graceMs, for the new page to
   * take the member back — a page that loads slowly would otherwise find its
   * member taken over, and soon retired. Heard before the lock frees, or
   * during the grace: only its end reads it.
   */
  heardReload(member: string): void {
    if (this.stopped || member === this.host.self) return
    this.reloading.add(member)
  }

  /** Read the slot list now and again every refreshMs. */
  private async refresh(): Promise<void> {
    await this.scan()
    if (!this.stopped) this.timer = setTimeout(() => void this.refresh(), this.refreshMs)
  }

  /** Watch every slot of the list not watched yet (and a vacant one some tab runs again). */
  private async scan(): Promise<void> {
    if (this.stopped) return
    try {
      for (const member of await this.host.listSlots()) {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop() may have run during the await
        if (member === this.host.self || this.stopped) continue
        // checked after the await: two scans at once never watch one member twice
        const st = this.states.get(member)
        if (st === undefined || (st.kind === 'vacant' && this.host.linked(member))) this.watch(member)
      }
    } catch {
      // storage trouble is the member's to report; we try again next round
    }
  }

  private watch(member: string): void {
    const abort = new AbortController()
    this.states.set(member, { kind: 'watching', abort })
    this.host.locks
      .request(memberLockName(this.host.room, member), { mode: 'shared', signal: abort.signal }, () => {
        if (this.stopped) return
        const sessions = this.certify(member)
        void this.afterGrace(member, sessions)
        // returning releases the lock: a reloading tab may take its member back
        return undefined
      })
      .catch(() => {
        // aborted by stop(): nothing to do
      })
  }

  /** We hold `member`'s lock: no tab runs it, every session of it is dead. Close them; a dead leader is reported gone. */
  private certify(member: string): string[] {
    this.states.set(member, { kind: 'busy' })
    const sessions = this.host.sessionsOf(member)
    const led = this.host.leader() === member
    if (sessions.length > 0) this.host.closeSessions(sessions)
    if (led) this.host.reportPeerGone(member)
    return sessions
  }

  private async afterGrace(member: string, sessions: string[]): Promise<void> {
    await new Promise((r) => setTimeout(r, this.graceMs))
    // a page says it reloads just before it goes (pageswap): this death is that reload
    if (this.reloading.delete(member)) await new Promise((r) => setTimeout(r, this.reloadGraceMs - this.graceMs))
    if (this.stopped) return
    const lock = await acquireLock(this.host.locks, memberLockName(this.host.room, member), { ifAvailable: true })
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop() may have run during the await
    if (this.stopped) {
      lock?.release()
      return
    }
    await this.act(member, sessions, lock)
  }

  /** The certificate's outcome, with the member's lock (or null: someone runs it again). */
  private async act(member: string, sessions: string[], lock: HeldLock | null): Promise<void> {
    if (lock === null) {
      // a reloaded tab took it back, or another survivor runs it: watch for its next death
      this.host.onCertificate?.({ member, sessions, outcome: 'reclaimed' })
      this.watch(member)
      return
    }
    if (this.host.isVoter(member)) {
      this.host.onCertificate?.({ member, sessions, outcome: 'taken-over' })
      let outcome: 'ended' | 'given-back' = 'ended'
      try {
        outcome = await this.host.takeOver(member, lock)
      } finally {
        lock.release()
      }
      // its own tab runs it again (its request for the lock is queued before ours): watch for its next death
      if (outcome === 'given-back' && !this.stopped) {
        this.watch(member)
        return
      }
    } else {
      lock.release()
      this.host.reportPeerGone(member)
      this.host.onCertificate?.({ member, sessions, outcome: 'reported-gone' })
    }
    if (!this.stopped) this.states.set(member, { kind: 'vacant' })
  }
}
