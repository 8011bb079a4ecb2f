/**
 * A connection to one component over its unix socket: typed clients for any
 * generated service, an explicit close, reconnection after the component
 * restarts, a default deadline and retries (see call-policy-transport.ts).
 */
import { connect } from "node:net";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import type { Client, Interceptor, Transport } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "@moby-core/grpc-health-api/v1";
import { DEFAULT_RETRY, DEFAULT_UNARY_TIMEOUT_MS, withCallPolicy } from "./call-policy-transport.js";
import type { RetryPolicy } from "./call-policy-transport.js";
import { GrpcTransport } from "./grpc/grpc-transport.js";
import { DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_PROTOCOL_ENGINE } from "./serve-component.js";
import type { ProtocolEngine } from "./serve-component.js";

/** The settings of a connection. */
export interface DialOptions {
  /** The deadline of a unary call that sets none, in ms; 0 for none. Default 30 s. Streams get none. */
  timeoutMs?: number;
  /** How unary calls are retried on UNAVAILABLE; false for never. Default DEFAULT_RETRY. */
  retry?: RetryPolicy | false;
  /** Interceptors run on every call. */
  interceptors?: Interceptor[];
  /** The largest response message accepted, in bytes. Default 4 MiB. */
  maxReceiveMessageBytes?: number;
  /** The largest request message sent, in bytes. Default 4 MiB. */
  maxSendMessageBytes?: number;
  /** The gRPC implementation that dials; default "moby" (see ProtocolEngine). */
  protocolEngine?: ProtocolEngine;
  /**
   * How many HTTP/2 connections the "moby" engine spreads concurrent calls
   * over at most; default 2. A further connection opens only when a call
   * starts while every open one carries a call. Concurrent calls on
   * different connections may reach the server, and their answers the
   * client, in another order than they were made. 1 keeps every call on one
   * connection, as the "connect" engine does.
   */
  connections?: number;
}

/** The errno codes that mean no component listens on the socket. */
const NOT_LISTENING = new Set(["ECONNREFUSED", "ENOENT"]);

/** An interceptor that passes every failure of a call through map, whether the call fails or its response stream does. */
export function mapCallErrors(map: (error: unknown) => unknown): Interceptor {
  async function* mapStream<T>(messages: AsyncIterable<T>) {
    try {
      yield* messages;
    } catch (error) {
      throw map(error);
    }
  }
  return (next) => async (request) => {
    try {
      const response = await next(request);
      return response.stream ? { ...response, message: mapStream(response.message) } : response;
    } catch (error) {
      throw map(error);
    }
  };
}

/** Maps "nothing listens on the socket" (ENOENT, ECONNREFUSED) to UNAVAILABLE naming the socket. */
export function notListeningAsUnavailable(socketPath: string): Interceptor {
  return mapCallErrors((error) => {
    const err = ConnectError.from(error);
    const errno = (err.cause as NodeJS.ErrnoException | undefined)?.code;
    if (errno === undefined || !NOT_LISTENING.has(errno) || err.code === Code.Unavailable) return error;
    return new ConnectError(`no component is serving on ${socketPath} (${errno})`, Code.Unavailable, undefined, undefined, err.cause);
  });
}

/**
 * connect-node's gRPC transport to socketPath, loaded on the first call: a
 * process that never dials with the "connect" engine never loads
 * connect-node. A call that was waiting for the load when close() came
 * fails with CANCELED, as calls open at close() do; a failed load fails
 * the calls with INTERNAL.
 */
function connectNodeTransport(
  socketPath: string,
  options: { interceptors: Interceptor[]; readMaxBytes: number; writeMaxBytes: number },
): { transport: Transport; close: () => void } {
  let loaded: Promise<{ transport: Transport; abort: () => void }> | undefined;
  let closed = false;
  const load = () =>
    (loaded ??= import("@connectrpc/connect-node").then(
      ({ Http2SessionManager, createGrpcTransport }) => {
        const sessions = new Http2SessionManager("http://localhost", {}, { createConnection: () => connect(socketPath) });
        return { transport: createGrpcTransport({ baseUrl: "http://localhost", sessionManager: sessions, ...options }), abort: () => sessions.abort() };
      },
      (error: unknown) => {
        throw new ConnectError(`cannot load @connectrpc/connect-node for protocolEngine "connect": ${String(error)}`, Code.Internal, undefined, undefined, error);
      },
    ));
  /** The loaded transport, once loaded; CANCELED if the connection was closed meanwhile. */
  const ready = (closedBefore: boolean) =>
    load().then((connectNode) => {
      if (closed && !closedBefore) throw new ConnectError("the connection was closed", Code.Canceled);
      return connectNode.transport;
    });
  return {
    transport: {
      unary: (method, signal, timeoutMs, header, input, contextValues) =>
        ready(closed).then((transport) => transport.unary(method, signal, timeoutMs, header, input, contextValues)),
      stream: (method, signal, timeoutMs, header, input, contextValues) =>
        ready(closed).then((transport) => transport.stream(method, signal, timeoutMs, header, input, contextValues)),
    },
    close: () => {
      closed = true;
      loaded?.then(({ abort }) => abort(), () => {});
    },
  };
}

