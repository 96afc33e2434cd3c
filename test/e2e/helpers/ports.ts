// The e2e servers' ports: 5190 (transport harness) and 5191 (demo), or
// E2E_PORT_BASE and the next one, so two checkouts on one machine can run
// their browser tests side by side.
const base = Number(process.env.E2E_PORT_BASE ?? 5190)
export const HARNESS_PORT = base
export const DEMO_PORT = base + 1
