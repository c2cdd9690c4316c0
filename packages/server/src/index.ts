export type { RateLimitSettings } from './create-rate-limiter.js';
export {
  createUserplugServer,
  type ServerLogSettings,
  type UserplugServer,
  type UserplugServerSettings,
} from './create-userplug-server.js';
export * from './keys.js';
