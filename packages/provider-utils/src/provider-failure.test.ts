import { describe, expect, it } from 'vitest';
import { retriesSpent, retryAfterSeconds, transportFailure } from './provider-failure.js';
import { ProviderError } from './userplug-error.js';

describe('provider failures', () => {
  it('reads retry-after in milliseconds first, then seconds', () => {
    expect(retryAfterSeconds(new Headers({ 'retry-after-ms': '1500', 'retry-after': '9' }))).toBe(1.5);
    expect(retryAfterSeconds(new Headers({ 'retry-after': '3' }))).toBe(3);
    expect(retryAfterSeconds(new Headers())).toBeUndefined();
    expect(retryAfterSeconds(undefined)).toBeUndefined();
  });

  it('says how many retries were spent and how to get more', () => {
    expect(retriesSpent(1)).toBe('after 1 retry (raise `maxRetries` to retry more)');
    expect(retriesSpent(0)).toContain('after 0 retries');
  });

  it('makes timeouts and unreachable servers retryable, naming the fix', () => {
    const identity = { provider: 'openai', vendor: 'OpenAI', baseUrlVariable: 'OPENAI_BASE_URL' };
    const cause = new Error('ECONNREFUSED');
    const connection = transportFailure('connection', identity, 2, cause);
    expect(ProviderError.isInstance(connection)).toBe(true);
    expect(connection).toMatchObject({ provider: 'openai', retryable: true, cause });
    expect(connection.message).toContain('OPENAI_BASE_URL');
    expect(transportFailure('timeout', identity, 2, cause).message).toContain('Raise `timeoutMs`');
  });
});
