// Where a tab's join spends its time (issue 17: joinMesh → first write): with
// the `timeline` option, joinMesh leaves a User Timing mark
// (`performance.mark`) as it passes each step, named `meshkeeper:join:<step>`.
// The bench reads them (performance.getEntriesByType('mark')) beside the
// first write's commit timeline. Off (the default), nothing is marked.
export type JoinStep =
  | 'browser-id'
  | 'room-lock'
  | 'slot-lock'
  | 'storage-open'
  | 'transport-open'
  | 'storage-load'
  | 'discovery'
  | 'member-started'
  | 'slots-probed'
  | 'first-link'
  | 'returned'

export type JoinMarker = (step: JoinStep) => void

const noMarks: JoinMarker = () => undefined

/** A marker that marks when `on`; a page without User Timing marks nothing. */
export function joinMarker(on: boolean): JoinMarker {
  const perf = globalThis.performance as Performance | undefined
  if (!on || typeof perf?.mark !== 'function') return noMarks
  return (step) => {
    try {
      perf.mark(`meshkeeper:join:${step}`)
    } catch {
      // a mark is diagnostics only: never fails a join
    }
  }
}
