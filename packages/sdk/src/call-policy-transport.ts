/**
 * A Transport wrapper that gives unary calls a default deadline and retries
 * them on UNAVAILABLE with exponential backoff, when retrying is safe: the
 * method is declared free of side effects or idempotent, or the connection
 * was refused so the request never reached the server.
 */
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Transport } from "@connectrpc/connect";
import { errorCodes, notListeningErrno } from "./errno.js";
import { REFUSED_STREAM } from "./grpc/status.js";

/** How unary calls are retried on UNAVAILABLE. */
export interface RetryPolicy {
  /** The most attempts per call, the first included. Default 10 (about 5 s of backoff in all). */
  maxAttempts: number;
  /** The delay before the first retry, in ms; doubled each time. Default 50. */
  initialBackoffMs: number;
  /** The longest delay between attempts, in ms. Default 1000. */
  maxBackoffMs: number;
}

/** The retry policy used when none is given. */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 10, initialBackoffMs: 50, maxBackoffMs: 1000 };

/** Unary calls get this deadline unless the call sets one, in ms. */
export const DEFAULT_UNARY_TIMEOUT_MS = 30_000;

/** Tells whether a method can be sent again without changing the outcome. */
export function isIdempotent(method: DescMethod): boolean {
  return (
    method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS ||
    method.idempotency === MethodOptions_IdempotencyLevel.IDEMPOTENT
  );
}

/** Tells whether an error means the request never reached a server, or was refused unprocessed (nothing to repeat). */
function neverSent(error: ConnectError): boolean {
  return notListeningErrno(error.cause) !== undefined || errorCodes(error.cause).includes(REFUSED_STREAM);
}

/** Waits ms, or less if signal aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * The deadline of a call in ms, undefined for none: the call's own when it
 * sets one, else the default; as in connect, 0 or less means none.
 */
function deadlineOf(callTimeoutMs: number | undefined, defaultTimeoutMs: number): number | undefined {
  const timeoutMs = callTimeoutMs ?? defaultTimeoutMs;
  return timeoutMs > 0 ? timeoutMs : undefined;
}

/** Wraps transport with a default unary deadline and the retry policy (false: no retries). */
export function withCallPolicy(transport: Transport, timeoutMs: number, retry: RetryPolicy | false): Transport {
  return {
    unary(method, signal, callTimeoutMs, header, input, contextValues) {
      const budget = deadlineOf(callTimeoutMs, timeoutMs);
      const deadline = budget === undefined ? undefined : Date.now() + budget;
      // The first attempt with no async frame of its own: most calls need no retry.
      const first = transport.unary(method, signal, budget, header, input, contextValues);
      return first.catch(async (firstError: unknown) => {
        let error = firstError;
        for (let attempt = 1, backoff = retry ? retry.initialBackoffMs : 0; ; attempt++) {
          const err = ConnectError.from(error);
          const retryable = retry && attempt < retry.maxAttempts && err.code === Code.Unavailable && !signal?.aborted && (isIdempotent(method) || neverSent(err));
          if (!retryable) throw err;
          const delay = Math.min(backoff, deadline === undefined ? backoff : Math.max(0, deadline - Date.now()));
          await sleep(delay * (0.8 + Math.random() * 0.4), signal);
          backoff = Math.min(backoff * 2, retry.maxBackoffMs);
          const remaining = deadline === undefined ? undefined : deadline - Date.now();
          if (remaining !== undefined && remaining <= 0) {
            throw new ConnectError("deadline exceeded while retrying", Code.DeadlineExceeded);
          }
          try {
            return await transport.unary(method, signal, remaining, header, input, contextValues);
          } catch (next) {
            error = next;
          }
        }
      });
    },
    stream(method, signal, callTimeoutMs, header, input, contextValues) {
      return transport.stream(method, signal, deadlineOf(callTimeoutMs, 0), header, input, contextValues);
    },
  };
}
