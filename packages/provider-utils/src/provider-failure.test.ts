import {
  AuthenticationError,
  BadRequestError,
  ConnectionError,
  NotFoundError,
  OverloadedError,
  PermissionDeniedError,
  ProviderError,
  RateLimitError,
} from '@userplug/core';
import { describe, expect, it } from 'vitest';
import {
  malformedResponse,
  type ProviderIdentity,
  providerFailure,
  retriesSpent,
  retryAfterSeconds,
  transportFailure,
  unreadableResponse,
} from './provider-failure.js';

const identity: ProviderIdentity = {
  provider: 'acme',
  vendor: 'Acme',
  apiKeyVariable: 'ACME_API_KEY',
  baseUrlVariable: 'ACME_BASE_URL',
  api: 'the Acme API',
};
const context = { modelId: 'acme-1', maxRetries: 2 };

describe('retryAfterSeconds', () => {
  it('reads retry-after-ms first, then retry-after in seconds or as an HTTP date', () => {
    expect(retryAfterSeconds(new Headers({ 'retry-after-ms': '1500', 'retry-after': '9' }))).toBe(1.5);
    expect(retryAfterSeconds(new Headers({ 'retry-after-ms': '0' }))).toBe(0);
    expect(retryAfterSeconds(new Headers({ 'retry-after': '3' }))).toBe(3);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterSeconds(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }), now)).toBe(30);
    // A date already past asks for no wait.
    expect(retryAfterSeconds(new Headers({ 'retry-after': 'Wed, 31 Dec 2025 23:59:00 GMT' }), now)).toBe(0);
    expect(retryAfterSeconds(new Headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterSeconds(new Headers({ 'retry-after': '-4' }))).toBeUndefined();
    expect(retryAfterSeconds(new Headers())).toBeUndefined();
    expect(retryAfterSeconds(undefined)).toBeUndefined();
  });

  it('says how many retries were spent and how to get more', () => {
    expect(retriesSpent(1)).toBe('after 1 retry (raise `maxRetries` to retry more)');
    expect(retriesSpent(0)).toBe('after 0 retries (raise `maxRetries` to retry more)');
  });
});

describe('providerFailure', () => {
  it.each([
    [
      401,
      AuthenticationError,
      false,
      'Acme answered 401 (request r1): the API key was rejected (nope). Pass a valid `apiKey` or set ACME_API_KEY.',
    ],
    [
      403,
      PermissionDeniedError,
      false,
      'Acme answered 403 (request r1): access denied (nope). Check that the key may use model "acme-1".',
    ],
    [
      404,
      NotFoundError,
      false,
      'Acme answered 404 (request r1): not found (nope). Check `model` ("acme-1") and `baseURL` (or ACME_BASE_URL).',
    ],
    [
      408,
      ConnectionError,
      true,
      'Acme answered 408 (request r1): the request timed out after 2 retries (raise `maxRetries` to retry more) (nope). Try again later.',
    ],
    [409, OverloadedError, true, 'Acme answered 409 (request r1): server error after 2 retries'],
    [413, BadRequestError, false, 'the request is too large (nope). Lower `budget` or shorten the prompt.'],
    [
      422,
      BadRequestError,
      false,
      'the request was refused (nope). Fix the request; sending it again will fail the same way.',
    ],
    [500, OverloadedError, true, 'Acme answered 500 (request r1): server error after 2 retries'],
    [529, OverloadedError, true, 'Acme answered 529 (request r1): overloaded after 2 retries'],
  ] as const)(
    'makes a %i the matching subclass, with status, request id and the fix',
    (status, subclass, retryable, message) => {
      const cause = new Error('vendor error');
      const error = providerFailure(identity, context, { status, requestId: 'r1', reason: 'nope' }, cause);
      expect(subclass.isInstance(error)).toBe(true);
      expect(error).toMatchObject({
        provider: 'acme',
        status,
        requestId: 'r1',
        isRetryable: retryable,
        cause,
      });
      expect(error.message).toContain(message);
    },
  );

  it('keeps the wait a 429 asked for, and makes an exhausted quota not retryable', () => {
    const limited = providerFailure(
      identity,
      context,
      { status: 429, headers: new Headers({ 'retry-after': '12' }), reason: 'slow down' },
      undefined,
    );
    expect(RateLimitError.isInstance(limited)).toBe(true);
    expect(limited).toMatchObject({ retryAfterSeconds: 12, isRetryable: true, requestId: undefined });
    expect(limited.message).toBe(
      'Acme answered 429: rate limited after 2 retries (raise `maxRetries` to retry more); the API asked to wait 12 s (slow down). Slow down or try again later.',
    );
    const quota = providerFailure(
      identity,
      context,
      { status: 429, reason: 'no credit', quotaExhausted: true },
      undefined,
    );
    expect(RateLimitError.isInstance(quota)).toBe(true);
    expect(quota.isRetryable).toBe(false);
    expect(quota.message).toContain('out of quota');
  });

  it('classifies an error event inside a stream by its type, without an HTTP status', () => {
    const overloaded = providerFailure(
      identity,
      context,
      { classifyAs: 529, reason: 'Overloaded' },
      undefined,
    );
    expect(OverloadedError.isInstance(overloaded)).toBe(true);
    expect(overloaded).toMatchObject({ status: undefined, isRetryable: true });
    expect(overloaded.message).toBe(
      'Acme sent an error mid-stream, cutting the answer off: overloaded (Overloaded). Try again later.',
    );
    const invalid = providerFailure(identity, context, { classifyAs: 400, reason: 'bad' }, undefined);
    expect(BadRequestError.isInstance(invalid)).toBe(true);
    const unknown = providerFailure(identity, context, { reason: 'something broke' }, undefined);
    expect(unknown.name).toBe('UserplugProviderError');
    expect(unknown.isRetryable).toBe(true);
  });

  it('makes timeouts and unreachable servers retryable ConnectionErrors, naming the fix', () => {
    const cause = new Error('ECONNREFUSED');
    const connection = transportFailure('connection', identity, context, cause);
    expect(ConnectionError.isInstance(connection)).toBe(true);
    expect(connection).toMatchObject({ provider: 'acme', isRetryable: true, cause });
    expect(connection.message).toContain('Check the network and `baseURL` (or ACME_BASE_URL)');
    expect(transportFailure('timeout', identity, context, cause).message).toContain('Raise `timeoutMs`');
  });

  it('makes unusable responses non-retryable BadRequestErrors naming the expected format', () => {
    const malformed = malformedResponse(identity, 'Widgets', 'choices: too small');
    expect(BadRequestError.isInstance(malformed)).toBe(true);
    expect(malformed.message).toBe(
      'Acme sent a response that does not match the Widgets format (choices: too small). Check `baseURL` points at the Acme API.',
    );
    const unreadable = unreadableResponse(identity, new SyntaxError('Unexpected token'));
    expect(ProviderError.isInstance(unreadable) && unreadable.isRetryable).toBe(false);
    expect(unreadable.message).toContain('could not be read (Unexpected token)');
  });
});
