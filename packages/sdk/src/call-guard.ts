/**
 * The guard every component call passes through: refuses calls while the
 * component shuts down, ends open streams with UNAVAILABLE when it does,
 * maps thrown errors to canonical codes (see errors.ts) and logs one debug
 * line per call with method, code and duration: a call observer of the
 * SDK's gRPC server, which ends streams itself.
 */
import { Code, ConnectError } from "@connectrpc/connect";
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

/**
 * The guard of one component's calls: refuses calls during shutdown, counts
 * unary calls, maps errors and logs. Ending open streams at shutdown is the
 * server's part (GrpcServer.abortStreams).
 */
export function callGuard(tracker: CallTracker, logger: Logger): CallObserver {
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
