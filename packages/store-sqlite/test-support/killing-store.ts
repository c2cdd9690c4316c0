import type { StoredItem, UserplugStore } from '@userplug/core';

/**
 * Wraps a store so the process kills itself while the store reads the items of one batch, that is in the
 * middle of its write transaction (the store reads each item's vectors as it writes the item's rows).
 */
export function killingStore(store: UserplugStore, batch: number): UserplugStore {
  let calls = 0;
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property !== 'upsertItems') return Reflect.get(target, property, receiver);
      return (userId: string, items: readonly StoredItem[]) => {
        if (calls++ !== batch) return target.upsertItems(userId, items);
        let reads = 0;
        // The store reads each item's vectors once to validate the batch, then once more to write its row.
        const killAt = items.length + Math.floor(items.length / 2);
        const trapped = items.map((item) => {
          const copy = { ...item };
          Object.defineProperty(copy, 'vectors', {
            get() {
              if (++reads === killAt) process.kill(process.pid, 'SIGKILL');
              return item.vectors;
            },
          });
          return copy as StoredItem;
        });
        return target.upsertItems(userId, trapped);
      };
    },
  });
}
