// Settle: what the simulator wraps around every promise a Mesh returns, so an
// awaited call drives virtual time until it settles (testing/time-driver.ts).
// Outside the simulator it is the identity.

/** Applied to every promise a Mesh returns; the simulator drives virtual time in it. */
export type Settle = <T>(p: Promise<T>) => Promise<T>

/**
 * Wrap an object so every promise its methods return (and every object those
 * promises or methods hand back, like a Lease) goes through `settle`. Methods
 * run on the original object, so private state keeps working.
 */
export function settleDeep<T>(value: T, settle: Settle, seen = new WeakMap<object, unknown>()): T {
  if (value instanceof Promise) return settle(value.then((v: unknown) => settleDeep(v, settle, seen))) as T
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array || Array.isArray(value)) return value
  const known = seen.get(value)
  if (known !== undefined) return known as T
  const target = value as object
  const proxy = new Proxy(target, {
    get(t, prop) {
      const v: unknown = Reflect.get(t, prop, t)
      if (typeof v !== 'function') return settleDeep(v, settle, seen)
      return (...args: unknown[]) => settleDeep((v as (...a: unknown[]) => unknown).apply(t, args), settle, seen)
    },
  })
  seen.set(target, proxy)
  return proxy as T
}

