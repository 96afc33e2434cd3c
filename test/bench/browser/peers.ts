// Peers: leader election as other browser libraries do it, for failover
// figures next to meshkeeper's. Each tab of a trial campaigns; run.ts kills
// the leader and reads, in the survivors, the wall-clock time one of them
// became leader.
//   - the `broadcast-channel` package's createLeaderElection (in Chromium it
//     picks its Web Locks elector; `impl` says which one ran)
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

/** Campaign with the broadcast-channel package's leader election on channel `name`. */
export function broadcastChannelElection(name: string): void {
  const channel = new BroadcastChannel(name)
  elector = createLeaderElection(channel)
  campaign.impl = `broadcast-channel ${(elector as object).constructor.name}`
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
