/**
 * The events log on a NATS JetStream stream, for several nodes: the stream
 * sequence is the event's sequence, JetStream's message id deduplicates
 * publish ids, replays and the live tail are ordered consumers, retention is
 * the stream's limits. Every events component configured with the same stream
 * shares one log, in one order.
 *
 * A repeat of a publish id gets the first event's sequence from JetStream's
 * deduplication and its time from the stored event, or, once retention dropped
 * it, from the <stream>_IDS stream, where each publish id's first sequence and
 * time are recorded after the event.
 *
 * Durability: an append is acknowledged once JetStream acknowledged it, that
 * is once the stream's leader and (with replicas 3) a majority of its servers
 * have it. nats-server 2.9's file store writes it to the file at once but
 * syncs to disk only on an interval, so an acknowledged event survives a kill
 * of any server, and the loss of a minority of the servers with replicas 3,
 * but not a power loss of a majority before their next sync.
 */
import { UnavailableError } from "@moby-core/sdk";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { DeliverPolicy, DiscardPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg, StreamConfig, StreamInfo, StreamState } from "@nats-io/jetstream";
import { PUBLISH_ID_MEMORY_MS } from "./event-log.js";
import { StreamConfigRefused, refusesUs } from "./jetstream-refusal.js";
import type { Appended, CommitListener, EventLog, LogStatus, NewEvent, ReplayReader, Retention, StoredEvent } from "./event-log.js";
import { MESSAGE_ID_LENGTH, messageId } from "./message-id.js";
import { PublishQueue } from "./publish-queue.js";
import { decodeEnvelope, encodeEnvelope } from "../envelope-wire.js";

/** Where the log lives: the servers, the stream, how many servers keep each event. */
export interface JetStreamTarget {
  servers: string[];
  stream: string;
  replicas: number;
}

/** Told when the log can write again (reason "") or cannot, and why. */
export type WritableListener = (writable: boolean, reason: string) => void;

/** The idle heartbeat of the consumers, in ms: two missed ones make an ordered consumer start again where it was. */
const HEARTBEAT_MS = 1000;
/** How long one pull request of a consumer waits for messages, in ms (the client's minimum is 1 s). */
const PULL_EXPIRES_MS = 5000;

/**
 * How long a replay waits for the next event it knows the stream holds, in ms,
 * before it asks the stream what happened: an ordered consumer that gets
 * nothing (its server stopped answering, or all servers are down) would
 * otherwise wait for ever, and the subscriber with it.
 */
export const REPLAY_STALL_MS = 10_000;

/**
 * How long the tail may go without an event while the stream holds newer
 * ones, in ms, before it is followed again with a new consumer: an ordered
 * consumer whose reset failed (a stream leader change under load) can stay
 * silent for ever, and every live subscriber with it. Checked as often.
 */
export const TAIL_STALL_MS = 5_000;

/**
 * How long a publish id's record may wait for the next publish to go out
 * with, in ms: a record sent by itself is a socket write of its own, which at
 * one publish in flight is one of the few writes a publish costs.
 */
export const RECORD_DELAY_MS = 50;

/** How long one JetStream request (a publish, a stream info) may take before it counts as failed, in ms. */
export const REQUEST_TIMEOUT_MS = 5000;

/** The stored header of a message: "NATS/1.0\r\nNats-Msg-Id: <id>\r\n\r\n". */
const HEADER_BYTES = "NATS/1.0\r\nNats-Msg-Id: ".length + MESSAGE_ID_LENGTH + "\r\n\r\n".length;
/**
 * What nats-server's file store counts for a message besides its subject,
 * header and data: record length (4), sequence (8), time (8), subject length
 * (2), header length (4), hash (8).
 */
const FILE_STORE_OVERHEAD = 34;

/** The bytes a sequence number adds to a serialized Envelope: its tag and its varint. */
function sequenceFieldBytes(first: number, last: number): number {
  let total = 0;
  let low = first;
  for (let bits = 7, width = 2; low <= last; bits += 7, width++) {
    const bound = 2 ** bits - 1;
    const high = Math.min(last, bound);
    if (high >= low) {
      total += (high - low + 1) * width;
      low = high + 1;
    }
  }
  return total;
}

