import { InvalidArgumentError } from '@userplug/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createVendorClientLoader, type VendorClientOptions } from './create-vendor-client-loader.js';

const vendor = { vendor: 'Acme', apiKeyVariable: 'USERPLUG_TEST_ACME_KEY' };

afterEach(() => {
  delete process.env.USERPLUG_TEST_ACME_KEY;
});

describe('createVendorClientLoader', () => {
  it('reads the key when the client is first needed, and makes the client once', () => {
    const made: VendorClientOptions[] = [];
    const connect = createVendorClientLoader(
      { baseURL: 'http://127.0.0.1:9', timeoutMs: 5000 },
      vendor,
      (options) => {
        made.push(options);
        return { options };
      },
    );
    expect(connect).toThrow('Acme API key is missing. Pass `apiKey` or set USERPLUG_TEST_ACME_KEY.');
    process.env.USERPLUG_TEST_ACME_KEY = 'key-from-env';
    const client = connect();
    expect(connect()).toBe(client);
    expect(made).toEqual([
      { apiKey: 'key-from-env', maxRetries: 2, baseURL: 'http://127.0.0.1:9', timeout: 5000 },
    ]);
  });

  it('uses a given client as is, and refuses settings it would ignore', () => {
    const client = { mine: true };
    expect(createVendorClientLoader({ client }, vendor, () => ({ mine: false }))()).toBe(client);
    const error = (() => {
      try {
        createVendorClientLoader({ client, apiKey: 'k', baseURL: 'http://x' }, vendor, () => client);
      } catch (caught) {
        return caught;
      }
    })();
    expect(InvalidArgumentError.isInstance(error) && error.argument).toBe('apiKey');
    expect((error as Error).message).toBe(
      'Pass either `client` or `apiKey`, `baseURL`: a Acme client you pass is used as configured. Set them on the client instead.',
    );
    expect(() => createVendorClientLoader({ maxRetries: -1 }, vendor, () => client)).toThrow(
      'maxRetries must be a whole number ≥ 0, got -1.',
    );
  });
});
