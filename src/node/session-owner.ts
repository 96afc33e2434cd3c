// Whose session is it (issue 13: session heartbeats count only from the
// member that owns the session). A session id begins with its member's id and
// a dot (Member.newSession: `member.tab.counter.random`), and session ids are
// public (every ephemeral node names its owner). Member ids are proven on every
// link (src/transport/hello-handshake.ts), so the leader takes a heartbeat for
// a session only from the member the session belongs to: a peer that names a
// crashed member's session cannot keep its ephemerals and locks alive.

/** The sessions of `sessions` that belong to `member`. */
export function sessionsOwnedBy(member: string, sessions: readonly string[]): string[] {
  const prefix = `${member}.`
  return sessions.filter((s) => s.startsWith(prefix))
}
