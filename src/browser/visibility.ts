// Visibility: a tab that is hidden or going away should not lead.
//
// Chrome throttles timers of hidden tabs to about one wake-up a second, so a
// hidden leader cannot keep the heartbeat cadence a visible one keeps. We keep
// safety and liveness this way:
//   - on `visibilitychange` to hidden the member hands leadership to a visible
//     voter (Member.visibilityChanged); `members()` reports `visible`, and a
//     hand-off only ever targets a visible voter;
//   - on `pagehide` the mesh closes gracefully (leadership moves, the session
//     closes so the tab's ephemerals go at once, peers hear 'leaving');
//   - when every voter is hidden some hidden tab must lead: its heartbeats
//     come once per throttled tick (a hidden leader heartbeats every tick,
//     a visible one every BROWSER_TIMING.heartbeatTicks: driver/tick-duties.ts
//     heartbeatTicksNow), and followers count ticks, not ms, so
//     equally throttled followers wait equally longer. A visible follower
//     waits at least BROWSER_TIMING.electionTicks ticks (1.5 s), above the
//     1 s throttled cadence; PreVote keeps a waking tab from deposing a
//     healthy leader and CheckQuorum keeps a frozen leader from serving.
//   - Chrome's intensive throttling (hidden > 5 min: chained timers wake at
//     most once a minute) does not apply while the page has an RTCPeerConnection
//     or an open RTCDataChannel (Blink registers them with the scheduler as
//     `kWebRTC`, DisableAggressiveThrottling): a tab linked to another
//     browser keeps the 1 s cadence. Links between tabs of one browser are
//     BroadcastChannel pipes (tab-pipe.ts), which are not exempt, and other
//     browsers promise nothing of the kind, so a tab's
//     session keepalive also rides on the leader's messages (message events
//     are never throttled): OwnSession.leaderHeard, called from the dispatch.
//   - `freeze` (Page Lifecycle: Chrome freezes background tabs, and every page
//     entering the back/forward cache): no task runs until `resume`, so a
//     leader hands off as on hidden; the frozen tab costs no quorum (the others
//     elect, PreVote and CheckQuorum as above), and on `resume` it ticks at
//     once: heartbeats, its session keepalive, a join to the new leader.
//   - `pageswap` whose activation is a reload: the tab tells its browser's
//     other tabs its member comes back (reclaim.ts), so they leave it free
//     longer than for a close;
//   - `pagehide` with `persisted` (the page goes into the back/forward cache)
//     closes the mesh like any pagehide: the page may never come back, and a
//     cached page holds no Web Lock and no link. On `pageshow` with
//     `persisted` the tab joins again into the same Mesh object
//     (watchBackForwardCache, browser/join.ts).

export interface PageLifecycle {
  /** is the tab visible now */
  visible(): boolean
  /** stop listening */
  dispose(): void
}

export interface PageLifecycleHandlers {
  /** the tab became hidden or visible */
  visibilityChanged(): void
  /** the page is being unloaded (closed, reloaded, navigated away, or put in the bfcache: `persisted`) */
  pageHide(persisted: boolean): void
  /** the page is being replaced by a reload of itself (`pageswap` whose activation is a reload; before pageHide) */
  reloading?(): void
  /** the page is about to be frozen (no task runs until `resumed`) */
  frozen(): void
  /** the page runs again after a freeze */
  resumed(): void
}

/** Listen to the page's lifecycle; `doc`/`win` are injectable for tests. */
export function watchPageLifecycle(handlers: PageLifecycleHandlers, doc: Document = document, win: Window = window): PageLifecycle {
  const onVisibility = (): void => handlers.visibilityChanged()
  const onPageHide = (e: Event): void => handlers.pageHide(persisted(e))
  const onFreeze = (): void => handlers.frozen()
  const onResume = (): void => handlers.resumed()
  // the Navigation API's activation says what replaces the page; absent (an older browser) it says nothing
  const onPageSwap = (e: Event): void => {
    if ((e as Event & { activation?: { navigationType?: string } | null }).activation?.navigationType === 'reload') handlers.reloading?.()
  }
  doc.addEventListener('visibilitychange', onVisibility)
  doc.addEventListener('freeze', onFreeze)
  doc.addEventListener('resume', onResume)
  win.addEventListener('pagehide', onPageHide)
  win.addEventListener('pageswap', onPageSwap)
  return {
    visible: () => doc.visibilityState !== 'hidden',
    dispose: () => {
      doc.removeEventListener('visibilitychange', onVisibility)
      doc.removeEventListener('freeze', onFreeze)
      doc.removeEventListener('resume', onResume)
      win.removeEventListener('pagehide', onPageHide)
      win.removeEventListener('pageswap', onPageSwap)
    },
  }
}

/**
 * Call `restored` when the page comes back from the back/forward cache
 * (`pageshow` with `persisted`). Unlike watchPageLifecycle this outlives the
 * mesh: the mesh closed as the page went into the cache. Returns a stop.
 */
export function watchBackForwardCache(restored: () => void, win: Window = window): () => void {
  const onPageShow = (e: Event): void => {
    if (persisted(e)) restored()
  }
  win.addEventListener('pageshow', onPageShow)
  return () => win.removeEventListener('pageshow', onPageShow)
}

/** PageTransitionEvent.persisted, false for anything else */
function persisted(e: Event): boolean {
  return (e as Partial<PageTransitionEvent>).persisted === true
}
