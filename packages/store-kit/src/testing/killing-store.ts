import type { StoredItem, UserplugStore } from '@userplug/core';

/** When {@link killingStore} kills the process. */
export interface KillSettings {
  /** The upsert call (0-based) to die in. */
  batch: number;
  /**
   * Die at this read of the vectors of the batch's middle item. Default 2: a store built on `@userplug/store-kit`
   * reads them once to check the batch, before its transaction, and once more to write them, inside it.
   */
  atRead?: number;
}

/**
 * Wraps a store so that the process SIGKILLs itself in the middle of writing one batch, that is inside the
 * store's write transaction, to prove that a batch is stored whole or not at all.
 */
export function killingStore(store: UserplugStore, settings: KillSettings): UserplugStore {
  let calls = 0;
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property !== 'upsertItems') return Reflect.get(target, property, receiver);
      return (userId: string, items: readonly StoredItem[]) => {
        if (calls++ !== settings.batch) return target.upsertItems(userId, items);
        const middle = Math.floor(items.length / 2);
        let reads = 0;
        const trapped = items.map((item, index) => {
          if (index !== middle) return item;
          const copy = { ...item };
          Object.defineProperty(copy, 'vectors', {
            get() {
              if (++reads === (settings.atRead ?? 2)) process.kill(process.pid, 'SIGKILL');
              return item.vectors;
            },
          });
          return copy;
        });
        return target.upsertItems(userId, trapped);
      };
    },
  });
}
