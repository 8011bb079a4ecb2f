/**
 * The loads of the events benchmarks, run in a client runner process, for
 * both peers: the events component (Publish; N live subscribers while M
 * events are published) and the SDK echo server it is compared with (Echo;
 * N concurrent server streams of M messages of the same size).
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { anyPack, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { dialSocket } from "@moby-core/sdk";
import { ContainerCreateSchema, EventsService, PublishRequestSchema, StartPosition, SubscribeResponseSchema } from "@moby-core/events-api/v1";
import type { PublishRequest } from "@moby-core/events-api/v1";
import { closedLoop, cpuReader, runClosedLoop } from "../support/call-load.js";
import type { ClosedLoop } from "../support/call-load.js";
import type { Measurement } from "../support/paired-benchmark.js";
import { ownCpuMicros } from "../support/process-cpu.js";
import { dialSdk } from "../rpc/sdk-peer.js";
import { RelayService } from "../gen/bench/v1/relay_pb.js";
import { createHash } from "node:crypto";
import { EnvelopeSchema } from "@moby-core/events-api/v1";
import { connect } from "@nats-io/transport-node";
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { addBenchStream } from "./bench-stream.js";
import type { ConsumerMessages } from "@nats-io/jetstream";

/** The echo payload of the unary baseline, in bytes: the same as the rpc group's unary cases. */
export const ECHO_PAYLOAD_BYTES = 16;

/** How long a batch's events may take to reach every subscriber after its last publish was acknowledged, in ms. */
const DELIVERY_TIMEOUT_MS = 60_000;

/** One request to a client runner. */
export type EventsLoadRequest =
  | ({ kind: "unary" } & ClosedLoop)
  | {
      kind: "deliver";
      /** Live subscribers (events) or concurrent streams (echo), each on its own connection. */
      subscribers: number;
      /** Events published per batch (events), messages per stream (echo). */
      events: number;
      /** Publish calls kept in flight while a batch is published. */
      inFlight: number;
      /** Batches of a quarter of the size run first and not counted, until this long, in ms (0: none). */
      warmupMs: number;
      /** Batches counted, until at least this long, in ms (at least one). */
      durationMs: number;
      serverPid: number;
    };

/** The payload every published event carries: what the container store publishes on a create. */
const CONTAINER_CREATE = anyPack(
  ContainerCreateSchema,
  create(ContainerCreateSchema, {
    id: "3f4e1b0c9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f",
    image: "docker.io/library/nginx:1.27",
    runtimeName: "io.containerd.runc.v2",
    labels: { app: "web", tier: "frontend" },
    revision: 12345n,
  }),
);

/** A unique prefix for the publish ids of this process, as EventPublisher makes them. */
const PUBLISH_ID_PREFIX = `bench-${process.pid.toString(16)}-${Date.now().toString(16)}`;
let publishCounter = 0;

/** The next PublishRequest: a container-create event with its own publish_id, as the container store sends them. */
function publishRequest(): PublishRequest {
  return create(PublishRequestSchema, {
    topic: "/containers/create",
    source: "container-store",
    event: CONTAINER_CREATE,
    publishId: `${PUBLISH_ID_PREFIX}-${++publishCounter}`,
  });
}

/**
 * The size of one delivered event as the events component encodes it (a
 * SubscribeResponse with its envelope): the echo streams' message size.
 */
export const DELIVERED_EVENT_BYTES = toBinary(
  SubscribeResponseSchema,
  create(SubscribeResponseSchema, {
    envelope: { sequence: 123_456n, timestamp: timestampFromMs(Date.now()), source: "container-store", topic: "/containers/create", event: CONTAINER_CREATE },
    resumeAfterSequence: 123_456n,
  }),
).byteLength;

/** A peer's side of the loads: one unary call, and one batch of deliveries to prepared receivers. */
export interface EventsPeerClient {
  /** One unary call: Publish (events), Echo of 16 bytes (echo). */
  unary(): Promise<void>;
  /** Opens n receivers (subscriptions or echo connections), ready to receive. */
  openReceivers(n: number): Promise<Receivers>;
  close(): void;
}

