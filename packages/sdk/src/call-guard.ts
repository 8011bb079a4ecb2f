/**
 * The guard every component call passes through: refuses calls while the
 * component shuts down, ends open streams with UNAVAILABLE when it does,
 * maps thrown errors to canonical codes (see errors.ts) and logs one debug
 * line per call with method, code and duration. As a connect interceptor
 * (callGuard) for connect-node, and as a call observer (callGuardObserver)
 * for the SDK's own gRPC server, which ends streams itself.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { toConnectError } from "./errors.js";
import type { CallObserver, ServerCall } from "./grpc/grpc-server.js";

/** The message of the UNAVAILABLE error that refuses or ends calls during shutdown. */
export const SHUTTING_DOWN = "component is shutting down";

/** Counts the calls in flight and knows when the component stops taking new ones. */
export class CallTracker {
  private unaryInFlight = 0;
  private idle: (() => void)[] = [];
  private readonly stopStreams = new AbortController();

  /** True once shutdown began: new calls are refused. */
  get closing(): boolean {
    return this.stopStreams.signal.aborted;
  }

  /** Aborted when shutdown begins: open streams end with UNAVAILABLE. */
  get streamsStop(): AbortSignal {
    return this.stopStreams.signal;
  }

  /** Refuses new calls and ends open streams. */
  beginShutdown(): void {
    this.stopStreams.abort();
  }

  /** Marks a unary call started. */
  enterUnary(): void {
    this.unaryInFlight++;
  }

  /** Marks a unary call finished. */
  leaveUnary(): void {
    this.unaryInFlight--;
    if (this.unaryInFlight === 0) this.idle.splice(0).forEach((resolve) => resolve());
  }

  /** Resolves when no unary call is in flight, or after timeoutMs, whichever comes first. */
  async drained(timeoutMs: number): Promise<boolean> {
    if (this.unaryInFlight === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      new Promise<true>((resolve) => this.idle.push(() => resolve(true))),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return done;
  }
}

/** Creates the interceptor for one component's calls. */
export function callGuard(tracker: CallTracker, logger: Logger): Interceptor {
  return (next) => async (request) => {
    const started = performance.now();
    const method = `/${request.service.typeName}/${request.method.name}`;
    const fail = (error: unknown): ConnectError => {
      const mapped = toConnectError(error);
      if (mapped.unexpected) logger.error({ method, err: error }, "call failed with an unexpected error");
      logCall(mapped.error.code);
      return mapped.error;
    };
    const logCall = (code: Code | 0) =>
      logger.debug({ method, code: code === 0 ? "OK" : Code[code], durationMs: Math.round((performance.now() - started) * 1000) / 1000 }, "call");

    if (tracker.closing) throw fail(new ConnectError(SHUTTING_DOWN, Code.Unavailable));
    if (!request.stream) {
      tracker.enterUnary();
      try {
        const response = await next(request);
        logCall(0);
        return response;
      } catch (error) {
        throw fail(error);
      } finally {
        tracker.leaveUnary();
      }
    }
    let response;
    try {
      response = await next(request);
    } catch (error) {
      throw fail(error);
    }
    if (!response.stream) return response;
    return { ...response, message: guardStream(response.message, tracker.streamsStop, fail, () => logCall(0)) };
  };
}

/**
 * The same guard for the SDK's own server: refuses calls during shutdown,
 * counts unary calls, maps errors and logs. Ending open streams at shutdown
 * is the server's part (GrpcServer.abortStreams).
 */
export function callGuardObserver(tracker: CallTracker, logger: Logger): CallObserver {
  const methodOf = (call: ServerCall) => `/${call.service.typeName}/${call.method.name}`;
  const logCall = (call: ServerCall, code: Code | 0) => {
    if (!logger.isLevelEnabled("debug")) return;
    const durationMs = Math.round((performance.now() - call.startedAt) * 1000) / 1000;
    logger.debug({ method: methodOf(call), code: code === 0 ? "OK" : Code[code], durationMs }, "call");
  };
  return {
    onStart(call) {
      if (tracker.closing) {
        logCall(call, Code.Unavailable);
        throw new ConnectError(SHUTTING_DOWN, Code.Unavailable);
      }
      if (call.method.methodKind === "unary") tracker.enterUnary();
    },
    toError(error, call) {
      const mapped = toConnectError(error);
      if (mapped.unexpected) logger.error({ method: methodOf(call), err: error }, "call failed with an unexpected error");
      return mapped.error;
    },
    onEnd(call, error) {
      if (call.method.methodKind === "unary") tracker.leaveUnary();
      logCall(call, error === undefined ? 0 : error.code);
    },
  };
}

/** Passes a response stream through, ending it with UNAVAILABLE when stop aborts. */
async function* guardStream<T>(
  source: AsyncIterable<T>,
  stop: AbortSignal,
  fail: (error: unknown) => ConnectError,
  succeeded: () => void,
): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let onStop: () => void = () => {};
  const stopped = new Promise<"stop">((resolve) => {
    onStop = () => resolve("stop");
    if (stop.aborted) onStop();
    else stop.addEventListener("abort", onStop, { once: true });
  });
  let exhausted = false;
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), stopped]);
      if (next === "stop") throw new ConnectError(SHUTTING_DOWN, Code.Unavailable);
      if (next.done === true) break;
      yield next.value;
    }
    exhausted = true;
  } catch (error) {
    throw fail(error);
  } finally {
    stop.removeEventListener("abort", onStop);
    // Ended early (shutdown, error, or the client went away): let the handler clean up.
    if (!exhausted) iterator.return?.().catch(() => {});
  }
  succeeded();
}
