/**
 * A connection to one component over its unix socket: typed clients for any
 * generated service, an explicit close, reconnection after the component
 * restarts, a default deadline and retries (see call-policy-transport.ts).
 */
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import type { Client, Interceptor, Transport } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "@moby-core/grpc-health-api/v1";
import { DEFAULT_RETRY, DEFAULT_UNARY_TIMEOUT_MS, withCallPolicy } from "./call-policy-transport.js";
import type { RetryPolicy } from "./call-policy-transport.js";
import { GrpcTransport } from "./grpc/grpc-transport.js";
import { compressMinBytes } from "./grpc/compression.js";
import type { CompressionOptions } from "./grpc/compression.js";
import { DEFAULT_MAX_MESSAGE_BYTES } from "./limits.js";

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
  /**
   * gzip for requests: a message of at least minBytes (default 1 KiB) is
   * sent compressed when that makes it smaller. Off by default (see
   * ServeComponentOptions.compression). Compressed responses are read either way.
   */
  compression?: CompressionOptions | false;
  /**
   * How many HTTP/2 connections concurrent calls are spread
   * over at most; default 2. A further connection opens only when a call
   * starts while every open one carries a call. Concurrent calls on
   * different connections may reach the server, and their answers the
   * client, in another order than they were made. 1 keeps every call on one
   * connection.
   */
  connections?: number;
}

/** How long waitForHealthy waits by default, in ms. */
export const DEFAULT_HEALTHY_TIMEOUT_MS = 30_000;

/** A connection to the component serving on one unix socket. */
export class Connection {
  /** The socket this connection dials. */
  readonly socketPath: string;
  /** The transport the clients of this connection share. */
  readonly transport: Transport;
  private readonly grpc: GrpcTransport;

  constructor(socketPath: string, options: DialOptions = {}) {
    this.socketPath = socketPath;
    this.grpc = new GrpcTransport({
      socketPath,
      interceptors: options.interceptors,
      readMaxBytes: options.maxReceiveMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      writeMaxBytes: options.maxSendMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      connections: options.connections,
      compressMinBytes: compressMinBytes(options.compression, "compression"),
    });
    this.transport = withCallPolicy(this.grpc, options.timeoutMs ?? DEFAULT_UNARY_TIMEOUT_MS, options.retry ?? DEFAULT_RETRY);
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
    this.grpc.close();
  }
}

/** Dials the component serving on socketPath. The connection opens on the first call. */
export function dialSocket(socketPath: string, options?: DialOptions): Connection {
  return new Connection(socketPath, options);
}