/** n receivers of one delivery measurement. */
interface Receivers {
  /** Delivers m messages to every receiver; resolves with when the last publish was acknowledged (events), ms after its start. */
  batch(m: number, inFlight: number): Promise<{ lastAckMs: number }>;
  close(): void;
}

/**
 * What n receivers hold of the batches: each one's stream starts after a
 * sequence and must then get every sequence in order, with no gap; a batch
 * publishes m events and waits until every receiver holds the last one.
 */
class DeliveryCounts {
  /** Per receiver: events received, the next sequence expected, the waiter of the current batch. */
  private readonly counts: { received: number; next: bigint; target: number; done: (() => void) | undefined }[];
  private failure: Error | undefined;
  private fail: ((error: Error) => void) | undefined;

  constructor(readonly n: number) {
    this.counts = Array.from({ length: n }, () => ({ received: 0, next: 0n, target: 0, done: undefined }));
  }

  /** Receiver i's stream is in place: its events come after sequence. */
  start(i: number, sequence: bigint): void {
    this.counts[i]!.next = sequence + 1n;
  }

  /** Receiver i got the event at sequence; out of order fails the measurement. */
  received(i: number, sequence: bigint): void {
    const count = this.counts[i]!;
    if (sequence !== count.next) {
      this.failWith(new Error(`receiver ${i} got sequence ${sequence}, expected ${count.next}`));
      return;
    }
    count.next++;
    count.received++;
    if (count.received >= count.target && count.done) {
      const done = count.done;
      count.done = undefined;
      done();
    }
  }

  /** Fails the batch under way, and every later one, with error. */
  failWith(error: Error): void {
    this.failure ??= error;
    this.fail?.(this.failure);
  }

  /** Publishes m events with publish, inFlight at a time, and waits until every receiver holds them; resolves with when the last publish was acknowledged, ms after the start. */
  async batch(m: number, inFlight: number, publish: () => Promise<void>): Promise<{ lastAckMs: number }> {
    if (this.failure) throw this.failure;
    const started = performance.now();
    const delivered = Promise.all(
      this.counts.map(
        (count) =>
          new Promise<void>((resolve) => {
            count.target += m;
            if (count.received >= count.target) resolve();
            else count.done = resolve;
          }),
      ),
    );
    const failed = new Promise<never>((_, reject) => (this.fail = reject));
    failed.catch(() => {}); // raced below; not a crash if publishing fails first
    await closedLoop(() => publish().then(() => 1), inFlight, 0, { calls: m });
    const lastAckMs = performance.now() - started;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const behind = this.counts.filter((count) => count.received < count.target).length;
        reject(new Error(`${behind} of ${this.n} receivers still waiting for events ${DELIVERY_TIMEOUT_MS} ms after the batch's last publish was acknowledged`));
      }, DELIVERY_TIMEOUT_MS);
    });
    try {
      await Promise.race([delivered, failed, late]);
    } finally {
      clearTimeout(timer);
      this.fail = undefined;
    }
    return { lastAckMs };
  }
}

/** What a live subscriber's stream says: it is in place after a sequence, or one event arrived. */
type LiveMessage = { ready: bigint } | { sequence: bigint };

/**
 * n live subscribers, each on its own connection (dial), each following the
 * stream subscribe opens on it; a batch publishes with publish.
 */
