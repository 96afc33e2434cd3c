// A scan of JSON text that does not recurse. `JSON.parse` builds any depth
// without trouble, but everything that walks the value afterwards recursively
// (`JSON.stringify`, a structured clone, a validator) overflows the stack on a
// value nested a few thousand deep: ~9 KB of `[[[[…]]]]` from a hostile peer
// or server. So the depth of untrusted text is measured on the text, in a loop,
// before its value is walked; and a relay (the signaling server) splices the
// text of a member it forwards instead of re-serialising the value.

/** Where one member of the top-level object sits in the text: `text.slice(start, end)` is its value. */
export interface JsonSpan {
  start: number
  end: number
}

export interface JsonScan {
  /** deepest nesting of objects and arrays (a scalar is 0, `{}` is 1); stops counting past the limit */
  depth: number
  /** the top-level object's members by key (the last one wins, as in JSON.parse); empty for anything else */
  members: Map<string, JsonSpan>
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r'])

/**
 * Scan `text`, which JSON.parse has already accepted (the scan checks no
 * syntax). Stops as soon as the nesting passes `maxDepth`, and then reports
 * `depth` as maxDepth + 1 with the members found so far.
 */
export function scanJson(text: string, maxDepth: number): JsonScan {
  const members = new Map<string, JsonSpan>()
  let depth = 0
  let deepest = 0
  let topIsObject = false
  // the top-level member being read: its key, and where its value started
  let key: string | null = null
  let valueStart = -1
  const endValue = (end: number): void => {
    if (key !== null && valueStart >= 0) members.set(key, { start: valueStart, end: trimEnd(text, valueStart, end) })
    key = null
    valueStart = -1
  }
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (ch === '"') {
      const close = stringEnd(text, i)
      // a string at depth 1 of an object, before its ':', is a key
      if (topIsObject && depth === 1 && key === null) key = JSON.parse(text.slice(i, close + 1)) as string
      else if (topIsObject && depth === 1 && valueStart < 0) valueStart = i
      i = close
      continue
    }
    if (WHITESPACE.has(ch)) continue
    if (ch === '{' || ch === '[') {
      if (depth === 0) topIsObject = ch === '{'
      else if (topIsObject && depth === 1 && valueStart < 0) valueStart = i
      depth++
      if (depth > deepest) deepest = depth
      if (deepest > maxDepth) return { depth: maxDepth + 1, members }
      continue
    }
    if (ch === '}' || ch === ']') {
      depth--
      if (depth === 0 && topIsObject) endValue(i)
      continue
    }
    if (topIsObject && depth === 1) {
      if (ch === ',') endValue(i)
      else if (ch !== ':' && valueStart < 0) valueStart = i
    }
  }
  return { depth: deepest, members }
}

/** Index of the quote that closes the string opening at `open`. */
function stringEnd(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    const ch = text[i]
    if (ch === '\\') i++
    else if (ch === '"') return i
  }
  return text.length - 1
}

function trimEnd(text: string, start: number, end: number): number {
  while (end > start && WHITESPACE.has(text[end - 1]!)) end--
  return end
}
