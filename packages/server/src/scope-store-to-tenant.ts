import { UserplugError, type UserplugStore } from '@userplug/core';

/** Where a tenant's users live in the shared store: tenant names never hold `/`, so ids of two tenants never meet. */
export function tenantUserId(tenant: string, userId: string): string {
  return `tenant/${tenant}/${userId}`;
}

/**
 * A view of the store holding one tenant's users only: every call's user id is moved under the tenant's
 * prefix, so a personalizer on this view cannot name another tenant's user. Closing the view closes nothing.
 */
export function scopeStoreToTenant(store: UserplugStore, tenant: string): UserplugStore {
  const prefix = tenantUserId(tenant, '');
  const scoped = async <T>(userId: string, run: (storedId: string) => Promise<T>): Promise<T> => {
    const storedId = prefix + userId;
    try {
      return await run(storedId);
    } catch (error) {
      // Messages name the user as the tenant knows it.
      if (UserplugError.isInstance(error)) error.message = error.message.replaceAll(storedId, userId);
      throw error;
    }
  };
  const view: UserplugStore = {
    id: store.id,
    upsertItems: (userId, items) => scoped(userId, (id) => store.upsertItems(id, items)),
    listItems: (userId) => scoped(userId, (id) => store.listItems(id)),
    getItemHashes: (userId, itemIds) => scoped(userId, (id) => store.getItemHashes(id, itemIds)),
    findVectors: (userId, encoderId, textHashes) =>
      scoped(userId, (id) => store.findVectors(id, encoderId, textHashes)),
    deleteItems: (userId, itemIds) => scoped(userId, (id) => store.deleteItems(id, itemIds)),
    countItems: (userId) => scoped(userId, (id) => store.countItems(id)),
    getRevision: (userId) => scoped(userId, (id) => store.getRevision(id)),
    forget: (userId) => scoped(userId, async (id) => ({ ...(await store.forget(id)), userId })),
    async listUserIds() {
      const ids = await store.listUserIds();
      return ids.filter((id) => id.startsWith(prefix)).map((id) => id.slice(prefix.length));
    },
    async close() {},
  };
  if (store.getCached && store.setCached) {
    const getCached = store.getCached.bind(store);
    const setCached = store.setCached.bind(store);
    view.getCached = (userId, key) => scoped(userId, (id) => getCached(id, key));
    view.setCached = (userId, key, revision, value) =>
      scoped(userId, (id) => setCached(id, key, revision, value));
  }
  if (store.getUserState && store.setUserState) {
    const getUserState = store.getUserState.bind(store);
    const setUserState = store.setUserState.bind(store);
    view.getUserState = (userId, key) => scoped(userId, (id) => getUserState(id, key));
    view.setUserState = (userId, key, value) => scoped(userId, (id) => setUserState(id, key, value));
  }
  return view;
}