/** How long waitForHealthy waits by default, in ms. */
export const DEFAULT_HEALTHY_TIMEOUT_MS = 30_000;

/** A connection to the component serving on one unix socket. */
export class Connection {
  /** The socket this connection dials. */
  readonly socketPath: string;
  /** The transport the clients of this connection share. */
  readonly transport: Transport;
  /** The gRPC implementation this connection dials with. */
  readonly protocolEngine: ProtocolEngine;
  private readonly closeTransport: () => void;

  constructor(socketPath: string, options: DialOptions = {}) {
    this.socketPath = socketPath;
    this.protocolEngine = options.protocolEngine ?? DEFAULT_PROTOCOL_ENGINE;
    const readMaxBytes = options.maxReceiveMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const writeMaxBytes = options.maxSendMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    let transport: Transport;
    if (this.protocolEngine === "moby") {
      // Maps "nothing listens" to UNAVAILABLE itself: no interceptor is needed for that.
      const grpc = new GrpcTransport({ socketPath, interceptors: options.interceptors, readMaxBytes, writeMaxBytes, connections: options.connections });
      transport = grpc;
      this.closeTransport = () => grpc.close();
    } else if (this.protocolEngine === "connect") {
      if (options.connections !== undefined && options.connections !== 1) {
        throw new Error(`connections: ${String(options.connections)} needs protocolEngine "moby"; the "connect" engine keeps one connection`);
      }
      const connectNode = connectNodeTransport(socketPath, {
        interceptors: [notListeningAsUnavailable(socketPath), ...(options.interceptors ?? [])],
        readMaxBytes,
        writeMaxBytes,
      });
      transport = connectNode.transport;
      this.closeTransport = connectNode.close;
    } else {
      throw new Error(`protocolEngine: ${JSON.stringify(this.protocolEngine)} is not "moby" or "connect"`);
    }
    this.transport = withCallPolicy(transport, options.timeoutMs ?? DEFAULT_UNARY_TIMEOUT_MS, options.retry ?? DEFAULT_RETRY);
  }

  /** A typed client for a generated service, over this connection. */
  client<S extends DescService>(service: S): Client<S> {
    return createClient(service, this.transport);
  }

  /**
   * Resolves once the component reports SERVING for service ("" for the
   * whole component) on grpc.health.v1 Watch, reconnecting while it is not
   * up yet. Rejects with DEADLINE_EXCEEDED after timeoutMs.
   */
  async waitForHealthy(service = "", timeoutMs = DEFAULT_HEALTHY_TIMEOUT_MS): Promise<void> {
    const health = this.client(Health);
    const deadline = Date.now() + timeoutMs;
    let last = "no answer";
    for (let backoff = 25; Date.now() < deadline; backoff = Math.min(backoff * 2, 500)) {
      const stop = new AbortController();
      const timer = setTimeout(() => stop.abort(), deadline - Date.now());
      try {
        for await (const answer of health.watch({ service }, { signal: stop.signal })) {
          if (answer.status === ServingStatus.SERVING) return;
          last = ServingStatus[answer.status] ?? String(answer.status);
        }
      } catch (error) {
        last = ConnectError.from(error).message;
      } finally {
        clearTimeout(timer);
        stop.abort();
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(backoff, Math.max(0, deadline - Date.now()))));
    }
    throw new ConnectError(
      `${this.socketPath}: service ${JSON.stringify(service)} not SERVING after ${timeoutMs} ms (last: ${last})`,
      Code.DeadlineExceeded,
    );
  }

  /** Closes the connection: open calls fail, and no new call can be made on it. */
  close(): void {
    this.closeTransport();
  }
}

/** Dials the component serving on socketPath. The connection opens on the first call. */
export function dialSocket(socketPath: string, options?: DialOptions): Connection {
  return new Connection(socketPath, options);
}
