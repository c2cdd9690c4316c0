export {
  type ApiKeyRecord,
  createKeyStore,
  type KeyStore,
  type KeyStoreSettings,
  type KeyVerification,
} from './create-key-store.js';
export type { RateLimitSettings } from './create-rate-limiter.js';
export {
  createUserplugServer,
  type ServerLogSettings,
  type UserplugServer,
  type UserplugServerSettings,
} from './create-userplug-server.js';
