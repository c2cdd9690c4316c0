// The key store alone, without the HTTP framework: what `userplug keys` loads.
export {
  type ApiKeyRecord,
  createKeyStore,
  type KeyStore,
  type KeyStoreSettings,
  type KeyVerification,
  requireTenantName,
} from './create-key-store.js';
