/**
 * EventPublisher: how a component publishes its events to the events
 * component without ever waiting for it. Events go into a bounded queue and
 * are sent in order, one at a time, each with a publish_id so that a resend
 * after the events component restarts is recorded once. When the queue is
 * full the oldest event is dropped (and counted): the component's own work
 * never blocks on events.
 */
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import type { Any } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { EventsService, PublishRequestSchema } from "@moby-core/events-api/v1";
import type { PublishRequest } from "@moby-core/events-api/v1";
import type { Logger } from "pino";
import { Connection } from "./connection.js";
import { endpointVariable } from "./env.js";
import { eventTopic } from "./event-topic.js";
import { resolveService } from "./resolve.js";

/** Where the events component is: a socket path, or undefined while it is not known or not up. */
export type EventsLocator = () => Promise<string | undefined> | string | undefined;

/** The settings of an EventPublisher. */
export interface EventPublisherOptions {
  /** The publishing component's name, sent as the events' source. */
  source: string;
  /** Finds the events component; default $MOBY_ENDPOINT_EVENTS, else the registry. */
  locate?: EventsLocator;
  /** The most events kept while they cannot be sent; the oldest is dropped past it. Default 10,000. */
  queueLimit?: number;
  /** Where to report drops and rejected events. */
  logger?: Logger;
}

/** How many events a publisher handled. */
export interface PublisherStats {
  /** Acknowledged by the events component. */
  sent: number;
  /** Dropped because the queue was full. */
  dropped: number;
  /** Refused by the events component as invalid (never resent). */
  rejected: number;
  /** Waiting to be sent. */
  queued: number;
}

/** The default locator: the socket init passes, else whichever component the registry says serves events. */
async function defaultLocate(): Promise<string | undefined> {
  const fromEnv = process.env[endpointVariable("events")];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  try {
    return await resolveService(EventsService, { dial: { retry: false, timeoutMs: 2000 } });
  } catch {
    return undefined;
  }
}

const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 2000;

/** Publishes a component's events in the background, in order, at most once each. */
export class EventPublisher {
  private readonly queue: PublishRequest[] = [];
  private readonly idPrefix = randomBytes(6).toString("hex");
  private counter = 0;
  private readonly stats = { sent: 0, dropped: 0, rejected: 0 };
  private connection: Connection | undefined;
  private running = false;
  private closed = false;
  private wake: (() => void) | undefined;
  private idle: ((flushed: boolean) => void)[] = [];

  constructor(private readonly options: EventPublisherOptions) {}

  /**
   * Queues an event with payload message of schema, under the topic its
   * schema declares (the `(moby.events.v1.topic)` option); returns at once.
   * Throws when the schema declares no topic.
   */
  publish<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): void {
    this.enqueue(eventTopic(schema), anyPack(schema, message));
  }

  /** Adds one event to the queue, dropping the oldest unsent one past the limit. */
  private enqueue(topic: string, event: Any): void {
    if (this.closed) return;
    this.queue.push(
      create(PublishRequestSchema, { topic, event, source: this.options.source, publishId: `${this.idPrefix}-${++this.counter}` }),
    );
    if (this.queue.length > (this.options.queueLimit ?? 10_000)) {
      // The head may be in flight: drop the oldest event not being sent.
      this.queue.splice(this.running ? 1 : 0, 1);
      this.stats.dropped++;
      if (this.stats.dropped === 1 || this.stats.dropped % 1000 === 0) {
        this.options.logger?.warn({ dropped: this.stats.dropped }, "events queue full: dropping the oldest events");
      }
    }
    if (!this.running) void this.run();
  }

  /** How many events were sent, dropped, rejected and are queued. */
  getStats(): PublisherStats {
    return { ...this.stats, queued: this.queue.length };
  }

  /** Resolves when the queue is empty, or after timeoutMs; tells which. */
  async flush(timeoutMs: number): Promise<boolean> {
    if (this.queue.length === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const flushed = await Promise.race([
      new Promise<boolean>((resolve) => this.idle.push(resolve)),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return flushed;
  }

  /** Stops sending; events still queued are dropped, and a pending flush resolves false. */
  close(): void {
    this.closed = true;
    this.connection?.close();
    this.wake?.();
    this.idle.splice(0).forEach((resolve) => resolve(this.queue.length === 0));
  }

  private async run(): Promise<void> {
    this.running = true;
    let backoff = MIN_BACKOFF_MS;
    while (!this.closed && this.queue.length > 0) {
      const request = this.queue[0]!;
      const outcome = await this.send(request);
      if (outcome === "retry") {
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        continue;
      }
      backoff = MIN_BACKOFF_MS;
      if (this.queue[0] === request) this.queue.shift();
      if (this.queue.length === 0) this.idle.splice(0).forEach((resolve) => resolve(true));
    }
    this.running = false;
  }

  /** Sends one event: "done" when acknowledged or refused for good, "retry" otherwise. */
  private async send(request: PublishRequest): Promise<"done" | "retry"> {
    try {
      const connection = await this.connect();
      if (connection === undefined) return "retry";
      await connection.client(EventsService).publish(request);
      this.stats.sent++;
      return "done";
    } catch (error) {
      const err = ConnectError.from(error);
      if (err.code === Code.InvalidArgument || err.code === Code.ResourceExhausted) {
        this.stats.rejected++;
        this.options.logger?.error({ topic: request.topic, err: err.message }, "the events component refused an event");
        return "done";
      }
      this.connection?.close();
      this.connection = undefined;
      return "retry";
    }
  }

  private async connect(): Promise<Connection | undefined> {
    if (this.connection !== undefined) return this.connection;
    const socket = await (this.options.locate ?? defaultLocate)();
    if (socket === undefined) return undefined;
    this.connection = new Connection(socket, { retry: false, timeoutMs: 5000 });
    return this.connection;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
