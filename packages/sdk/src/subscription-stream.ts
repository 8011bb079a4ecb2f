/**
 * Turns a push subscription (a listener registered on some source) into an
 * async iterable a streaming handler can yield from, ending when the call's
 * signal aborts, or with RESOURCE_EXHAUSTED when the client falls too far
 * behind.
 */
import { ResourceExhaustedError } from "./errors.js";

/** The most values a subscription stream queues for a client that does not read, by default. */
export const DEFAULT_MAX_QUEUED = 10_000;
/** The most bytes (per sizeOf) a subscription stream queues for a client that does not read, by default. */
export const DEFAULT_MAX_QUEUED_BYTES = 16 * 1024 * 1024;

/** The bounds of a subscription stream's queue, and what its client is told when it overflows. */
export interface SubscriptionStreamOptions<T> {
  /** The most values queued and not yet read; one more ends the stream with RESOURCE_EXHAUSTED. Default 10,000. */
  maxQueued?: number;
  /** The most bytes queued, as sizeOf counts them; more ends the stream with RESOURCE_EXHAUSTED. Default 16 MiB. */
  maxQueuedBytes?: number;
  /** The size of a value in bytes, for maxQueuedBytes; without it only the count is bounded. */
  sizeOf?: (value: T) => number;
  /** What the values are, in the overflow message, plural: "log lines". Default "updates". */
  noun?: string;
  /** What the client should do to carry on, ending the overflow message. Default "call again to resume". */
  resume?: string;
}

/**
 * Subscribes at once, then yields every value the subscription pushes, in
 * order, until signal aborts. subscribe registers a push callback and returns
 * the function that unregisters it; that runs when the stream ends or the
 * signal aborts, whichever is first. Values wait in a bounded queue while the
 * client is not reading: once it holds more than options allow, the queue is
 * dropped, the subscription ends, and the stream throws a
 * ResourceExhaustedError telling the client how to resume.
 */
export function subscriptionStream<T>(
  signal: AbortSignal,
  subscribe: (push: (value: T) => void) => () => void,
  options: SubscriptionStreamOptions<T> = {},
): AsyncGenerator<T> {
  const maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
  const maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
  const sizeOf = options.sizeOf;
  const pending: T[] = [];
  let pendingBytes = 0;
  let overflow: string | undefined;
  let wake: (() => void) | undefined;
  let unsubscribe = (): void => {};
  const cutOff = (why: string) => {
    // Stop buffering at once, whether or not the stream is being read.
    overflow = why;
    pending.length = 0;
    pendingBytes = 0;
    unsubscribe();
    wake?.();
  };
  unsubscribe = subscribe((value) => {
    if (overflow !== undefined) return;
    pending.push(value);
    if (sizeOf !== undefined) pendingBytes += sizeOf(value);
    if (pending.length > maxQueued) cutOff(`more than ${maxQueued} ${options.noun ?? "updates"}`);
    else if (pendingBytes > maxQueuedBytes) cutOff(`more than ${maxQueuedBytes} bytes of ${options.noun ?? "updates"}`);
    else wake?.();
  });
  const onAbort = () => {
    unsubscribe();
    wake?.();
  };
  signal.addEventListener("abort", onAbort, { once: true });
  return (async function* () {
    try {
      while (!signal.aborted) {
        if (overflow !== undefined) {
          throw new ResourceExhaustedError(
            `the client fell behind: ${overflow} were waiting to be sent, so the stream was ended; ${options.resume ?? "call again to resume"}`,
          );
        }
        if (pending.length === 0) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        const value = pending.shift()!;
        if (sizeOf !== undefined) pendingBytes -= sizeOf(value);
        yield value;
      }
    } finally {
      unsubscribe();
      signal.removeEventListener("abort", onAbort);
    }
  })();
}
