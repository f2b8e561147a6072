/** A per-process cache of loaded data sets: each family loads its data once, however many runs use it. */

/** `load` memoized by its key. */
export function dataCache<T>(load: (key: string) => T): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    let value = cache.get(key);
    if (value === undefined) {
      value = load(key);
      cache.set(key, value);
    }
    return value;
  };
}
