import { describe, expect, it } from 'vitest';
import {
  AbortError,
  AuthenticationError,
  BadRequestError,
  ConnectionError,
  InvalidArgumentError,
  NotFoundError,
  OverloadedError,
  PermissionDeniedError,
  ProviderError,
  RateLimitError,
  StoreError,
  throwIfAborted,
  UserplugError,
} from './userplug-error.js';

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
    expect(error.isRetryable).toBe(true);
    expect(error.cause).toBe(cause);
  });
});

describe('ProviderError subclasses', () => {
  it('carry their own names and retry defaults, and stay ProviderErrors', () => {
    const details = { provider: 'openai', status: 429, requestId: 'req_1', retryAfterSeconds: 3 };
    const rateLimit = new RateLimitError('slow down', details);
    expect(rateLimit.name).toBe('UserplugProviderRateLimitError');
    expect(rateLimit.isRetryable).toBe(true);
    expect(rateLimit.retryAfterSeconds).toBe(3);
    expect(rateLimit.requestId).toBe('req_1');
    expect(RateLimitError.isInstance(rateLimit)).toBe(true);
    expect(ProviderError.isInstance(rateLimit)).toBe(true);
    expect(AuthenticationError.isInstance(rateLimit)).toBe(false);

    const retryableByDefault = [
      [new AuthenticationError('x', { provider: 'p' }), false],
      [new PermissionDeniedError('x', { provider: 'p' }), false],
      [new NotFoundError('x', { provider: 'p' }), false],
      [new BadRequestError('x', { provider: 'p' }), false],
      [new OverloadedError('x', { provider: 'p' }), true],
      [new ConnectionError('x', { provider: 'p' }), true],
    ] as const;
    for (const [error, retryable] of retryableByDefault) {
      expect(error.isRetryable, error.name).toBe(retryable);
      expect(ProviderError.isInstance(error)).toBe(true);
    }
    // An explicit verdict wins over the subclass's default.
    expect(new OverloadedError('x', { provider: 'p', retryable: false }).isRetryable).toBe(false);
  });
});

describe('AbortError', () => {
  it('is thrown by throwIfAborted with the signal reason as cause, and only when aborted', () => {
    const controller = new AbortController();
    expect(() => throwIfAborted(controller.signal, 'Personalize for user "u1"')).not.toThrow();
    controller.abort(new Error('user left'));
    let caught: unknown;
    try {
      throwIfAborted(controller.signal, 'Personalize for user "u1"');
    } catch (error) {
      caught = error;
    }
    expect(AbortError.isInstance(caught)).toBe(true);
    expect((caught as AbortError).name).toMatch(/AbortError$/);
    expect((caught as AbortError).message).toBe('Personalize for user "u1" was aborted.');
    expect((caught as AbortError).cause).toEqual(new Error('user left'));
  });
});
