// Transcript tests in the style of etcd raft's datadriven tests: a text file
// of commands, each followed by `----` and the exact trace it must produce.
// Blocks are separated by blank lines; `#` starts a comment line.
//
//   add-nodes 3 [pre-vote] [check-quorum] [chunk=N]   bootstrap members 1..n as voters
//   campaign <id>                           <id> starts an election
//   propose <id> <text>                     <id> proposes text
//   read-index <id> <ctx>                   <id> asks for a read index
//   transfer-leadership <from> <to>
//   tick-heartbeat <id> | tick-election <id>   heartbeatTick / electionTick ticks
//   stabilize                               run until quiet, printing the trace
//   partition <ids> / <ids> | isolate <id> | heal
//   status <id>                             role, term, lead, commit, last index
//   applied <id>                            application data applied so far
//   compact <id> <text>                     snapshot <text> as the state at <id>'s applied index
//
// Trace lines, Ready by Ready: `> 1 role=leader lead=1 term=2` when a
// member's soft state changed (printed before the Ready's messages, even if
// some of them were produced earlier), `1->2 MsgApp term=2 ...` for each message sent (with `DROPPED`
// when the link is cut), `1 read ctx=index` for each ReadState.
import { Network, str, text } from './network'
import type { Entry, Message } from '../../src/raft/types'

function formatEntry(e: Entry): string {
  if (e.type === 'conf') return `${e.index}@${e.term} conf`
  return e.data.length === 0 ? `${e.index}@${e.term}` : `${e.index}@${e.term} ${JSON.stringify(str(e.data))}`
}

export function formatMessage(m: Message): string {
  const parts = [`${m.from}->${m.to} ${m.type} term=${m.term}`]
  switch (m.type) {
    case 'MsgApp':
      parts.push(`logTerm=${m.logTerm} index=${m.index} commit=${m.commit}`)
      if (m.entries.length > 0) parts.push(`entries=[${m.entries.map(formatEntry).join(', ')}]`)
      break
    case 'MsgAppResp':
      parts.push(`index=${m.index}`)
      if (m.reject) parts.push(`reject hint=${m.rejectHint} hintTerm=${m.logTerm}`)
      break
    case 'MsgVote':
    case 'MsgPreVote':
      parts.push(`logTerm=${m.logTerm} index=${m.index}`)
      if (m.context !== null) parts.push('transfer')
      break
    case 'MsgVoteResp':
    case 'MsgPreVoteResp':
      if (m.reject) parts.push('reject')
      break
    case 'MsgHeartbeat':
      parts.push(`commit=${m.commit}`)
      break
    case 'MsgProp':
      parts.push(`entries=[${m.entries.map((e) => JSON.stringify(str(e.data))).join(', ')}]`)
      break
    case 'MsgSnap':
      parts.push(`snap=${m.snapshot!.meta.index}@${m.snapshot!.meta.term} bytes=${m.snapshot!.offset}+${m.snapshot!.data.length}/${m.snapshot!.total}`)
      break
    case 'MsgSnapResp':
      parts.push(m.reject ? `snap=${m.rejectHint} reject` : `snap=${m.rejectHint} bytes=${m.index}`)
      break
    case 'MsgReadIndexResp':
      parts.push(`index=${m.index}`)
      break
  }
  if (m.context !== null && m.type !== 'MsgVote' && m.type !== 'MsgPreVote') parts.push(`ctx=${JSON.stringify(str(m.context))}`)
  return parts.join(' ')
}

export interface Block {
  command: string
  expected: string
  line: number
}

export function parseTranscript(src: string): Block[] {
  const blocks: Block[] = []
  const lines = src.split('\n')
  let i = 0
  while (i < lines.length) {
    const l = lines[i]!
    if (l.trim() === '' || l.startsWith('#')) {
      i++
      continue
    }
    const start = i
    const command = l.trim()
    i++
    if (lines[i] !== '----') throw new Error(`line ${i + 1}: expected ---- after ${command}`)
    i++
    const out: string[] = []
    while (i < lines.length && lines[i]!.trim() !== '') out.push(lines[i++]!)
    blocks.push({ command, expected: out.join('\n'), line: start + 1 })
  }
  return blocks
}

