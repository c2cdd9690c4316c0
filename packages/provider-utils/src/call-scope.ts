import { AbortError } from '@userplug/core';

/** One call's cancellation: the caller's signal, plus the call's own end (a stream left early). */
export interface CallScope {
  /** Aborts when the caller's signal does, or when the call ends: pass it to the vendor request. */
  readonly signal: AbortSignal;
  /** Throws an `AbortError` when the caller has aborted: call it before each step that starts work. */
  throwIfAborted(): void;
  /** Settles as `promise` does, but rejects with an `AbortError` as soon as the caller aborts. */
  guard<T>(promise: Promise<T>): Promise<T>;
  /** What to throw for `error`: an `AbortError` when the caller aborted, else `normalize(error)`. */
  failure(error: unknown, normalize: (error: unknown) => unknown): unknown;
  /** Ends the call: stops a vendor request still in flight and stops listening to the caller's signal. */
  close(): void;
}

/** The error of an aborted call: `what` names it (`Generation for user "ana"`); the signal's reason is kept. */
export function abortErrorFor(signal: AbortSignal | undefined, what: string): AbortError {
  return new AbortError(`${what} was aborted.`, { reason: signal?.reason }, { cause: signal?.reason });
}

/**
 * Opens the cancellation scope of one call. An aborted call rejects at once (it does not wait for the vendor
 * SDK to notice) and its vendor request is stopped, so the server sees the connection close.
 */
export function openCallScope(callerSignal: AbortSignal | undefined, what: string): CallScope {
  const controller = new AbortController();
  const forward = () => controller.abort(callerSignal?.reason);
  callerSignal?.addEventListener('abort', forward, { once: true });
  if (callerSignal?.aborted) forward();
  let rejectAborted: (() => void) | undefined;
  let aborted: Promise<never> | undefined;
  const abortedPromise = (): Promise<never> => {
    aborted ??= new Promise<never>((_resolve, reject) => {
      rejectAborted = () => reject(abortErrorFor(callerSignal, what));
      if (callerSignal?.aborted) rejectAborted();
      else callerSignal?.addEventListener('abort', rejectAborted, { once: true });
    });
    // The loser of a race must not surface as an unhandled rejection.
    aborted.catch(() => {});
    return aborted;
  };
  return {
    signal: controller.signal,
    throwIfAborted() {
      if (callerSignal?.aborted) throw abortErrorFor(callerSignal, what);
    },
    guard(promise) {
      if (callerSignal === undefined) return promise;
      promise.catch(() => {});
      return Promise.race([promise, abortedPromise()]);
    },
    failure(error, normalize) {
      if (AbortError.isInstance(error)) return error;
      if (callerSignal?.aborted) return abortErrorFor(callerSignal, what);
      return normalize(error);
    },
    close() {
      callerSignal?.removeEventListener('abort', forward);
      if (rejectAborted) callerSignal?.removeEventListener('abort', rejectAborted);
      controller.abort();
    },
  };
}