async function liveReceivers<C extends { close(): void }>(
  n: number,
  dial: () => C,
  subscribe: (connection: C, signal: AbortSignal) => AsyncIterable<LiveMessage>,
  publish: () => Promise<void>,
): Promise<Receivers> {
  const counts = new DeliveryCounts(n);
  const connections: C[] = [];
  const aborts: AbortController[] = [];
  const ready = Array.from(
    { length: n },
    (_, i) =>
      new Promise<void>((resolve, reject) => {
        const c = dial();
        connections.push(c);
        const abort = new AbortController();
        aborts.push(abort);
        void (async () => {
          try {
            for await (const message of subscribe(c, abort.signal)) {
              if ("ready" in message) {
                counts.start(i, message.ready);
                resolve();
              } else counts.received(i, message.sequence);
            }
            if (!abort.signal.aborted) throw new Error(`subscriber ${i}: the stream ended`);
          } catch (error) {
            if (abort.signal.aborted) return;
            const failure = error instanceof Error ? error : new Error(String(error));
            reject(failure);
            counts.failWith(failure);
          }
        })();
      }),
  );
  const close = () => {
    aborts.forEach((a) => a.abort());
    connections.forEach((c) => c.close());
  };
  try {
    await Promise.all(ready);
  } catch (error) {
    close();
    throw error;
  }
  return { batch: (m, inFlight) => counts.batch(m, inFlight, publish), close };
}

/** The events component's client: Publish on one connection, each subscriber on its own. */
export function eventsPeer(socketPath: string): EventsPeerClient {
  const connection = dialSocket(socketPath);
  const events = connection.client(EventsService);
  const unary = async () => {
    const response = await events.publish(publishRequest());
    if (response.sequence === 0n || response.duplicate) throw new Error(`publish answered sequence ${response.sequence}, duplicate ${response.duplicate}`);
  };
  return {
    unary,
    openReceivers: (n) =>
      liveReceivers(
        n,
        () => dialSocket(socketPath),
        async function* (c, signal) {
          let first = true;
          for await (const message of c.client(EventsService).subscribe({ start: StartPosition.NOW }, { signal })) {
            if (first) {
              // The progress message: the subscription is in place.
              first = false;
              yield { ready: message.resumeAfterSequence };
            } else if (message.envelope !== undefined) yield { sequence: message.envelope.sequence };
          }
        },
        unary,
      ),
    close() {
      connection.close();
    },
  };
}

/** The Envelope bytes and message id the direct JetStream peer and the relay publish for the next event. */
function directPublish(): { data: Uint8Array; msgID: string } {
  const request = publishRequest();
  const data = toBinary(EnvelopeSchema, create(EnvelopeSchema, { timestamp: timestampFromMs(Date.now()), source: request.source, topic: request.topic, event: request.event }));
  const msgID = createHash("sha256").update(`${request.source}\n${request.publishId}`).digest("base64url");
  return { data, msgID };
}

/**
 * The relay (bench/relay): the direct JetStream peer's publishes and ordered
 * consumers, made by a component that only passes them on, through its gRPC
 * API on a unix socket: the least any component in front of JetStream costs.
 */
export function relayPeer(socketPath: string): EventsPeerClient {
  const connection = dialSocket(socketPath);
  const relay = connection.client(RelayService);
  const unary = async () => {
    const { data, msgID } = directPublish();
    const { revision } = await relay.put({ key: msgID, value: data });
    if (revision === 0n) throw new Error("publish answered sequence 0");
  };
  return {
    unary,
    openReceivers: (n) =>
      liveReceivers(
        n,
        () => dialSocket(socketPath),
        async function* (c, signal) {
          for await (const message of c.client(RelayService).watch({ startRevision: 0n }, { signal })) {
            if (message.ready) {
              yield { ready: message.revision };
              continue;
            }
            fromBinary(EnvelopeSchema, message.value);
            yield { sequence: message.revision };
          }
        },
        unary,
      ),
    close() {
      connection.close();
    },
  };
}

/** The stream the direct JetStream peer writes, configured as the events component configures its own. */
export const DIRECT_STREAM = "BENCH_DIRECT";

/**
 * A JetStream client doing directly what the events component does for its
 * clients: publish each event (its Envelope, without the sequence) with a
 * Nats-Msg-Id from its publish id and wait for the acknowledgement; deliver
 * through one ordered consumer per subscriber.
 */
