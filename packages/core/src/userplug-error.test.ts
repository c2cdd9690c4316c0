import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, ProviderError, StoreError, UserplugError } from './userplug-error.js';

describe('UserplugError', () => {
  it('is recognised by marker, not by prototype, so duplicated package copies still match', () => {
    const error = new StoreError('boom', { userId: 'u1' });
    expect(UserplugError.isInstance(error)).toBe(true);
    expect(StoreError.isInstance(error)).toBe(true);
    expect(InvalidArgumentError.isInstance(error)).toBe(false);
    const foreignCopy = Object.assign(new Error('from another copy'), {
      [Symbol.for('userplug.error')]: true,
      name: 'UserplugStoreError',
    });
    expect(StoreError.isInstance(foreignCopy)).toBe(true);
    expect(UserplugError.isInstance(new Error('plain'))).toBe(false);
  });

  it('keeps stable names, readonly details and the cause', () => {
    const cause = new Error('socket hang up');
    const error = new ProviderError(
      'failed',
      { provider: 'openai', status: 429, retryable: true },
      { cause },
    );
    expect(error.name).toBe('UserplugProviderError');
    expect(error.status).toBe(429);
    expect(error.retryable).toBe(true);
    expect(error.cause).toBe(cause);
  });
});
