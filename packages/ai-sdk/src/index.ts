export { type UserplugMiddlewareSettings, userplugMiddleware } from './userplug-middleware.js';
