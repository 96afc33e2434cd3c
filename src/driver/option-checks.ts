// Options an app hands to an entry point, checked before anything is opened,
// queued or scheduled. A bad option is a MeshError BAD_ARGUMENTS whose message
// names the option and says what is accepted: a session timeout of NaN or
// 2^31 used to become a 10 s TIMEOUT or a call that never settled, far from
// its cause.
//
// What must stay true: a bound here is the bound of the code that uses the
// value (the command codec's session timeout, setTimeout's 32-bit delay, the
// wire's member id pattern) — imported, never restated — so an option that
// passes can be used.
import { MeshError } from '../shared/errors'
import { MAX_MEMBER_SESSION_TIMEOUT_MS, MEMBER_ID_PATTERN } from '../wire/limits'
import type { MemberTiming } from './options'
import { MAX_TIMER_MS } from '../shared/clock'

/** Checks one present (not undefined) option value; throws BAD_ARGUMENTS. */
export type OptionRule = (option: string, value: unknown) => void

/** the shortest session timeout: below a second, a session would expire across one election */
export const MIN_SESSION_TIMEOUT_MS = 1_000
/** the most voters a cluster may be asked to keep (Raft's quorum traffic grows with each) */
export const MAX_VOTERS_LIMIT = 64
/** room names, as the signaling server bounds them */
export const MAX_ROOM_LENGTH = 128

export function refuse(option: string, accepted: string, value: unknown): never {
  throw new MeshError('BAD_ARGUMENTS', `${option} must be ${accepted}, got ${show(value)}`)
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value)
  if (Array.isArray(value)) return `an array of ${value.length}`
  return `a ${typeof value}`
}

export const integer =
  (min: number, max: number): OptionRule =>
  (option, value) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) refuse(option, `an integer from ${min} to ${max}`, value)
  }

export const oneOf =
  (...allowed: readonly string[]): OptionRule =>
  (option, value) => {
    if (typeof value !== 'string' || !allowed.includes(value)) refuse(option, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value)
  }

export const text =
  (min = 0, max = Number.MAX_SAFE_INTEGER): OptionRule =>
  (option, value) => {
    if (typeof value !== 'string' || value.length < min || value.length > max) refuse(option, `a string of ${min} to ${max} characters`, value)
  }

export const boolean: OptionRule = (option, value) => {
  if (typeof value !== 'boolean') refuse(option, 'true or false', value)
}

export const callback: OptionRule = (option, value) => {
  if (typeof value !== 'function') refuse(option, 'a function', value)
}

export const object: OptionRule = (option, value) => {
  if (typeof value !== 'object' || value === null) refuse(option, 'an object', value)
}

export const memberId: OptionRule = (option, value) => {
  if (typeof value !== 'string' || !MEMBER_ID_PATTERN.test(value)) refuse(option, `a member id (${MEMBER_ID_PATTERN.source})`, value)
}

/** an array whose every item passes `item` (checked as `option[i]`) */
export const arrayOf =
  (item: OptionRule, minLength = 0): OptionRule =>
  (option, value) => {
    if (!Array.isArray(value) || value.length < minLength) refuse(option, `an array of at least ${minLength}`, value)
    value.forEach((v, i) => item(`${option}[${i}]`, v))
  }

/** one value, one of two shapes (the message of the second is the one shown) */
export const either =
  (first: OptionRule, second: OptionRule): OptionRule =>
  (option, value) => {
    try {
      first(option, value)
    } catch {
      second(option, value)
    }
  }

/** a duration a timer can wait: setTimeout's delay is a signed 32-bit count of ms */
export const duration = (min = 1): OptionRule => integer(min, MAX_TIMER_MS)

/**
 * Check `opts` against `rules`: every present option must pass its rule;
 * `required` ones must be present. Options without a rule are not looked at
 * (types and platform objects an entry point passes through).
 */
export function checkOptions(what: string, opts: unknown, rules: Readonly<Record<string, OptionRule>>, required: readonly string[] = []): void {
  if (typeof opts !== 'object' || opts === null) refuse(`${what} options`, 'an object', opts)
  const record = opts as Record<string, unknown>
  for (const [option, rule] of Object.entries(rules)) {
    const value = record[option]
    if (value === undefined) {
      if (required.includes(option)) refuse(option, 'given', value)
      continue
    }
    rule(option, value)
  }
}

const TIMING_RULES: Readonly<Record<keyof MemberTiming, OptionRule>> = {
  tickMs: duration(),
  electionTicks: integer(1, 10_000),
  heartbeatTicks: integer(1, 10_000),
  retryMs: duration(),
  requestTimeoutMs: duration(),
  sessionHeartbeatMs: duration(),
  failureTimeoutMs: duration(),
  vanishedAfterMs: duration(),
  reapEveryMs: duration(),
  membershipEveryMs: duration(),
  joinEveryMs: duration(),
  snapshotEntries: integer(1, Number.MAX_SAFE_INTEGER),
  catchUpLag: integer(0, Number.MAX_SAFE_INTEGER),
}

const timing: OptionRule = (option, value) => {
  object(option, value)
  for (const [key, v] of Object.entries(value as object)) {
    const rule = (TIMING_RULES as Record<string, OptionRule>)[key]
    if (rule === undefined) refuse(`${option}.${key}`, `a timing (${Object.keys(TIMING_RULES).join(', ')})`, key)
    if (v !== undefined) rule(`${option}.${key}`, v)
  }
}

/** The settings of a member every entry point passes on (shared/api.md's joinMesh options and MemberOptions). */
export const MEMBER_SETTING_RULES: Readonly<Record<string, OptionRule>> = {
  sessionTimeoutMs: integer(MIN_SESSION_TIMEOUT_MS, MAX_MEMBER_SESSION_TIMEOUT_MS),
  maxVoters: integer(1, MAX_VOTERS_LIMIT),
  whenNoQuorum: oneOf('fail', 'wait'),
  timeline: boolean,
  timing,
}

/** Room, secret and signaling, as joinMesh and joinMeshFromNode take them. */
export const ROOM_RULES: Readonly<Record<string, OptionRule>> = {
  room: text(1, MAX_ROOM_LENGTH),
  secret: text(),
  signaling: either(text(1), arrayOf(text(1), 1)),
  iceServers: arrayOf(object),
}