export class TranscriptRunner {
  net = new Network()
  private out: string[] = []
  private ids: string[] = []

  run(command: string): string {
    this.out = []
    const [cmd, ...args] = command.split(/\s+/)
    const a = (i: number): string => {
      const v = args[i]
      if (v === undefined) throw new Error(`${cmd}: missing argument ${i + 1}`)
      return v
    }
    switch (cmd) {
      case 'add-nodes': {
        const n = Number(a(0))
        this.ids = Array.from({ length: n }, (_, i) => String(i + 1))
        const chunk = args.find((x) => x.startsWith('chunk='))
        this.net = Network.cluster(this.ids, {
          preVote: args.includes('pre-vote'),
          checkQuorum: args.includes('check-quorum'),
          ...(chunk === undefined ? {} : { maxSnapshotChunkSize: Number(chunk.slice('chunk='.length)) }),
        })
        // the bootstrap Ready: conf entries persisted and applied, nothing sent
        this.net.processReady()
        this.out.push('ok')
        break
      }
      case 'campaign':
        this.net.node(a(0)).campaign()
        break
      case 'propose':
        this.net.node(a(0)).propose(text(args.slice(1).join(' ')))
        break
      case 'read-index':
        this.net.node(a(0)).readIndex(text(a(1)))
        break
      case 'transfer-leadership':
        this.net.node(a(0)).transferLeadership(a(1))
        break
      case 'tick-heartbeat':
        this.net.tick(a(0), this.net.get(a(0)).cfg.heartbeatTick)
        break
      case 'tick-election':
        this.net.tick(a(0), this.net.get(a(0)).cfg.electionTick)
        break
      case 'stabilize':
        this.stabilize()
        break
      case 'partition': {
        const slash = args.indexOf('/')
        this.net.partition(args.slice(0, slash), args.slice(slash + 1))
        this.out.push('ok')
        break
      }
      case 'isolate':
        this.net.isolate(a(0))
        this.out.push('ok')
        break
      case 'heal':
        this.net.heal()
        this.out.push('ok')
        break
      case 'status': {
        const s = this.net.node(a(0)).status()
        this.out.push(`${s.id} role=${s.role} term=${s.term} lead=${s.lead ?? '-'} commit=${s.commit} last=${s.lastIndex}`)
        break
      }
      case 'compact': {
        const st = this.net.node(a(0)).status()
        const snap = this.net.compact(a(0), st.applied, text(args.slice(1).join(' ')))
        this.out.push(`snapshot ${snap.meta.index}@${snap.meta.term} (${snap.data.length} bytes), first index ${st.applied + 1}`)
        break
      }
      case 'applied':
        this.out.push(`${a(0)}: ${this.net.appliedData(a(0)).join(' ') || '(none)'}`)
        break
      default:
        throw new Error(`unknown command ${cmd}`)
    }
    return this.out.join('\n')
  }

  private stabilize(): void {
    const net = this.net
    for (let round = 0; round < 1000; round++) {
      let any = false
      for (const id of this.ids) {
        const m = net.get(id)
        while (m.node.hasReady()) {
          any = true
          const before = m.readStates.length
          const rd = m.node.ready()
          if (rd.softState !== null) {
            this.out.push(`> ${id} role=${rd.softState.role} lead=${rd.softState.lead ?? '-'} term=${rd.hardState?.term ?? m.node.status().term}`)
          }
          for (const msg of rd.messages) this.out.push(formatMessage(msg) + (net.cut.has(`${msg.from}->${msg.to}`) ? ' DROPPED' : ''))
          net.handle(m, rd)
          for (const rs of m.readStates.slice(before)) this.out.push(`${id} read ${str(rs.context)}=${rs.index}`)
          m.node.advance(rd)
        }
      }
      if (!any && net.deliverQueued() === 0) return
      if (any) net.deliverQueued()
    }
    throw new Error('did not stabilize')
  }
}
