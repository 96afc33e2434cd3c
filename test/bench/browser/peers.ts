// Peers: leader election as other browser libraries do it, for failover
// figures next to meshkeeper's. Each tab of a trial campaigns; parts/peers.ts kills
// the leader and reads, in the survivors, the wall-clock time one of them
// became leader.
//   - the `broadcast-channel` package's createLeaderElection: as it runs in
//     Chromium (its Web Locks elector) and as it runs without Web Locks (its
//     message-based elector); `impl` says which one ran
//   - a bare Web Locks election: hold one lock for life, the queue is the line
import { BroadcastChannel, createLeaderElection } from 'broadcast-channel'
import type { LeaderElector } from 'broadcast-channel'
import { wallNow } from './clock'

export interface Campaign {
  /** wall-clock ms this tab became leader, null while it is not */
  leaderSince: number | null
  impl: string
}

const campaign: Campaign = { leaderSince: null, impl: 'none' }
let elector: LeaderElector | null = null

export function state(): Campaign {
  return { ...campaign }
}

/**
 * Campaign with the broadcast-channel package's leader election on channel
 * `name`. With `withoutLocks` the package cannot see navigator.locks while it
 * picks its elector, so it runs its message-based election (what it does in
 * a browser without Web Locks): the own property shadows Navigator.prototype's
 * getter and is deleted right after.
 */
export function broadcastChannelElection(name: string, withoutLocks: boolean): void {
  if (withoutLocks) Object.defineProperty(navigator, 'locks', { configurable: true, get: () => undefined })
  try {
    const channel = new BroadcastChannel(name)
    elector = createLeaderElection(channel)
  } finally {
    if (withoutLocks) delete (navigator as { locks?: unknown }).locks
  }
  // the Web Locks elector names its lock (`lN`); the message-based one has none
  campaign.impl = 'lN' in elector ? 'broadcast-channel LeaderElectionWebLock' : 'broadcast-channel LeaderElection (messages)'
  void elector.awaitLeadership().then(() => {
    campaign.leaderSince = wallNow()
  })
}

/** Campaign by holding the Web Lock `name` for the life of the tab. */
export function webLockElection(name: string): void {
  campaign.impl = 'navigator.locks'
  void navigator.locks.request(name, () => {
    campaign.leaderSince = wallNow()
    return new Promise<never>(() => undefined)
  })
}

/** A graceful exit the app would do on pagehide: the package's die(). */
export async function resign(): Promise<void> {
  await elector?.die()
}
