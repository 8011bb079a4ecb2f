/**
 * Turns a push subscription (a listener registered on some source) into an
 * async iterable a streaming handler can yield from, ending when the call's
 * signal aborts.
 */

/**
 * Subscribes at once, then yields every value the subscription pushes, in
 * order, until signal aborts. subscribe registers a push callback and returns
 * the function that unregisters it; that runs when the stream ends or the
 * signal aborts, whichever is first.
 */
export function subscriptionStream<T>(
  signal: AbortSignal,
  subscribe: (push: (value: T) => void) => () => void,
): AsyncGenerator<T> {
  const pending: T[] = [];
  let wake: (() => void) | undefined;
  const unsubscribe = subscribe((value) => {
    pending.push(value);
    wake?.();
  });
  const onAbort = () => {
    unsubscribe();
    wake?.();
  };
  signal.addEventListener("abort", onAbort, { once: true });
  return (async function* () {
    try {
      while (!signal.aborted) {
        if (pending.length === 0) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        yield pending.shift()!;
      }
    } finally {
      unsubscribe();
      signal.removeEventListener("abort", onAbort);
    }
  })();
}
