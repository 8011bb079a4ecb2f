/**
 * The events component as a real child process for a test: its own socket
 * and SQLite database in a scratch directory (or its own JetStream stream),
 * started with a configuration, killed and restarted on the same log, and
 * dialed with the SDK; and a
 * reader for Subscribe streams that never hangs a test.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { create, fromBinary } from "@bufbuild/protobuf";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import type { Any } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { dialSocket } from "@moby-core/sdk";
import type { Connection, DialOptions } from "@moby-core/sdk";
import { probeSocket } from "@moby-core/sdk/internal";
import { ContainerCreateSchema, EventsService, PublishRequestSchema } from "@moby-core/events-api/v1";
import type { Envelope, PublishRequest, SubscribeRequestSchema, SubscribeResponse } from "@moby-core/events-api/v1";
import { ComponentProcess } from "./component-process.js";

/** An EventsService client. */
export type EventsClient = Client<typeof EventsService>;

/** Where an events component under test keeps its log: its own SQLite file (the default), or a JetStream stream. */
export type EventsLogTarget = { backend: "sqlite" } | { backend: "nats"; nats: { servers: string[]; stream: string; replicas: number } };

/** The events component's configuration (its manifest `config`), without the database. */
export interface EventsComponentConfig {
  retention?: { maxEvents?: number; maxBytes?: number; maxAge?: string };
  subscriberBufferEvents?: number;
}

/** One events component under test: a socket, a database, and the process serving them while it is up. */
export class EventsComponent {
  readonly socketPath: string;
  readonly database: string;
  process: ComponentProcess | undefined;
  private readonly connections: Connection[] = [];

  constructor(
    dir: string,
    readonly config: EventsComponentConfig = {},
    readonly target: EventsLogTarget = { backend: "sqlite" },
  ) {
    this.socketPath = join(dir, "run", "events.sock");
    this.database = join(dir, "state", "events.db");
  }

  /** Starts the component (again, on the same database) and waits until it serves. */
  async start(): Promise<ComponentProcess> {
    const child = new ComponentProcess("packages/events/bin/moby-events.js", {
      MOBY_SOCKET: this.socketPath,
      MOBY_COMPONENT_NAME: "events",
      MOBY_LOG_LEVEL: "warn",
      MOBY_COMPONENT_CONFIG: JSON.stringify({ ...(this.target.backend === "sqlite" ? { database: this.database } : this.target), ...this.config }),
    });
    this.process = child;
    await waitUntilServing(child, this.socketPath);
    return child;
  }

  /** Stops the component with signal (SIGKILL by default: no chance to clean up). */
  async stop(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = this.process;
    this.process = undefined;
    await child?.stop(signal);
  }

  /** A new connection to the component, closed by close(). */
  dial(options?: DialOptions): Connection {
    const connection = dialSocket(this.socketPath, options);
    this.connections.push(connection);
    return connection;
  }

  /** An EventsService client on a new connection of its own. */
  client(options?: DialOptions): EventsClient {
    return this.dial(options).client(EventsService);
  }

  /** Closes every connection and kills the process. */
  async close(): Promise<void> {
    this.connections.splice(0).forEach((c) => c.close());
    await this.stop("SIGKILL");
  }
}

/**
 * Resolves once something listens on socketPath, like ComponentProcess.waitForSocket,
 * but also when a probe finds the stale socket of a killed process and the new
 * process removes it between the probe's lstat and its connect: probeSocket then
 * rejects with ENOENT (see the report), which here only means "not yet".
 */
async function waitUntilServing(child: ComponentProcess, socketPath: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`process exited before serving on ${socketPath}:\n${child.output}`);
    const probe = await probeSocket(socketPath).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return "absent" as const;
      throw error;
    });
    if (probe === "live") return;
    await sleep(25);
  }
  throw new Error(`nothing served on ${socketPath} within ${timeoutMs} ms:\n${child.output}`);
}

/** A valid publish request: a ContainerCreate for container id under /containers/create. */
export function containerCreate(id: string, overrides: { topic?: string; source?: string; publishId?: string; event?: Any } = {}): PublishRequest {
  const request = create(PublishRequestSchema, {
    topic: overrides.topic ?? "/containers/create",
    source: overrides.source ?? "container-store",
    publishId: overrides.publishId ?? "",
  });
  request.event = "event" in overrides ? overrides.event : anyPack(ContainerCreateSchema, create(ContainerCreateSchema, { id }));
  return request;
}

/** The container id of an envelope carrying a ContainerCreate. */
export function containerId(envelope: Envelope): string {
  assert.equal(envelope.event?.typeUrl, "type.googleapis.com/moby.events.v1.ContainerCreate");
  return fromBinary(ContainerCreateSchema, envelope.event.value).id;
}

/** Waits ms. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * One Subscribe stream read message by message, each read with a timeout so a
 * missing message fails the test instead of hanging it. Checks on every
 * message that resume_after_sequence never decreases and equals the
 * envelope's sequence on an event.
 */
export class SubscriptionReader {
  /** The resume_after_sequence of the last message read. */
  lastResume = 0n;
  private readonly controller = new AbortController();
  private readonly iterator: AsyncIterator<SubscribeResponse>;

  constructor(client: EventsClient, request: MessageInitShape<typeof SubscribeRequestSchema>) {
    this.iterator = client.subscribe(request, { signal: this.controller.signal })[Symbol.asyncIterator]();
  }

  /** The next message; rejects with the stream's error, or when none comes within timeoutMs. */
  async next(timeoutMs = 10_000): Promise<SubscribeResponse> {
    const pending = this.iterator.next();
    pending.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no message within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const result = await Promise.race([pending, timeout]);
      if (result.done === true) throw new Error("the stream ended without an error");
      const message = result.value;
      assert.ok(message.resumeAfterSequence >= this.lastResume, `resume_after_sequence went back from ${this.lastResume} to ${message.resumeAfterSequence}`);
      if (message.envelope !== undefined) assert.equal(message.resumeAfterSequence, message.envelope.sequence);
      this.lastResume = message.resumeAfterSequence;
      return message;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads the first message of the stream, which must be a progress message; returns its resume_after_sequence. */
  async progress(timeoutMs?: number): Promise<bigint> {
    const message = await this.next(timeoutMs);
    assert.equal(message.envelope, undefined, "the first message is a progress message, without an envelope");
    return message.resumeAfterSequence;
  }

  /** Reads the next count events, skipping progress messages. */
  async events(count: number, timeoutMs = 10_000): Promise<Envelope[]> {
    const events: Envelope[] = [];
    while (events.length < count) {
      const message = await this.next(timeoutMs);
      if (message.envelope !== undefined) events.push(message.envelope);
    }
    return events;
  }

  /** Cancels the stream. */
  close(): void {
    this.controller.abort();
  }
}