export async function jetstreamPeer(servers: string): Promise<EventsPeerClient> {
  const nc = await connect({ servers: servers.split(",") });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const subject = await addBenchStream(jsm, DIRECT_STREAM);
  const unary = async () => {
    const { data, msgID } = directPublish();
    const ack = await js.publish(subject, data, { msgID });
    if (ack.seq === 0 || ack.duplicate) throw new Error(`publish answered sequence ${ack.seq}, duplicate ${ack.duplicate}`);
  };
  return {
    unary,
    async openReceivers(n) {
      const { state } = await jsm.streams.info(DIRECT_STREAM);
      const counts = new DeliveryCounts(n);
      const consumers: ConsumerMessages[] = [];
      for (let i = 0; i < n; i++) {
        counts.start(i, BigInt(state.last_seq));
        const consumer = await js.consumers.get(DIRECT_STREAM, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: state.last_seq + 1 });
        consumers.push(
          await consumer.consume({
            callback: (message) => {
              fromBinary(EnvelopeSchema, message.data);
              counts.received(i, BigInt(message.seq));
            },
          }),
        );
      }
      return {
        batch: (m, inFlight) => counts.batch(m, inFlight, unary),
        close() {
          consumers.forEach((c) => void c.close());
        },
      };
    },
    close() {
      void nc.close();
    },
  };
}

/** The SDK echo server's client: Echo on one connection, each stream on its own. */
export function echoPeer(socketPath: string): EventsPeerClient {
  const echo = dialSdk(socketPath);
  const payload = new Uint8Array(ECHO_PAYLOAD_BYTES).fill(0x61);
  return {
    async unary() {
      const answer = await echo.echo(payload);
      if (answer.byteLength !== payload.byteLength) throw new Error(`echo answered ${answer.byteLength} bytes, sent ${payload.byteLength}`);
    },
    async openReceivers(n) {
      const clients = Array.from({ length: n }, () => dialSdk(socketPath));
      // Connect each one before the clock starts, as a subscription is in place before it.
      await Promise.all(clients.map((c) => c.echo(payload)));
      return {
        async batch(m) {
          await Promise.all(
            clients.map(async (c) => {
              const received = await c.stream(m, DELIVERED_EVENT_BYTES);
              if (received !== m) throw new Error(`stream sent ${received} messages, asked for ${m}`);
            }),
          );
          return { lastAckMs: Number.NaN };
        },
        close() {
          clients.forEach((c) => c.close());
        },
      };
    },
    close() {
      echo.close();
    },
  };
}

/** Runs one request against peer. */
export async function runEventsLoad(peer: EventsPeerClient, request: EventsLoadRequest): Promise<Measurement> {
  if (request.kind === "unary") {
    const r = await runClosedLoop(() => peer.unary().then(() => 1), request);
    return { rate: r.rate, extra: { p50Us: r.p50Us, p99Us: r.p99Us, clientCpuUs: r.clientCpuUs, serverCpuUs: r.serverCpuUs } };
  }
  const receivers = await peer.openReceivers(request.subscribers);
  try {
    /** Runs batches of m until ms have passed (at least one); sums their times. */
    const batches = async (m: number, ms: number) => {
      let elapsed = 0;
      let acked = 0;
      let count = 0;
      do {
        const started = performance.now();
        const { lastAckMs } = await receivers.batch(m, request.inFlight);
        elapsed += performance.now() - started;
        acked += lastAckMs;
        count++;
      } while (elapsed < ms);
      return { elapsed, acked, count };
    };
    // Warm-up batches are a quarter of the size: enough to warm the new streams, cheaper than a whole batch.
    if (request.warmupMs > 0) await batches(Math.ceil(request.events / 4), request.warmupMs);
    const serverCpu = cpuReader(request.serverPid);
    const serverBefore = serverCpu();
    const clientBefore = ownCpuMicros();
    const { elapsed, acked, count } = await batches(request.events, request.durationMs);
    const delivered = count * request.events * request.subscribers;
    return {
      rate: (delivered / elapsed) * 1000,
      extra: {
        publishRate: (count * request.events * 1000) / acked,
        clientCpuUs: (ownCpuMicros() - clientBefore) / delivered,
        serverCpuUs: (serverCpu() - serverBefore) / delivered,
      },
    };
  } finally {
    receivers.close();
  }
}
