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
//     come once per throttled tick, and followers count ticks, not ms, so
//     equally throttled followers wait equally longer. A visible follower
//     waits at least BROWSER_TIMING.electionTicks ticks (1.5 s), above the
//     1 s throttled cadence; PreVote keeps a waking tab from deposing a
//     healthy leader and CheckQuorum keeps a frozen leader from serving.

export interface PageLifecycle {
  /** is the tab visible now */
  visible(): boolean
  /** stop listening */
  dispose(): void
}

export interface PageLifecycleHandlers {
  /** the tab became hidden or visible */
  visibilityChanged(): void
  /** the page is being unloaded (closed, reloaded, navigated away, or put in the bfcache) */
  pageHide(): void
}

/** Listen to the page's lifecycle; `doc`/`win` are injectable for tests. */
export function watchPageLifecycle(handlers: PageLifecycleHandlers, doc: Document = document, win: Window = window): PageLifecycle {
  const onVisibility = (): void => handlers.visibilityChanged()
  const onPageHide = (): void => handlers.pageHide()
  doc.addEventListener('visibilitychange', onVisibility)
  win.addEventListener('pagehide', onPageHide)
  return {
    visible: () => doc.visibilityState !== 'hidden',
    dispose: () => {
      doc.removeEventListener('visibilitychange', onVisibility)
      win.removeEventListener('pagehide', onPageHide)
    },
  }
}