/**
 * The retained events' size as the contract counts it, the sum of their
 * serialized Envelopes, from the stream state: JetStream counts each message
 * as its data (the Envelope without its sequence), subject, header and a fixed
 * overhead, all of known size here, and the sequence field adds a varint.
 */
export function envelopeBytes(state: Pick<StreamState, "messages" | "bytes" | "first_seq" | "last_seq">, subject: string): number {
  if (state.messages === 0) return 0;
  const perMessage = FILE_STORE_OVERHEAD + Buffer.byteLength(subject) + HEADER_BYTES;
  return state.bytes - state.messages * perMessage + sequenceFieldBytes(state.first_seq, state.last_seq);
}

/** ms as JetStream's nanoseconds. */
const nanos = (ms: number) => ms * 1_000_000;

/**
 * The stream's limits for retention: -1 is JetStream's "no bound", and the
 * duplicate window is the publish id memory, or the age bound when shorter
 * (JetStream refuses a window longer than the age bound).
 */
function limits(retention: Retention): Pick<StreamConfig, "max_msgs" | "max_bytes" | "max_age" | "duplicate_window"> {
  return {
    max_msgs: retention.maxEvents > 0 ? retention.maxEvents : -1,
    max_bytes: retention.maxBytes > 0 ? retention.maxBytes : -1,
    max_age: nanos(retention.maxAgeMs),
    duplicate_window: nanos(retention.maxAgeMs > 0 ? Math.min(retention.maxAgeMs, PUBLISH_ID_MEMORY_MS) : PUBLISH_ID_MEMORY_MS),
  };
}

/** True when error is JetStream's "stream not found". */
function streamNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;
}

/** "1 replica", "3 replicas". */
const replicas = (count: number) => `${count} ${count === 1 ? "replica" : "replicas"}`;

/**
 * Updates an existing stream to config: its limits, and its replicas
 * (JetStream moves a clustered stream to the new count). A change of replicas
 * the servers refuse (a single server keeps one) fails with a one-line error
 * naming the stream and both counts.
 */
