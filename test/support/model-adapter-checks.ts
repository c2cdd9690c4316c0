import { createHashingEncoder, type Encoder, type StreamPart } from '@userplug/core';
import { expect, vi } from 'vitest';
import type { RecordedRequest } from './start-recording-server.js';

/** An error as tests read it: the fields of whichever error class came. */
// biome-ignore lint/suspicious/noExplicitAny: tests read the fields of whichever error class came.
type CaughtError = any;

/** The error `promise` rejects with; fails the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<CaughtError> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, and it succeeded');
}

/** Every part of a stream, in order. */
export async function collectStream(parts: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const collected: StreamPart[] = [];
  for await (const part of parts) collected.push(part);
  return collected;
}

/** The text deltas a stream sent before it failed, and the error; fails the test when the stream completes. */
export async function streamUntilFailure(
  parts: AsyncIterable<StreamPart>,
): Promise<{ texts: string[]; error: CaughtError }> {
  const texts: string[] = [];
  const error = await rejectionOf(
    (async () => {
      for await (const part of parts) if (part.type === 'text-delta') texts.push(part.text);
    })(),
  );
  return { texts, error };
}

/** A hashing encoder that aborts `controller` while it embeds, under its own id so that nothing cached is reused. */
export function abortingEncoder(controller: AbortController): Encoder {
  const hashing = createHashingEncoder();
  return {
    ...hashing,
    id: 'aborting-hashing-256',
    async encode(texts, options) {
      controller.abort();
      return hashing.encode(texts, options);
    },
  };
}

/**
 * Starts `call`, aborts it once the server holds its request (the `index`-th), and returns the error after the
 * server saw the connection closed.
 */
export async function abortOnceSent(
  call: (signal: AbortSignal) => Promise<unknown>,
  requests: () => readonly RecordedRequest[],
  index = 0,
): Promise<Error> {
  const controller = new AbortController();
  const pending = rejectionOf(call(controller.signal));
  await vi.waitFor(() => expect(requests().length).toBeGreaterThan(index));
  controller.abort(new Error('user left'));
  const error = await pending;
  await vi.waitFor(() => expect(requests()[index]!.closedByClient).toBe(true));
  return error;
}

/** Runs `body` with the environment variable `name` unset, then puts it back. */
export async function withoutEnvironmentVariable(name: string, body: () => Promise<void>): Promise<void> {
  const saved = process.env[name];
  delete process.env[name];
  try {
    await body();
  } finally {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  }
}

/** Checks that `error` is of `errorClass` (by its `isInstance`), has `fields`, and that its message names `fix`. */
export function expectFailure(
  error: CaughtError,
  errorClass: { isInstance(error: unknown): boolean },
  fields: Record<string, unknown>,
  fix: string,
): void {
  expect(errorClass.isInstance(error)).toBe(true);
  expect(error).toMatchObject(fields);
  expect(error.message).toContain(fix);
}
