// Wall-clock milliseconds with sub-millisecond resolution. Every tab of one
// machine (and the Node driver's Date.now()) reads the same system clock, so
// a time taken in one tab can be compared with one taken in another tab or in
// the driver (harness.ts measures the offset it sees, parts/floor.ts records it).
export const wallNow = (): number => performance.timeOrigin + performance.now()