async function updateStream(jsm: JetStreamManager, current: StreamConfig, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.update(config.name, { ...config });
  } catch (error) {
    if (config.num_replicas === undefined || current.num_replicas === config.num_replicas) throw error;
    throw new Error(
      `the stream ${config.name} has ${replicas(current.num_replicas)} and config.nats.replicas asks for ${config.num_replicas}, which the servers refused: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * Fails with a one-line error when config asks for more than one replica of
 * a stream whose server is not in a cluster: such a server refuses to create
 * it, but takes the number in an update and still keeps one copy.
 */
function checkClustered(info: StreamInfo, config: Partial<StreamConfig> & { name: string }): void {
  const asked = config.num_replicas ?? 1;
  if (asked <= 1 || info.cluster?.name !== undefined) return;
  throw new StreamConfigRefused(`the stream ${config.name} has ${replicas(1)} and config.nats.replicas asks for ${asked}, which its NATS server cannot keep: it is not in a cluster`);
}

/** Creates the stream with config, or updates it to config when it exists (another node may create it meanwhile). */
async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const info = await jsm.streams.info(config.name);
      checkClustered(info, config);
      const current = info.config;
      if (
        current.max_msgs === config.max_msgs &&
        current.max_bytes === config.max_bytes &&
        current.max_age === config.max_age &&
        current.duplicate_window === config.duplicate_window &&
        current.num_replicas === config.num_replicas
      ) {
        return;
      }
      await updateStream(jsm, current, config);
      return;
    } catch (error) {
      if (!streamNotFound(error)) throw error;
    }
    try {
      await jsm.streams.add(config);
      return;
    } catch (error) {
      // Created by another node between our info and add: look again.
      if (attempt >= 3) throw error;
    }
  }
}

/** The log on a JetStream stream; open it with openJetStreamLog. */
export class JetStreamLog implements EventLog {
  retention: Retention;
  private readonly subject: string;
  private readonly idsStream: string;
  private listener: CommitListener | undefined;
  private tail: ConsumerMessages | undefined;
  private batch: StoredEvent[] = [];
  /** Publish id records not yet sent, as [subject, payload]: they go out with the next publish, or after RECORD_DELAY_MS. */
  private records: [string, string][] = [];
  private recordTimer: NodeJS.Timeout | undefined;
  /** The appends in flight: sent a turn's worth at a time, answered in the order they came. */
  private readonly appends = new PublishQueue<NewEvent, Appended>((event) => this.publish(event));
  private writable = true;
  private connected = true;
  private closing = false;
  /** The last sequence the tail read. */
  private tailSeen: bigint;
  /** When the tail last read an event or was (re)created, by Date.now(). */
  private tailHeardAt = Date.now();
  /** The timer that looks for a silent tail. */
  private tailWatch: NodeJS.Timeout | undefined;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly target: JetStreamTarget,
    retention: Retention,
    private readonly startAfter: bigint,
    private readonly onWritable: WritableListener,
  ) {
    this.retention = retention;
    this.tailSeen = startAfter;
    this.subject = `${target.stream}.events`;
    this.idsStream = `${target.stream}_IDS`;
  }

  /**
   * Connects to the servers (reconnecting for ever once connected), creates
   * or updates the stream and its publish id stream, and starts the tail.
   * Rejects with UnavailableError when no server can be reached or
   * JetStream cannot answer yet (no quorum, no leader, too few servers for
   * the replicas), and with another one-line error when a server answers no
   * (authorization, JetStream not enabled, a stream configuration refused):
   * the caller tries the first again later and gives up on the second.
   */
  static async open(target: JetStreamTarget, retention: Retention, onWritable: WritableListener): Promise<JetStreamLog> {
    let nc: NatsConnection;
    try {
      // noAsyncTraces: without it every request (a publish) builds two Errors, with their stacks, in case it fails.
      nc = await connect({
        servers: target.servers,
        name: "moby-events",
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        timeout: REQUEST_TIMEOUT_MS,
        pingInterval: 2000,
        maxPingOut: 2,
        noAsyncTraces: true,
      });
    } catch (error) {
      const servers = target.servers.join(", ");
      if (refusesUs(error)) throw new Error(`NATS at ${servers} refused the connection: ${(error as Error).message}`, { cause: error });
      throw new UnavailableError(`NATS at ${servers} cannot be reached: ${(error as Error).message}`, { cause: error });
    }
    try {
      const jsm = await jetstreamManager(nc, { timeout: REQUEST_TIMEOUT_MS });
      const js = jetstream(nc, { timeout: REQUEST_TIMEOUT_MS });
      await ensureStream(jsm, {
        name: target.stream,
        subjects: [`${target.stream}.events`],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        num_replicas: target.replicas,
        ...limits(retention),
      });
      // (source, publish id) -> first sequence and time, for a repeat whose event retention dropped.
      await ensureStream(jsm, {
        name: `${target.stream}_IDS`,
        subjects: [`${target.stream}_IDS.*`],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        num_replicas: target.replicas,
        max_msgs_per_subject: 1,
        max_msgs: -1,
        max_bytes: -1,
        max_age: nanos(PUBLISH_ID_MEMORY_MS),
        duplicate_window: nanos(60_000),
      });
      const { state } = await jsm.streams.info(target.stream);
      const log = new JetStreamLog(nc, js, jsm, target, retention, BigInt(state.last_seq), onWritable);
      void log.followStream();
      log.watchConnection();
      log.watchTail();
      return log;
    } catch (error) {
      await nc.close().catch(() => {});
      const message = `cannot open the JetStream stream ${target.stream}: ${(error as Error).message}`;
      if (refusesUs(error)) throw new Error(message, { cause: error });
      throw new UnavailableError(message, { cause: error });
    }
  }

  /**
   * Follows the stream from the end it had at open, for every component's
   * events, handed on a turn at a time. An ordered consumer recovers from a
   * lost server by itself only after missed heartbeats; the tail is also
   * recreated after the last event it read whenever its consumer ends (the
   * connection came back, the consumer could not be created yet).
   */
  private async followStream(): Promise<void> {
    while (!this.closing) {
      try {
        const consumer = await this.js.consumers.get(this.target.stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Number(this.tailSeen + 1n) });
        const messages = await consumer.consume({ max_messages: 1024, idle_heartbeat: HEARTBEAT_MS, expires: PULL_EXPIRES_MS });
        this.tail = messages;
        this.tailHeardAt = Date.now();
        if (this.closing) await messages.close();
        for await (const message of messages) {
          if (BigInt(message.seq) <= this.tailSeen) continue;
          if (BigInt(message.seq) > this.tailSeen + 1n && !(await this.droppedAfterTail())) {
            void messages.close();
            break;
          }
          this.tailSeen = BigInt(message.seq);
          this.tailHeardAt = Date.now();
          if (this.batch.length === 0) setImmediate(() => this.handOver());
          this.batch.push(decodeEnvelope(message.seq, message.data));
        }
      } catch {
        // Created again below, after the last event read.
      }
      if (!this.closing) await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /**
   * Whether the events after the last one the tail read, which the tail's
   * consumer skipped, are gone: JetStream starts a consumer at
   * its oldest event without a word when retention dropped the one asked for
   * (this component was cut off from NATS while others published past the
   * limits), and then the gap is handed on, for the subscribers to end with
   * RESOURCE_EXHAUSTED. False when the stream still holds them, or cannot say
   * now: the tail is followed again after the last event read.
   */
  private async droppedAfterTail(): Promise<boolean> {
    try {
      const { state } = await this.jsm.streams.info(this.target.stream);
      return BigInt(state.messages === 0 ? state.last_seq + 1 : state.first_seq) > this.tailSeen + 1n;
    } catch {
      return false;
    }
  }

  private handOver(): void {
    const events = this.batch;
    this.batch = [];
    if (events.length > 0) this.listener?.(events);
  }

  /**
   * Every TAIL_STALL_MS, when the tail has been silent that long, asks the
   * stream for its last sequence; if the stream holds events the tail has not
   * read, ends the tail's consumer, and followStream follows again after the
   * last event read.
   */
  private watchTail(): void {
    this.tailWatch = setInterval(() => void this.checkTail(), TAIL_STALL_MS);
    this.tailWatch.unref();
  }

  private async checkTail(): Promise<void> {
    if (this.closing || Date.now() - this.tailHeardAt < TAIL_STALL_MS) return;
    let last: bigint;
    try {
      last = BigInt((await this.jsm.streams.info(this.target.stream)).state.last_seq);
    } catch {
      // No server answers: the connection's own recovery ends the tail when one does.
      return;
    }
    if (this.closing || last <= this.tailSeen || Date.now() - this.tailHeardAt < TAIL_STALL_MS) return;
    this.tailHeardAt = Date.now();
    void this.tail?.close();
  }

  /** Reports the connection's losses and returns as the log becoming unwritable and writable. */
  private watchConnection(): void {
    void (async () => {
      for await (const status of this.nc.status()) {
        if (status.type === "disconnect") {
          this.connected = false;
          this.setWritable(false, `lost the connection to NATS (${this.target.servers.join(", ")}); reconnecting`);
        } else if (status.type === "reconnect") {
          this.connected = true;
          // The tail's consumer may be on the server that went away: follow again after the last event read.
          void this.tail?.close();
          void this.probe();
        }
      }
    })();
  }

  private setWritable(writable: boolean, reason: string): void {
    if (writable === this.writable) return;
    this.writable = writable;
    this.onWritable(writable, reason);
  }

  /** Asks the stream's leader for its state until it answers: then the log is writable again. */
  private async probe(): Promise<void> {
    while (!this.nc.isClosed()) {
      try {
        await this.jsm.streams.info(this.target.stream);
        this.setWritable(true, "");
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  /** Publishes the event with the others appended this turn, and answers once JetStream acknowledged it, in the order the appends came. */
  append(event: NewEvent): Promise<Appended> {
    return this.appends.push(event);
  }

  private async publish(event: NewEvent): Promise<Appended> {
    this.sendRecords();
    const timeMs = Date.now();
    const msgID = messageId(event.source, event.publishId);
    let ack;
    try {
      ack = await this.js.publish(this.subject, encodeEnvelope(event, timeMs), { msgID, timeout: REQUEST_TIMEOUT_MS });
    } catch (error) {
      const why = this.connected ? (error as Error).message : `no NATS server is reachable (${this.target.servers.join(", ")})`;
      const reason = `cannot write to the JetStream stream ${this.target.stream}: ${why}`;
      this.setWritable(false, reason);
      if (this.nc.isClosed() === false) void this.probe();
      throw new UnavailableError(reason);
    }
    this.setWritable(true, "");
    const sequence = BigInt(ack.seq);
    if (!ack.duplicate) {
      if (event.publishId !== "") {
        // Remembered after the event, without waiting for JetStream to store it: the record only
        // serves a repeat that comes after retention dropped the event, and the event is durable.
        this.record(`${this.idsStream}.${msgID}`, JSON.stringify({ sequence: ack.seq, timeMs }));
      }
      return { event: { sequence, timeMs, source: event.source, topic: event.topic, typeUrl: event.typeUrl, value: event.value }, duplicate: false };
    }
    return { event: { ...(await this.firstOf(ack.seq, msgID)), source: event.source, topic: event.topic, typeUrl: event.typeUrl, value: event.value }, duplicate: true };
  }

  /** Queues a publish id's record to go out with the next publish, or after RECORD_DELAY_MS. */
  private record(subject: string, payload: string): void {
    this.records.push([subject, payload]);
    if (this.recordTimer === undefined) {
      this.recordTimer = setTimeout(() => this.sendRecords(), RECORD_DELAY_MS);
      this.recordTimer.unref();
    }
  }

  /** Hands the queued records to the NATS client, which writes them with whatever else it has this turn. */
  private sendRecords(): void {
    clearTimeout(this.recordTimer);
    this.recordTimer = undefined;
    const records = this.records;
    if (records.length === 0) return;
    this.records = [];
    for (const [subject, payload] of records) {
      try {
        this.nc.publish(subject, payload);
      } catch {
        // Closed: the record is lost, as when the component dies before sending it (see firstOf).
      }
    }
  }

  /**
   * The sequence and time of the event a repeated publish id first recorded:
   * from the event, or from the id's record once retention dropped it. Time 0
   * only when both are gone: the component died between JetStream's ack and
   * the record (which waits up to RECORD_DELAY_MS for a publish to go out
   * with), and retention dropped the event before the repeat came.
   */
  private async firstOf(seq: number, msgID: string): Promise<{ sequence: bigint; timeMs: number }> {
    const stored = await this.jsm.streams.getMessage(this.target.stream, { seq }).catch(() => null);
    if (stored !== null) return { sequence: BigInt(seq), timeMs: decodeEnvelope(seq, stored.data).timeMs };
    const record = await this.jsm.streams.getMessage(this.idsStream, { last_by_subj: `${this.idsStream}.${msgID}` }).catch(() => null);
    if (record === null) return { sequence: BigInt(seq), timeMs: 0 };
    const { timeMs } = JSON.parse(new TextDecoder().decode(record.data)) as { timeMs: number };
    return { sequence: BigInt(seq), timeMs };
  }

  /** The stream's state; UNAVAILABLE when no server answers. */
  async status(): Promise<LogStatus> {
    let state: StreamState;
    try {
      ({ state } = await this.jsm.streams.info(this.target.stream));
    } catch (error) {
      const why = this.connected ? (error as Error).message : `no NATS server is reachable (${this.target.servers.join(", ")})`;
      throw new UnavailableError(`cannot read the JetStream stream ${this.target.stream}: ${why}`);
    }
    const latest = BigInt(state.last_seq);
    return {
      latest,
      oldest: state.messages === 0 ? latest + 1n : BigInt(state.first_seq),
      events: state.messages,
      bytes: envelopeBytes(state, this.subject),
    };
  }

  /**
   * Reads the stream from after + 1 with an ordered consumer of its own. The
   * caller reads only while the hub is ahead of it, so the events it waits
   * for are in the stream. When none comes within REPLAY_STALL_MS, the
   * stream's state decides: the events after the last one read were dropped
   * by retention (the read resolves with what it has, possibly nothing, as
   * the ReplayReader contract says), or they are there and cannot be read
   * (UNAVAILABLE: the subscriber resumes after its last event).
   */
  replay(after: bigint): ReplayReader {
    const stream = this.target.stream;
    const js = this.js;
    let messages: ConsumerMessages | undefined;
    let iterator: AsyncIterator<JsMsg> | undefined;
    let closed = false;
    let pending = Number.POSITIVE_INFINITY;
    let last = after;
    /** Whether retention dropped the event after sequence: then the stream's oldest is past it, or it holds nothing after it. */
    const droppedAfter = async (sequence: bigint): Promise<boolean> => {
      const state = await this.status();
      return state.oldest > sequence + 1n || state.latest <= sequence;
    };
    const unreadable = (why: string) => new UnavailableError(`cannot read the JetStream stream ${stream}: ${why}`);
    /** A next() of the iterator still unanswered when the last wait for it stalled: the next wait takes it over. */
    let waiting: Promise<IteratorResult<JsMsg>> | undefined;
    /** The next message, or "stalled" when none came within REPLAY_STALL_MS. */
    const nextOrStall = async (): Promise<IteratorResult<JsMsg> | "stalled"> => {
      const next = (waiting ??= iterator!.next());
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<"stalled">((resolve) => (timer = setTimeout(() => resolve("stalled"), REPLAY_STALL_MS)));
      try {
        const result = await Promise.race([next, stalled]);
        if (result !== "stalled") waiting = undefined;
        return result;
      } catch (error) {
        waiting = undefined;
        throw unreadable((error as Error).message);
      } finally {
        clearTimeout(timer);
      }
    };
    return {
      async read(limit, until) {
        try {
          if (iterator === undefined) {
            const consumer = await js.consumers.get(stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Number(after + 1n) });
            messages = await consumer.consume({ max_messages: Math.max(limit, 64), idle_heartbeat: HEARTBEAT_MS, expires: PULL_EXPIRES_MS });
            iterator = messages[Symbol.asyncIterator]();
            if (closed) void messages.close();
          }
        } catch (error) {
          // The subscriber resumes after its last sequence, as after any UNAVAILABLE.
          throw unreadable((error as Error).message);
        }
        const page: StoredEvent[] = [];
        while (page.length < limit && !closed) {
          if (pending === 0 && page.length > 0) break;
          const next = await nextOrStall();
          if (next === "stalled") {
            if (await droppedAfter(last)) break;
            // The consumer is of no more use: the subscriber resumes after its last event with a new one.
            closed = true;
            waiting?.catch(() => {});
            void messages?.close();
            throw unreadable(`no event after sequence ${last} came within ${REPLAY_STALL_MS / 1000} s, though the stream holds it`);
          }
          if (next.done === true) break;
          const message = next.value;
          page.push(decodeEnvelope(message.seq, message.data));
          last = BigInt(message.seq);
          pending = message.info.pending;
          if (last >= until) break;
        }
        return page;
      },
      close() {
        closed = true;
        waiting?.catch(() => {});
        void messages?.close();
      },
    };
  }

  /** Hands listener every event the tail reads, a turn's worth at a time. */
  follow(listener: CommitListener): bigint {
    this.listener = listener;
    return this.startAfter;
  }

  /** Sets the stream's limits. */
  async setRetention(retention: Retention): Promise<void> {
    await this.jsm.streams.update(this.target.stream, { ...limits(retention) });
    this.retention = retention;
  }

  /** JetStream applies the age bound itself. */
  expire(): void {}

  /** Waits for the acknowledgements in flight, stops the tail and closes the connection. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.tailWatch);
    await this.appends.idle();
    this.sendRecords();
    await this.tail?.close();
    await this.nc.drain().catch(() => {});
  }

}
