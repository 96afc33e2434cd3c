// A randomized cluster run for the safety tests (see random-safety.test.ts).
import * as prng from 'lib0/prng'
import { Network, confOf, text } from './network'
import { formatMessage } from './transcript'
import type { ConfChange, ConfChangeSingle, ConfChangeType, PlantedBugs, Ready } from '../../src/raft/types'

export interface Outcome {
  violation: string | null
  committed: number
  leaders: number
  /** with `settle`: did the cluster recover after the chaos? */
  live: boolean | null
  /** ReadIndex answers checked */
  reads: number
}

export function simulate(seed: number, steps: number, bugs: PlantedBugs = {}, trace?: string[], settle = false): Outcome {
  const gen = prng.create(seed)
  const pool = ['1', '2', '3', '4', '5']
  const net = new Network(seed)
  const opts = {
    preVote: prng.bool(gen),
    checkQuorum: prng.bool(gen),
    electionTick: prng.oneOf(gen, [3, 5, 10]),
    maxSnapshotChunkSize: 64,
    // one entry per MsgApp now and then: lets an old-term entry travel
    // without the new leader's no-op (Figure 8 of the Raft paper)
    maxSizePerMsg: prng.oneOf(gen, [1, 1024 * 1024]),
    bugs,
  }
  // a first member alone (the first tab), three, or five voters at birth
  const founders = pool.slice(0, prng.oneOf(gen, [1, 3, 3, 5]))
  for (const id of pool) net.add(id, opts, founders.includes(id) ? confOf(founders) : undefined)
  const leaderOfTerm = new Map<number, string>()
  const appliedAt = new Map<number, string>()
  let proposals = 0
  let violation: string | null = null
  const inflight = new Map<string, Ready>()
  const readFloor = new Map<string, number>()
  let reads = 0

  const check = (): void => {
    for (const [id, m] of net.members) {
      const st = m.node.status()
      trace?.push(`   ${id} ${st.role} t=${st.term} c=${st.commit} a=${st.applied} last=${st.lastIndex} first=${st.firstIndex} conf=${st.conf.voters.join('')}/${st.conf.votersOutgoing.join('')}/${st.conf.learners.join('')}`)
      if (st.role === 'leader') {
        const other = leaderOfTerm.get(st.term)
        if (other !== undefined && other !== id) violation ??= `two leaders in term ${st.term}: ${other} and ${id}`
        leaderOfTerm.set(st.term, id)
      }
      for (const e of m.applied) {
        trace?.push(`   ${id} applies ${e.index}@${e.term} ${e.type} ${Array.from(e.data).join(',')}`)
        const key = `${e.term}:${e.type}:${Array.from(e.data).join(',')}`
        const seen = appliedAt.get(e.index)
        if (seen !== undefined && seen !== key) violation ??= `index ${e.index} applied as ${seen} and ${key} (at ${id})`
        appliedAt.set(e.index, key)
      }
      m.applied = []
      for (const rs of m.readStates) {
        const ctx = new TextDecoder().decode(rs.context)
        const floor = readFloor.get(ctx)
        if (floor === undefined) violation ??= `${id} got an answer to a read never asked: ${ctx}`
        else if (rs.index < floor) violation ??= `read ${ctx} at ${id} got index ${rs.index} < ${floor} committed before it`
        reads++
      }
      m.readStates = []
    }
  }

  for (let step = 0; step < steps && violation === null; step++) {
    const r = prng.uint32(gen, 0, 99)
    const id = prng.oneOf(gen, pool)
    const node = net.node(id)
    const say = (what: string): void => {
      trace?.push(`${step} ${what}`)
    }
    try {
      if (r < 30) node.tick()
      else if (r < 60) {
        // deliver a random message (reordering); sometimes keep a copy (duplication)
        if (net.queue.length > 0) {
          const i = prng.uint32(gen, 0, net.queue.length - 1)
          const msg = net.queue[i]!
          if (prng.uint32(gen, 0, 9) !== 0) net.queue.splice(i, 1)
          say(`deliver ${formatMessage(msg)}${net.cut.has(`${msg.from}->${msg.to}`) ? ' (cut)' : ''}`)
          net.deliver(msg)
        }
      } else if (r < 65) net.queue.splice(prng.uint32(gen, 0, Math.max(0, net.queue.length - 1)), 1) // loss
      else if (r < 75) {
        say(`propose ${id} p${proposals}`)
        node.propose(text(`p${proposals++}`))
      }
      else if (r < 77) {
        say(`isolate ${id}`)
        net.isolate(id)
      }
      else if (r < 80) {
        say('heal')
        net.heal()
      }
      else if (r < 82) {
        say(`restart ${id}`)
        inflight.delete(id) // the write in progress is lost with the tab
        net.restart(id, bugs)
      } // crash: the unprocessed Ready is lost
      else if (r < 84) {
        const st = node.status()
        if (st.applied > st.firstIndex + 3) {
          say(`compact ${id} ${st.applied - 1}`)
          net.compact(id, st.applied - 1, text(`state@${st.applied - 1}`))
        }
      } else if (r < 86) {
        const target = prng.oneOf(gen, pool)
        const kinds: ConfChangeType[] = ['addVoter', 'addLearner', 'remove']
        const changes: ConfChangeSingle[] = [{ type: prng.oneOf(gen, kinds), node: target }]
        // now and then two changes at once: a joint configuration
        if (prng.uint32(gen, 0, 2) === 0) changes.push({ type: prng.oneOf(gen, kinds), node: prng.oneOf(gen, pool) })
        const transition = prng.oneOf<ConfChange['transition']>(gen, ['auto', 'auto', 'joint-implicit', 'joint-explicit'])
        say(`conf ${id} ${transition} ${changes.map((c) => `${c.type} ${c.node}`).join(', ')}`)
        // an explicit joint config is left by an empty change
        if (transition === 'joint-explicit' && prng.bool(gen)) node.proposeConfChange({ changes: [], transition: 'auto' })
        else node.proposeConfChange({ changes, transition })
      } else if (r < 87) {
        const to = prng.oneOf(gen, pool)
        say(`transfer ${id} -> ${to}`)
        node.transferLeadership(to)
      }
      else if (r < 88) {
        // a read must observe everything committed before it started
        let known = 0
        for (const m of net.members.values()) known = Math.max(known, m.node.status().commit)
        readFloor.set(`r${step}`, known)
        node.readIndex(text(`r${step}`))
      }
      else if (r < 89) {
        const gone = prng.oneOf(gen, pool)
        // the driver lets one survivor campaign at once, the others later (ranks)
        const rank = prng.oneOf(gen, [0, 0, 1, 2])
        say(`gone ${id}: ${gone} (rank ${rank})`)
        node.reportPeerGone(gone, rank)
      }
      else if (r < 92) {
        // the driver takes a Ready and starts its disk write; the member
        // keeps receiving messages and ticks until the write completes
        if (!inflight.has(id) && node.hasReady()) inflight.set(id, node.ready())
      } else {
        // id's write completes: messages go out, entries apply, advance;
        // the other members (without a write in flight) drain theirs at once
        const rd = inflight.get(id)
        inflight.delete(id)
        if (rd !== undefined) {
          net.handle(net.get(id), rd)
          node.advance(rd)
        }
        for (const m of net.members.values()) {
          if (inflight.has(m.id)) continue
          while (m.node.hasReady()) {
            const next = m.node.ready()
            net.handle(m, next)
            m.node.advance(next)
          }
        }
      }
    } catch (e) {
      if (!(e instanceof Error) || !('code' in e)) throw e // only coded RaftErrors are expected
    }
    check()
  }
  let live: boolean | null = null
  if (violation === null && settle) {
    for (const [id, rd] of inflight) {
      net.handle(net.get(id), rd)
      net.node(id).advance(rd)
    }
    live = recovers(net, trace)
    check()
  }
  return { violation, committed: appliedAt.size, leaders: leaderOfTerm.size, live, reads }
}

/**
 * Liveness after the chaos: with the network healed (and members outside
 * the configuration cut off, as the driver stops talking to them), a leader
 * emerges within a bounded number of ticks and a new proposal commits on
 * every member of the configuration.
 */
function recovers(net: Network, trace?: string[]): boolean {
  net.heal()
  for (let round = 0; round < 300; round++) {
    net.stabilize()
    const lead = net.leader()
    if (lead !== null) {
      const conf = net.node(lead).status().conf
      const members = [...conf.voters, ...conf.votersOutgoing, ...conf.learners, ...conf.learnersNext]
      net.heal()
      for (const id of net.members.keys()) if (!members.includes(id)) net.isolate(id)
      try {
        net.node(lead).propose(text('final'))
      } catch {
        // transferring or over the cap: tick on
      }
      net.stabilize()
      const last = net.node(lead).status().lastIndex
      if (members.every((id) => net.node(id).status().commit === last && net.node(id).status().lastIndex === last)) {
        const st = net.node(lead).status()
        if (st.role === 'leader') return true
      }
    }
    net.tickAll()
  }
  trace?.push('did not recover')
  return false
}

