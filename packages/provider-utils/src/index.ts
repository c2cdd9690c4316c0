/**
 * What userplug's model adapters share (`@userplug/openai`, `@userplug/anthropic`, `@userplug/onnx`).
 * Internal: no semver promise; apps import the adapters.
 */
export { abortErrorFor, type CallScope, openCallScope } from './call-scope.js';
export {
  type CheckedRequest,
  checkGenerateRequest,
  earlierMessages,
  unsupportedSettingWarnings,
} from './check-generate-request.js';
export {
  createHostedModelAdapter,
  type FittedPersona,
  type HostedModel,
  type VendorAnswer,
  type VendorFinish,
  type VendorStreamPart,
} from './create-hosted-model-adapter.js';
export {
  createVendorClientLoader,
  type LoadApiKeyOptions,
  loadApiKey,
  type VendorClientOptions,
  type VendorConnectionSettings,
} from './create-vendor-client-loader.js';
export { generateFromStream } from './generate-from-stream.js';
export {
  type CallClock,
  costInUsd,
  findModelPrice,
  hostedModelUsage,
  type ModelPrice,
  modelTimings,
  type PersonaAccount,
  type ReportedUsage,
} from './model-usage.js';
export {
  type BudgetedPersonalization,
  fittedPersonaOf,
  type PersonalizeWithinBudgetOptions,
  personalizeRequestFor,
  personalizeWithinBudget,
} from './personalize-within-budget.js';
export {
  malformedResponse,
  type ProviderErrorContext,
  type ProviderIdentity,
  providerFailure,
  type ReportedFailure,
  retriesSpent,
  retryAfterSeconds,
  transportFailure,
  unreadableResponse,
} from './provider-failure.js';
export {
  type NumberRange,
  requireModelId,
  requireNumberInRange,
  requireWholeNumber,
} from './validate-settings.js';
