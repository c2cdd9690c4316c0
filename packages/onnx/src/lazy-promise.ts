/**
 * A promise whose work starts only when something first waits on it (`then`, `catch`, `finally`, `await`):
 * a personalizer can hold the model's token counter from the start while the model loads on first use.
 */
export function lazyPromise<T>(start: () => Promise<T>): Promise<T> {
  let started: Promise<T> | undefined;
  const run = () => {
    started ??= start();
    return started;
  };
  const lazy: Pick<Promise<T>, 'then' | 'catch' | 'finally' | typeof Symbol.toStringTag> = {
    // biome-ignore lint/suspicious/noThenProperty: a thenable on purpose, awaited like any promise.
    then: (onFulfilled, onRejected) => run().then(onFulfilled, onRejected),
    catch: (onRejected) => run().catch(onRejected),
    finally: (onFinally) => run().finally(onFinally),
    [Symbol.toStringTag]: 'Promise',
  };
  return lazy as Promise<T>;
}
