// Invariant 7 (one code path): everything in src/transport that runs on a
// timer or a random number takes its clock and its randomness as options, so
// the simulator can run the real transport on virtual time and a seed. The
// platform's are reached in exactly two places: realClock (src/shared/clock.ts,
// outside this folder) and src/transport/randomness.ts, the one default
// random and randomBytes.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const folder = join(import.meta.dirname, '../../src/transport')
const files = readdirSync(folder).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
/** the file that holds the platform defaults of random and randomBytes */
const DEFAULTS = 'randomness.ts'

/** a global timer call or reference (a Clock's own method, `clock.setTimeout(`, is fine) */
const TIMERS = /(?<![.\w])(setTimeout|setInterval|clearTimeout|clearInterval|setImmediate)\b|globalThis\.(setTimeout|setInterval|clearTimeout|clearInterval|setImmediate)\b/
const CLOCKS = [/\bDate\.now\b/, /\bnew Date\b/, /\bperformance\.now\b/]
const RANDOMNESS = [/Math\.random/, /getRandomValues/, /randomUUID/, /\brandomId\b/, /\bcreateChallenge\b/]

const code = (file: string): string =>
  readFileSync(join(folder, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')

describe('src/transport takes its clock and randomness as options', () => {
  it('has source files to check, and the defaults file among them', () => {
    expect(files.length).toBeGreaterThan(10)
    expect(files).toContain(DEFAULTS)
  })

  it.each(files)('%s sets no global timer and reads no global clock', (file) => {
    const text = code(file)
    expect(TIMERS.exec(text)?.[0], `${file} uses a global timer`).toBeUndefined()
    for (const banned of CLOCKS) expect(banned.exec(text)?.[0], `${file} reads the time`).toBeUndefined()
  })

  it.each(files.filter((f) => f !== DEFAULTS))('%s draws no randomness of its own', (file) => {
    const text = code(file)
    for (const banned of RANDOMNESS) expect(banned.exec(text)?.[0], `${file} draws randomness`).toBeUndefined()
  })

  it('the defaults file holds the one default random and the one default randomBytes', () => {
    const text = code(DEFAULTS)
    expect(text.match(/Math\.random/g)).toHaveLength(1)
    expect(text.match(/getRandomValues/g)).toHaveLength(1)
  })
})
