// A slot already read once: the next load() answers what that read found
// instead of reading the slot again. joinMesh reads the slot to decide whether
// to found a cluster and then starts the member, whose start reads it again:
// a whole log's read for nothing on a reopen (issue 17, item 1). Sound only
// while nothing else can have written the slot in between, which the member's
// Web Lock, held from before the first read, guarantees (invariant 4).
import type { MemberRecord, Storage } from './types'

export function loadedOnce(storage: Storage, record: MemberRecord | null): Storage {
  let kept: { record: MemberRecord | null } | null = { record }
  const slot: Storage = {
    load: () => {
      if (kept === null) return storage.load()
      const { record: r } = kept
      // handed out once: a later load (a reopened member) reads the slot
      kept = null
      return Promise.resolve(r)
    },
    save: (batch) => storage.save(batch),
    destroy: () => storage.destroy(),
    close: () => storage.close(),
  }
  const onFailure = storage.onFailure?.bind(storage)
  if (onFailure !== undefined) slot.onFailure = onFailure
  return slot
}
