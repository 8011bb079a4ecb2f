// The events component against its contract (proto/moby/events/v1/events_service.proto),
// running as a real child process on a real unix socket, once per backend: its
// own SQLite log, and a stream of a real three-server NATS JetStream cluster
// (replicas 3) that the suite starts once and kills at its end. The same cases
// on both: publish rules, one total order under concurrent publishers, replay
// and resume without loss or duplicates, filters, durability across kill -9,
// idempotent publish ids, the slow-subscriber cut-off, retention bounds, and
// the SDK's EventPublisher across an events component that is down or restarts.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { AnySchema, anyPack, timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, EventPublisher } from "@moby-core/sdk";
import {
  ContainerCreateSchema,
  ContainerDeleteSchema,
  EnvelopeSchema,
  PublishRequestSchema,
  StartPosition,
  TaskExitSchema,
  TaskStartSchema,
} from "@moby-core/events-api/v1";
import type { Envelope, PublishRequest, PublishResponse } from "@moby-core/events-api/v1";
import { scratchDirectory } from "../support/component-process.js";
import { EventsComponent, SubscriptionReader, containerCreate, containerId, sleep } from "../support/events-component.js";
import type { EventsClient, EventsComponentConfig, EventsLogTarget } from "../support/events-component.js";
import { rejection } from "../support/rejection.js";
import { ComponentService } from "@moby-core/component-api/v1";
import type { JsonObject } from "@bufbuild/protobuf";

import { NatsCluster } from "../support/nats-cluster.js";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import type { StreamInfo } from "@nats-io/jetstream";
import { teardown } from "../support/teardown.js";
import type { TeardownStep } from "../support/teardown.js";

const scratch = scratchDirectory("moby-events-test-");
const readers: SubscriptionReader[] = [];
const publishers: EventPublisher[] = [];

afterEach(() => {
  readers.splice(0).forEach((r) => r.close());
  publishers.splice(0).forEach((p) => p.close());
});
after(() => scratch.remove());

/** Opens a Subscribe stream, cancelled after the test. */
function subscribe(client: EventsClient, request: ConstructorParameters<typeof SubscriptionReader>[1]): SubscriptionReader {
  const reader = new SubscriptionReader(client, request);
  readers.push(reader);
  return reader;
}

/** Asserts a promise rejects with INVALID_ARGUMENT whose message names field first. */
async function invalidArgument(promise: Promise<unknown>, field: string): Promise<void> {
  const error = await rejection(promise);
  assert.equal(error.code, Code.InvalidArgument, `${field}: ${error.message}`);
  assert.ok(error.rawMessage.startsWith(`${field}: `), `the message names ${field}: ${JSON.stringify(error.rawMessage)}`);
}

/** Runs a sub-case, with its name in the failure message. */
async function subCase(what: string, check: Promise<void>): Promise<void> {
  try {
    await check;
  } catch (error) {
    throw new Error(`${what}: ${(error as Error).message}`, { cause: error });
  }
}

/** A publish request for topic from source with a payload of schema. */
function request<Desc extends DescMessage>(topic: string, source: string, schema: Desc, payload: MessageShape<Desc>, publishId = ""): PublishRequest {
  return create(PublishRequestSchema, { topic, source, event: anyPack(schema, payload), publishId });
}

/** The sequence numbers of envelopes. */
const sequences = (envelopes: Envelope[]) => envelopes.map((e) => e.sequence);

/** first, first + 1, ..., last as bigints. */
function range(first: bigint, last: bigint): bigint[] {
  const out: bigint[] = [];
  for (let s = first; s <= last; s++) out.push(s);
  return out;
}

/** Polls until check holds, failing after timeoutMs. */
async function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

/** A backend the suite runs on: what it starts once, and where the log of the nth component is. */
interface Backend {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  target(n: number): EventsLogTarget;
}

/** Each component its own SQLite file. */
const sqlite: Backend = { name: "sqlite", start: async () => {}, stop: async () => {}, target: () => ({ backend: "sqlite" }) };

/** Each component its own stream, replicated on all three servers of one cluster. */
function natsBackend(): Backend {
  const cluster = new NatsCluster(join(scratch.dir, "nats"), 3);
  return {
    name: "nats",
    start: () => cluster.start(),
    stop: () => cluster.stop(),
    target: (n) => ({ backend: "nats", nats: { servers: cluster.servers, stream: `EVENTS_${n}`, replicas: 3 } }),
  };
}

for (const backend of [sqlite, natsBackend()]) {
  describe(`events on ${backend.name}`, () => {
    before(() => backend.start());
    const closers: TeardownStep[] = [];
    eventsSuite(backend, closers);
    // One hook, so that a failure to close the components cannot skip stopping the backend's servers.
    after(() => teardown([...closers, [`the ${backend.name} backend`, () => backend.stop()]]));
  });
}

/** Every case of the contract, on backend; adds what closes the components it starts to closers, for the suite's teardown. */
function eventsSuite(backend: Backend, closers: TeardownStep[]): void {
  let components = 0;
  const started: EventsComponent[] = [];
  closers.push(["the events components", () => Promise.all(started.splice(0).map((c) => c.close()))]);

  /** A new events component with its own socket and log (not started). */
  function component(config: EventsComponentConfig = {}): EventsComponent {
    components++;
    const events = new EventsComponent(join(scratch.dir, `${backend.name}-c${components}`), config, backend.target(components));
    started.push(events);
    return events;
  }

  /** A new events component, started. */
  async function running(config: EventsComponentConfig = {}): Promise<EventsComponent> {
    const events = component(config);
    await events.start();
    return events;
  }

  let shared: Promise<EventsComponent> | undefined;
  /** The component the suites that only add events share (started once, on first use). */
  function sharedComponent(): Promise<EventsComponent> {
    shared ??= running();
    return shared;
  }


  describe("Publish", () => {
    let events: EventsComponent;
    let client: EventsClient;
    before(async () => {
      events = await sharedComponent();
      client = events.client();
    });

    it("returns the next sequence numbers, and the log delivers each event as published", async () => {
      const base = (await client.getStatus({})).latestSequence;
      const first = await client.publish(containerCreate("c1"));
      const second = await client.publish(containerCreate("c2"));
      const third = await client.publish(request("/tasks/exit", "container-runtime", TaskExitSchema, create(TaskExitSchema, { containerId: "c1", exitStatus: { exitCode: 3 } })));
      assert.deepEqual([first.sequence, second.sequence, third.sequence], [base + 1n, base + 2n, base + 3n]);
      assert.ok([first, second, third].every((r) => r.duplicate === false && r.timestamp !== undefined));
      assert.ok(Math.abs(timestampMs(first.timestamp!) - Date.now()) < 60_000, "the timestamp is the component's wall clock");

      const reader = subscribe(client, { start: StartPosition.OLDEST });
      assert.equal(await reader.progress(), 0n, "OLDEST starts after the oldest retained sequence minus one");
      const [a, b, c] = (await reader.events(Number(base) + 3)).slice(-3);
      assert.equal(containerId(a!), "c1");
      assert.equal(containerId(b!), "c2");
      assert.equal(c!.topic, "/tasks/exit");
      assert.equal(c!.source, "container-runtime");
      assert.equal(c!.event!.typeUrl, "type.googleapis.com/moby.events.v1.TaskExit");
      assert.deepEqual(c!.timestamp, third.timestamp, "the envelope has the timestamp Publish returned");

      const status = await client.getStatus({});
      assert.equal(status.oldestSequence, 1n);
      assert.equal(status.latestSequence, base + 3n);
      assert.equal(status.retainedEvents, base + 3n);
      assert.equal(status.subscriberBufferEvents, 1024);
      assert.equal(status.retention?.maxEvents, 100_000n);
      assert.equal(status.retention?.maxBytes, 268_435_456n);
      assert.equal(status.retention?.maxAge?.seconds, 86_400n);
    });

    it("refuses every broken rule with INVALID_ARGUMENT naming the field, and records nothing", async () => {
      const before = (await client.getStatus({})).latestSequence;
      const cases: [string, Partial<PublishRequest>, string][] = [
        ["no topic", { topic: "" }, "topic"],
        ["no leading /", { topic: "containers/create" }, "topic"],
        ["a .. segment", { topic: "/containers/../create" }, "topic"],
        ["a . segment", { topic: "/containers/./create" }, "topic"],
        ["an empty segment", { topic: "/containers//create" }, "topic"],
        ["a trailing /", { topic: "/containers/create/" }, "topic"],
        ["only /", { topic: "/" }, "topic"],
        ["a space", { topic: "/containers/my create" }, "topic"],
        ["a non-ASCII letter", { topic: "/containers/créé" }, "topic"],
        ["257 characters", { topic: `/${"a".repeat(256)}` }, "topic"],
        ["no source", { source: "" }, "source"],
        ["an upper-case source", { source: "Container-Store" }, "source"],
        ["a source starting with a digit", { source: "1store" }, "source"],
        ["a source with _", { source: "container_store" }, "source"],
        ["a 64-character source", { source: `s${"x".repeat(63)}` }, "source"],
        ["a publish_id with a space", { publishId: "a b" }, "publish_id"],
        ["a publish_id with /", { publishId: "a/b" }, "publish_id"],
        ["a 129-character publish_id", { publishId: "p".repeat(129) }, "publish_id"],
        ["no event", { event: undefined }, "event"],
        ["no type_url", { event: create(AnySchema, { typeUrl: "", value: new Uint8Array([1]) }) }, "event.type_url"],
        ["a type_url without a host", { event: create(AnySchema, { typeUrl: "moby.events.v1.ContainerCreate" }) }, "event.type_url"],
        ["a type_url with a space", { event: create(AnySchema, { typeUrl: "type.googleapis.com/moby events.ContainerCreate" }) }, "event.type_url"],
        ["a 257-character type_url", { event: create(AnySchema, { typeUrl: `${"h".repeat(220)}.example/moby.events.v1.${"M".repeat(20)}` }) }, "event.type_url"],
      ];
      for (const [what, override, field] of cases) {
        await subCase(what, invalidArgument(client.publish({ ...containerCreate("bad"), ...override }), field));
      }
      assert.equal((await client.getStatus({})).latestSequence, before, "no refused event was recorded");

      // The edges that are still valid.
      const ok = await client.publish(containerCreate("edges", { topic: `/${"a".repeat(255)}`, source: `s${"x".repeat(62)}`, publishId: `A.b_c:d-${"9".repeat(120)}` }));
      assert.equal(ok.sequence, before + 1n);
      const dotted = await client.publish(containerCreate("dots", { topic: "/a.b/..c/c..d/-_" }));
      assert.equal(dotted.sequence, before + 2n);
    });

    it("refuses an event value over 1 MiB naming event, takes exactly 1 MiB, and leaves over 4 MiB to gRPC (RESOURCE_EXHAUSTED)", async () => {
      const big = events.client({ maxSendMessageBytes: 16 * 1024 * 1024 });
      const typeUrl = "type.googleapis.com/moby.events.v1.ContainerCreate";
      const before = (await big.getStatus({})).latestSequence;
      const over = containerCreate("x", { event: create(AnySchema, { typeUrl, value: new Uint8Array(1024 * 1024 + 1) }) });
      await invalidArgument(big.publish(over), "event");
      const exact = await big.publish(containerCreate("x", { event: create(AnySchema, { typeUrl, value: new Uint8Array(1024 * 1024).fill(7) }) }));
      assert.equal(exact.sequence, before + 1n);
      const huge = containerCreate("x", { event: create(AnySchema, { typeUrl, value: new Uint8Array(5 * 1024 * 1024) }) });
      assert.equal((await rejection(big.publish(huge))).code, Code.ResourceExhausted);
      assert.equal((await big.getStatus({})).latestSequence, before + 1n);

      const reader = subscribe(big, { start: StartPosition.AFTER_SEQUENCE, afterSequence: before });
      assert.equal(await reader.progress(), before);
      const [envelope] = await reader.events(1);
      assert.equal(envelope!.event!.value.byteLength, 1024 * 1024, "the 1 MiB payload is replayed whole");
      assert.ok(envelope!.event!.value.every((byte) => byte === 7));
    });
  });

  describe("Subscribe arguments", () => {
    let client: EventsClient;
    before(async () => {
      client = (await sharedComponent()).client();
      await client.publish(containerCreate("one"));
    });

    it("refuses a filter that does not parse, names another field, or has a bad regex, naming filters[i]", async () => {
      const cases: [string[], string][] = [
        [["nope==x"], "filters[0]"],
        [["topic==/a", "nope==x"], "filters[1]"],
        [["topic==/a", "source==b", 'topic=="/unterminated'], "filters[2]"],
        [["topic~=("], "filters[0]"],
        [["topic~=[a-"], "filters[0]"],
        [["topic==/a,envelope.topic==/b"], "filters[0]"],
        [["topic==/a,"], "filters[0]"],
        [["topic==/a source==b"], "filters[0]"],
        [[`topic==/${"a".repeat(4100)}`], "filters[0]"], // past the 4096 bytes of MAX_FILTER_LENGTH
      ];
      for (const [filters, field] of cases) {
        await subCase(JSON.stringify(filters).slice(0, 80), invalidArgument(subscribe(client, { filters, start: StartPosition.OLDEST }).next(), field));
      }
      const tooMany = Array.from({ length: 33 }, (_, i) => `topic==/t${i}`);
      const error = await rejection(subscribe(client, { filters: tooMany }).next());
      assert.equal(error.code, Code.InvalidArgument);
      assert.match(error.rawMessage, /^filters/);
    });

    it("refuses after_sequence without START_POSITION_AFTER_SEQUENCE, naming after_sequence", async () => {
      for (const start of [StartPosition.UNSPECIFIED, StartPosition.NOW, StartPosition.OLDEST]) {
        await subCase(StartPosition[start], invalidArgument(subscribe(client, { start, afterSequence: 1n }).next(), "after_sequence"));
      }
    });

    it("starts every stream with a progress message at its start position, and refuses to start past the latest", async () => {
      const latest = (await client.publish(containerCreate("two"))).sequence;
      assert.equal(await subscribe(client, {}).progress(), latest, "UNSPECIFIED means NOW: the latest sequence");
      assert.equal(await subscribe(client, { start: StartPosition.NOW }).progress(), latest);
      assert.equal(await subscribe(client, { start: StartPosition.OLDEST }).progress(), 0n, "the oldest retained sequence minus one");
      assert.equal(await subscribe(client, { start: StartPosition.AFTER_SEQUENCE, afterSequence: 0n }).progress(), 0n);
      assert.equal(await subscribe(client, { start: StartPosition.AFTER_SEQUENCE, afterSequence: latest - 1n }).progress(), latest - 1n);
      assert.equal(await subscribe(client, { start: StartPosition.AFTER_SEQUENCE, afterSequence: latest }).progress(), latest);
      const outOfRange = await rejection(subscribe(client, { start: StartPosition.AFTER_SEQUENCE, afterSequence: latest + 1n }).next());
      assert.equal(outOfRange.code, Code.OutOfRange);
      assert.ok(outOfRange.rawMessage.includes(String(latest)), `the message states the latest sequence: ${outOfRange.rawMessage}`);
    });
  });

  describe("a new log, and ordering under concurrent publishers", () => {
    let events: EventsComponent;
    before(async () => {
      events = await running();
    });

    it("reports an empty log as oldest 0, latest 0", async () => {
      const client = events.client();
      assert.equal(await subscribe(client, { start: StartPosition.OLDEST }).progress(), 0n, "0: the log has never held an event");
      assert.equal(await subscribe(client, { start: StartPosition.AFTER_SEQUENCE, afterSequence: 0n }).progress(), 0n);
      const status = await client.getStatus({});
      assert.deepEqual([status.oldestSequence, status.latestSequence, status.retainedEvents, status.retainedBytes], [0n, 0n, 0n, 0n]);
    });

    it("gives 4 x 250 concurrent publishes the sequences 1 to 1000 in one gap-free order that every subscriber sees once, each publisher's in its acknowledgement order", async () => {
      const early = subscribe(events.client(), { start: StartPosition.OLDEST });
      assert.equal(await early.progress(), 0n);

      const publisherCount = 4;
      const perPublisher = 250;
      const acknowledged: bigint[][] = Array.from({ length: publisherCount }, () => []);
      const sequenceOf = new Map<string, bigint>();
      let acks = 0;
      let late: SubscriptionReader | undefined;
      await Promise.all(
        Array.from({ length: publisherCount }, async (_, p) => {
          // One HTTP/2 connection each: the component acknowledges a group in sequence order, and only
          // over one connection do the answers arrive in the order they were sent.
          const client = events.client({ connections: 1 });
          await Promise.all(
            Array.from({ length: perPublisher }, async (_, i) => {
              const id = `p${p}-${i}`;
              const response = await client.publish(containerCreate(id, { source: `publisher-${p}` }));
              assert.equal(response.duplicate, false);
              acknowledged[p]!.push(response.sequence);
              sequenceOf.set(id, response.sequence);
              // A second subscriber joins from OLDEST while half the events are still coming.
              if (++acks === (publisherCount * perPublisher) / 2) late = subscribe(events.client(), { start: StartPosition.OLDEST });
            }),
          );
        }),
      );
      const total = publisherCount * perPublisher;
      assert.deepEqual(
        [...sequenceOf.values()].sort((a, b) => (a < b ? -1 : 1)),
        range(1n, BigInt(total)),
        "the publishes got the sequences 1 to 1000, each once",
      );
      for (const [p, order] of acknowledged.entries()) {
        assert.deepEqual(order, [...order].sort((a, b) => (a < b ? -1 : 1)), `publisher ${p} got its acknowledgements in sequence order`);
      }

      for (const reader of [early, late!]) {
        if (reader === late) assert.equal(await reader.progress(), 0n);
        const received = await reader.events(total);
        assert.deepEqual(sequences(received), range(1n, BigInt(total)), "every event once, in sequence order, with no gap");
        for (const envelope of received) {
          const id = containerId(envelope);
          assert.equal(envelope.sequence, sequenceOf.get(id), `${id} is delivered at the sequence its publish returned`);
          assert.equal(envelope.source, `publisher-${id.slice(1, id.indexOf("-"))}`);
        }
      }
      // Nothing more: the next event either subscriber sends is the next one published.
      const next = await events.client().publish(containerCreate("after"));
      for (const reader of [early, late!]) assert.equal((await reader.events(1))[0]!.sequence, next.sequence);
      const status = await events.client().getStatus({});
      assert.equal(status.latestSequence, BigInt(total + 1));
    });
  });

  describe("replay and resume", () => {
    let events: EventsComponent;
    let client: EventsClient;
    before(async () => {
      events = await sharedComponent();
      client = events.client();
    });

    it("resumes after a cancelled stream from its last resume_after_sequence: exactly the rest, no gap, no duplicate", async () => {
      const base = (await client.getStatus({})).latestSequence;
      for (let i = 0; i < 30; i++) await client.publish(containerCreate(`r${i}`));

      const first = subscribe(client, { start: StartPosition.AFTER_SEQUENCE, afterSequence: base });
      assert.equal(await first.progress(), base);
      const seen = await first.events(10);
      assert.deepEqual(sequences(seen), range(base + 1n, base + 10n));
      const resumeAfter = first.lastResume;
      first.close();

      const more = await Promise.all(Array.from({ length: 20 }, (_, i) => events.client().publish(containerCreate(`r${30 + i}`))));
      assert.equal(more.length, 20);

      const second = subscribe(events.client(), { start: StartPosition.AFTER_SEQUENCE, afterSequence: resumeAfter });
      assert.equal(await second.progress(), resumeAfter, "the first message carries after_sequence");
      const rest = await second.events(40);
      assert.deepEqual(sequences(rest), range(base + 11n, base + 50n), "exactly the rest: no gap, no duplicate");
      assert.deepEqual(rest.slice(0, 20).map(containerId), Array.from({ length: 20 }, (_, i) => `r${10 + i}`));

      // Then live: the next event arrives and nothing before it.
      const live = await client.publish(containerCreate("live"));
      const [next] = await second.events(1);
      assert.equal(next!.sequence, live.sequence);
      assert.equal(containerId(next!), "live");
    });

    it("NOW replays nothing and then sends every new event", async () => {
      const latest = (await client.getStatus({})).latestSequence;
      const reader = subscribe(client, { start: StartPosition.NOW });
      assert.equal(await reader.progress(), latest, "the progress message carries the latest sequence");
      const published = [];
      for (let i = 0; i < 5; i++) published.push((await client.publish(containerCreate(`now${i}`))).sequence);
      assert.deepEqual(sequences(await reader.events(5)), published);
    });
  });

  describe("filters", () => {
    let events: EventsComponent;
    let client: EventsClient;
    /** What was published after base: sequence, topic and source. */
    const published: { sequence: bigint; topic: string; source: string }[] = [];
    let base = 0n;

    async function publish(topic: string, source: string, id: string): Promise<bigint> {
      const payload =
        topic === "/containers/create"
          ? request(topic, source, ContainerCreateSchema, create(ContainerCreateSchema, { id }))
          : topic === "/containers/delete"
            ? request(topic, source, ContainerDeleteSchema, create(ContainerDeleteSchema, { id }))
            : topic === "/tasks/exit"
              ? request(topic, source, TaskExitSchema, create(TaskExitSchema, { containerId: id }))
              : request(topic, source, TaskStartSchema, create(TaskStartSchema, { containerId: id }));
      const { sequence } = await client.publish(payload);
      published.push({ sequence, topic, source });
      return sequence;
    }

    before(async () => {
      events = await sharedComponent();
      client = events.client();
      await client.publish(containerCreate("before-base"));
      base = (await client.getStatus({})).latestSequence;
      const fixture: [string, string][] = [
        ["/containers/create", "container-store"],
        ["/tasks/start", "container-runtime"],
        ["/containers/delete", "container-store"],
        ["/tasks/exit", "container-runtime"],
        ["/containers/create", "other-store"],
        ["/tasks/exit", "other-runtime"],
        ["/containers/create", "container-store"],
        ["/tasks/start", "container-runtime"],
      ];
      for (const [i, [topic, source]] of fixture.entries()) await publish(topic, source, `f${i}`);
    });

    type Event = (typeof published)[number];
    const cases: { filters: string[]; selects: (e: Event) => boolean; sentinel: [string, string] }[] = [
      { filters: ["topic==/containers/create"], selects: (e) => e.topic === "/containers/create", sentinel: ["/containers/create", "x"] },
      { filters: ['topic=="/tasks/exit"'], selects: (e) => e.topic === "/tasks/exit", sentinel: ["/tasks/exit", "x"] },
      { filters: ["topic~=^/containers/"], selects: (e) => e.topic.startsWith("/containers/"), sentinel: ["/containers/delete", "x"] },
      { filters: ['topic~="^/tasks/"'], selects: (e) => e.topic.startsWith("/tasks/"), sentinel: ["/tasks/start", "x"] },
      { filters: ["topic~=exit"], selects: (e) => e.topic.includes("exit"), sentinel: ["/tasks/exit", "y"] },
      { filters: ["topic~=^/containers/create$"], selects: (e) => e.topic === "/containers/create", sentinel: ["/containers/create", "anchored"] },
      { filters: ["source==container-runtime"], selects: (e) => e.source === "container-runtime", sentinel: ["/tasks/start", "container-runtime"] },
      { filters: ["source!=container-store"], selects: (e) => e.source !== "container-store", sentinel: ["/tasks/start", "z"] },
      {
        filters: ["topic~=^/containers/,source==container-store"],
        selects: (e) => e.topic.startsWith("/containers/") && e.source === "container-store",
        sentinel: ["/containers/delete", "container-store"],
      },
      {
        filters: [" topic == /tasks/exit , source == other-runtime "],
        selects: (e) => e.topic === "/tasks/exit" && e.source === "other-runtime",
        sentinel: ["/tasks/exit", "other-runtime"],
      },
      {
        filters: ["topic==/tasks/exit", "source==other-store"],
        selects: (e) => e.topic === "/tasks/exit" || e.source === "other-store",
        sentinel: ["/containers/create", "other-store"],
      },
      {
        filters: ["topic==/containers/delete,source==nobody", "topic==/tasks/start,source==container-runtime", "source==other-runtime"],
        selects: (e) => (e.topic === "/containers/delete" && e.source === "nobody") || (e.topic === "/tasks/start" && e.source === "container-runtime") || e.source === "other-runtime",
        sentinel: ["/containers/delete", "nobody"],
      },
      { filters: [], selects: () => true, sentinel: ["/tasks/start", "anyone"] },
      { filters: [""], selects: () => true, sentinel: ["/tasks/start", "anyone"] },
    ];

    for (const { filters, selects, sentinel } of cases) {
      it(`selects with ${JSON.stringify(filters)}`, async () => {
        const reader = subscribe(client, { filters, start: StartPosition.AFTER_SEQUENCE, afterSequence: base });
        assert.equal(await reader.progress(), base);
        const expected = published.filter(selects).map((e) => e.sequence);
        const received = await reader.events(expected.length);
        assert.deepEqual(sequences(received), expected);
        for (const envelope of received) assert.ok(selects(envelope), `${envelope.topic} from ${envelope.source} is selected`);
        // Nothing else was selected: the next event the stream sends is a new one that matches.
        const last = await publish(sentinel[0], sentinel[1], "sentinel");
        const [next] = await reader.events(1);
        assert.equal(next!.sequence, last);
      });
    }

    it("takes RE2 syntax for ~=, such as a leading (?i) flag", async () => {
      const reader = subscribe(client, { filters: ["topic~=(?i)^/CONTAINERS/"], start: StartPosition.AFTER_SEQUENCE, afterSequence: base });
      assert.equal(await reader.progress(), base);
      const [first] = await reader.events(1);
      assert.equal(first!.topic, "/containers/create");
    });

    it(
      "sends a progress message while events are filtered out and nothing was sent for 5 s, even with steady traffic",
      async () => {
        const latest = (await client.getStatus({})).latestSequence;
        const reader = subscribe(client, { filters: ["source==nobody-publishes-this"], start: StartPosition.NOW });
        assert.equal(await reader.progress(), latest);
        let ticking = true;
        const ticker = (async () => {
          while (ticking) {
            await client.publish(containerCreate("noise"));
            await sleep(250);
          }
        })();
        try {
          const message = await reader.next(6_500);
          assert.equal(message.envelope, undefined);
          assert.ok(message.resumeAfterSequence > latest, "the resume position moved past the filtered-out events");
        } finally {
          ticking = false;
          await ticker;
        }
      },
    );
  });

  describe("durability and idempotency across kill -9", () => {
    // One component, killed and restarted on the same database by each test in turn.
    let events: EventsComponent;
    let idempotent: { sequence: bigint; timestamp: PublishResponse["timestamp"] };
    before(async () => {
      events = await running();
    });

    it("keeps every acknowledged event through kill -9 right after the last ack, and never reuses a sequence", async () => {
      const first = await events.client().publish(containerCreate("idem", { publishId: "create-idem-1" }));
      assert.deepEqual([first.sequence, first.duplicate], [1n, false]);
      idempotent = { sequence: first.sequence, timestamp: first.timestamp };
      const clients = [events.client(), events.client(), events.client()];
      const acked = await Promise.all(Array.from({ length: 300 }, (_, i) => clients[i % 3]!.publish(containerCreate(`k${i}`))));
      await events.stop("SIGKILL");
      assert.deepEqual(acked.map((r) => r.sequence).sort((a, b) => (a < b ? -1 : 1)), range(2n, 301n));

      await events.start();
      const client = events.client();
      const status = await client.getStatus({});
      assert.deepEqual([status.oldestSequence, status.latestSequence, status.retainedEvents], [1n, 301n, 301n]);
      const reader = subscribe(client, { start: StartPosition.OLDEST });
      assert.equal(await reader.progress(), 0n);
      const replayed = await reader.events(301);
      assert.deepEqual(sequences(replayed), range(1n, 301n));
      for (const [i, response] of acked.entries()) {
        const envelope = replayed[Number(response.sequence) - 1]!;
        assert.equal(containerId(envelope), `k${i}`);
        assert.deepEqual(envelope.timestamp, response.timestamp);
      }
      const next = await client.publish(containerCreate("after-restart"));
      assert.equal(next.sequence, 302n, "the sequence goes on after a restart");
    });

    it("answers a repeated publish_id with duplicate and the first sequence and timestamp, also after kill -9 and restart", async () => {
      const client = events.client();
      // Published before the kill of the previous test; topic and payload of a repeat are not compared.
      const repeat = await client.publish(containerCreate("changed", { publishId: "create-idem-1", topic: "/containers/update" }));
      assert.deepEqual([repeat.duplicate, repeat.sequence, repeat.timestamp], [true, idempotent.sequence, idempotent.timestamp]);

      const base = (await client.getStatus({})).latestSequence;
      const fresh = await client.publish(containerCreate("idem-2", { publishId: "create-idem-2" }));
      assert.deepEqual([fresh.duplicate, fresh.sequence], [false, base + 1n]);
      const again = await client.publish(containerCreate("idem-2", { publishId: "create-idem-2" }));
      assert.deepEqual([again.duplicate, again.sequence, again.timestamp], [true, fresh.sequence, fresh.timestamp]);
      // The same publish_id from another source is another event.
      const otherSource = await client.publish(containerCreate("idem-2", { publishId: "create-idem-2", source: "container-runtime" }));
      assert.deepEqual([otherSource.duplicate, otherSource.sequence], [false, base + 2n]);
      // Concurrent repeats of one new publish_id record it once.
      const burst = await Promise.all(Array.from({ length: 10 }, () => client.publish(containerCreate("burst", { publishId: "burst-1" }))));
      assert.equal(new Set(burst.map((r) => r.sequence)).size, 1);
      assert.equal(burst.filter((r) => !r.duplicate).length, 1);
      assert.equal((await client.getStatus({})).latestSequence, base + 3n, "repeats recorded nothing");

      await events.stop("SIGKILL");
      await events.start();
      const restarted = await events.client().publish(containerCreate("burst", { publishId: "burst-1" }));
      assert.deepEqual([restarted.duplicate, restarted.sequence], [true, burst[0]!.sequence]);
    });

    it("keeps every acknowledged event when killed while publishes are in flight, with no gap in the log", async () => {
      const base = (await events.client().getStatus({})).latestSequence;
      const acked = new Map<bigint, string>();
      let failures = 0;
      // 8 publishers, each publishing one event after the other until the component is gone.
      const workers = Array.from({ length: 8 }, async (_, w) => {
        const client = events.client({ retry: false });
        for (let i = 0; ; i++) {
          const id = `w${w}-${i}`;
          try {
            acked.set((await client.publish(containerCreate(id))).sequence, id);
          } catch {
            failures++;
            return;
          }
        }
      });
      await eventually(() => acked.size >= 200, "200 events are acknowledged");
      await events.stop("SIGKILL");
      await Promise.all(workers);
      assert.equal(failures, 8, "every publisher saw the component die");

      await events.start();
      const reopened = events.client();
      const { latestSequence } = await reopened.getStatus({});
      assert.ok(latestSequence >= base + BigInt(acked.size), "every acknowledged event is in the log");
      const reader = subscribe(reopened, { start: StartPosition.AFTER_SEQUENCE, afterSequence: base });
      assert.equal(await reader.progress(), base);
      const replayed = await reader.events(Number(latestSequence - base));
      assert.deepEqual(sequences(replayed), range(base + 1n, latestSequence), "the log has no gap");
      for (const [sequence, id] of acked) assert.equal(containerId(replayed[Number(sequence - base) - 1]!), id);
    });

    it("ends open streams with UNAVAILABLE on SIGTERM, exits 0, and the subscriber resumes after a restart", async () => {
      const client = events.client();
      const base = (await client.getStatus({})).latestSequence;
      for (let i = 0; i < 5; i++) await client.publish(containerCreate(`t${i}`));
      const reader = subscribe(events.client(), { start: StartPosition.AFTER_SEQUENCE, afterSequence: base });
      await reader.progress();
      await reader.events(5);
      const exit = events.process!.exited;
      const stopped = events.stop("SIGTERM");
      assert.equal((await rejection(reader.next())).code, Code.Unavailable);
      await stopped;
      assert.deepEqual(await exit, { code: 0, signal: null });

      await events.start();
      const again = events.client();
      await again.publish(containerCreate("t5"));
      const resumed = subscribe(again, { start: StartPosition.AFTER_SEQUENCE, afterSequence: reader.lastResume });
      assert.equal(await resumed.progress(), base + 5n);
      const [next] = await resumed.events(1);
      assert.equal(containerId(next!), "t5");
    });
  });

  describe("slow subscribers", () => {
    it("cuts off a subscriber that stops reading with RESOURCE_EXHAUSTED, while a fast one gets everything and publishers keep going", async () => {
      const events = await running({ subscriberBufferEvents: 64 });
      assert.equal((await events.client().getStatus({})).subscriberBufferEvents, 64);
      const slow = subscribe(events.client(), { start: StartPosition.NOW });
      assert.equal(await slow.progress(), 0n);
      const fast = subscribe(events.client(), { start: StartPosition.NOW });
      assert.equal(await fast.progress(), 0n);

      // HTTP/2 flow control lets the server send some 64 KiB to a stream nobody reads (about
      // 200 of these events) before the subscription's own buffer starts to fill: 600 overflow both.
      const total = 600;
      const padding = "p".repeat(300);
      const fastReceived = fast.events(total, 30_000);
      const workers = 16;
      const started = Date.now();
      const acks = await Promise.all(
        Array.from({ length: workers }, async (_, w) => {
          const client = events.client();
          const sequences: bigint[] = [];
          for (let i = w; i < total; i += workers) sequences.push((await client.publish(containerCreate(`s${i}:${padding}`))).sequence);
          return sequences;
        }),
      );
      assert.equal(acks.flat().length, total, "every publish was acknowledged while the slow subscriber read nothing");
      const publishMs = Date.now() - started;
      assert.deepEqual(sequences(await fastReceived), range(1n, BigInt(total)), "the fast subscriber got every event in order");

      // The slow subscriber reads again: what transport buffers held, in order, then the cut-off.
      const before: bigint[] = [];
      let error: ConnectError | undefined;
      for (;;) {
        try {
          const message = await slow.next();
          if (message.envelope !== undefined) before.push(message.envelope.sequence);
        } catch (e) {
          error = ConnectError.from(e);
          break;
        }
      }
      assert.ok(error !== undefined);
      assert.equal(error.code, Code.ResourceExhausted, error.message);
      assert.ok(before.length < total - 64, `the stream was cut off before the end (${before.length} events sent)`);
      assert.deepEqual(before, range(1n, BigInt(before.length)));

      // It resumes from its last position and gets the rest, exactly.
      const resumed = subscribe(events.client(), { start: StartPosition.AFTER_SEQUENCE, afterSequence: slow.lastResume });
      assert.equal(await resumed.progress(), BigInt(before.length));
      const rest = await resumed.events(total - before.length);
      assert.deepEqual(sequences(rest), range(BigInt(before.length) + 1n, BigInt(total)));
      assert.ok(publishMs < 20_000, `publishing was not held up by the slow subscriber (${publishMs} ms)`);
    });
  });

  describe("retention", () => {
    let events: EventsComponent;
    let client: EventsClient;
    before(async () => {
      events = await running({ retention: { maxEvents: 10 } });
      client = events.client();
    });

    it("keeps the newest maxEvents: after 25 events oldest is 16 and latest 25, and resuming is bounded by them", async () => {
      for (let i = 1; i <= 25; i++) await client.publish(containerCreate(`e${i}`));
      const status = await client.getStatus({});
      assert.deepEqual([status.oldestSequence, status.latestSequence, status.retainedEvents], [16n, 25n, 10n]);
      assert.equal(status.retention?.maxEvents, 10n);

      const tooOld = await rejection(subscribe(client, { start: StartPosition.AFTER_SEQUENCE, afterSequence: 14n }).next());
      assert.equal(tooOld.code, Code.OutOfRange);
      assert.match(tooOld.rawMessage, /\b16\b/, `the message names the oldest retained sequence: ${tooOld.rawMessage}`);
      const zero = await rejection(subscribe(client, { start: StartPosition.AFTER_SEQUENCE, afterSequence: 0n }).next());
      assert.equal(zero.code, Code.OutOfRange);

      const fromEdge = subscribe(client, { start: StartPosition.AFTER_SEQUENCE, afterSequence: 15n });
      assert.equal(await fromEdge.progress(), 15n);
      const replayed = await fromEdge.events(10);
      assert.deepEqual(sequences(replayed), range(16n, 25n));
      assert.equal(containerId(replayed[0]!), "e16");

      const oldest = subscribe(client, { start: StartPosition.OLDEST });
      assert.equal(await oldest.progress(), 15n, "OLDEST starts after the oldest retained sequence minus one");
      assert.equal((await oldest.events(1))[0]!.sequence, 16n);

      assert.equal(await subscribe(client, { start: StartPosition.AFTER_SEQUENCE, afterSequence: 25n }).progress(), 25n);
      const pastLatest = await rejection(subscribe(client, { start: StartPosition.AFTER_SEQUENCE, afterSequence: 26n }).next());
      assert.equal(pastLatest.code, Code.OutOfRange);
      assert.match(pastLatest.rawMessage, /\b25\b/, `the message names the latest sequence: ${pastLatest.rawMessage}`);
    });

    it("counts retained_bytes as the sum of the serialized Envelope sizes", async () => {
      const status = await client.getStatus({});
      const reader = subscribe(client, { start: StartPosition.OLDEST });
      await reader.progress();
      const retained = await reader.events(Number(status.retainedEvents));
      const serialized = retained.reduce((sum, envelope) => sum + toBinary(EnvelopeSchema, envelope).byteLength, 0);
      assert.equal(status.retainedBytes, BigInt(serialized));
    });

    it(
      "remembers a publish_id after retention dropped its event, without failing the other publishes committed with it",
      async () => {
        const first = await client.publish(containerCreate("kept-id", { publishId: "dropped-1" }));
        for (let i = 0; i < 12; i++) await client.publish(containerCreate(`push${i}`));
        assert.ok((await client.getStatus({})).oldestSequence > first.sequence, "the first event was dropped by retention");
        const latest = (await client.getStatus({})).latestSequence;
        const [before, repeat, after] = await Promise.allSettled([
          client.publish(containerCreate("neighbour-1")),
          client.publish(containerCreate("kept-id", { publishId: "dropped-1" })),
          client.publish(containerCreate("neighbour-2")),
        ]);
        assert.equal(before.status, "fulfilled", "a publish committed with the repeat is not failed by it");
        assert.equal(after.status, "fulfilled", "a publish committed with the repeat is not failed by it");
        assert.equal(repeat.status, "fulfilled", "the repeat is answered");
        assert.deepEqual([repeat.value.duplicate, repeat.value.sequence, repeat.value.timestamp], [true, first.sequence, first.timestamp]);
        const status = await client.getStatus({});
        assert.equal(status.latestSequence, latest + 2n);
        assert.equal(status.retainedEvents, 10n, "the retained count did not drift");
      },
    );
  });

  describe("Reload", () => {
    /** The whole configuration the component was started with, as its manifest would give it. */
    function configOf(events: EventsComponent): JsonObject {
      const place = events.target.backend === "sqlite" ? { database: events.database } : events.target;
      return { ...place, ...events.config } as JsonObject;
    }

    it("applies new retention to the log and a new subscriber bound, checks without applying on validate_only, and refuses an invalid one naming the field", async () => {
      const events = await running({ retention: { maxEvents: 20 } });
      const client = events.client();
      const component = events.dial().client(ComponentService);
      for (let i = 0; i < 12; i++) await client.publish(containerCreate(`r${i}`));
      const smaller = { ...configOf(events), retention: { maxEvents: 5 }, subscriberBufferEvents: 16 };

      const checked = await component.reload({ config: smaller, validateOnly: true });
      const unchanged = await client.getStatus({});
      assert.deepEqual([unchanged.retention?.maxEvents, unchanged.retainedEvents, unchanged.subscriberBufferEvents], [20n, 12n, 1024], "validate_only applies nothing");

      const applied = await component.reload({ config: smaller });
      assert.equal(applied.configGeneration, checked.configGeneration + 1n);
      await client.publish(containerCreate("after-reload"));
      const status = await client.getStatus({});
      assert.deepEqual(
        [status.retention?.maxEvents, status.retainedEvents, status.oldestSequence, status.latestSequence, status.subscriberBufferEvents],
        [5n, 5n, 9n, 13n, 16],
        "the log keeps the newest 5, and the new bound is in force",
      );
      const tooOld = await rejection(subscribe(client, { start: StartPosition.AFTER_SEQUENCE, afterSequence: 7n }).next());
      assert.equal(tooOld.code, Code.OutOfRange, tooOld.message);

      await invalidArgument(component.reload({ config: { ...smaller, retention: { maxEvents: -1 } } }), "config.retention.maxEvents");
      assert.equal((await client.getStatus({})).retention?.maxEvents, 5n, "a refused reload changes nothing");
    });

    /** config without setting. */
    const without = (config: JsonObject, setting: string): JsonObject => Object.fromEntries(Object.entries(config).filter(([key]) => key !== setting));

    it("refuses with FAILED_PRECONDITION a new backend or place of the log, naming the setting, and keeps serving the old one", async () => {
      const events = await running();
      const client = events.client();
      const component = events.dial().client(ComponentService);
      const config = configOf(events);
      const stored = await client.publish(containerCreate("before"));
      const changes: [string, JsonObject][] =
        events.target.backend === "sqlite"
          ? [
              ["config.backend", { ...without(config, "database"), backend: "nats", nats: { servers: ["127.0.0.1:4222"], stream: "ELSEWHERE", replicas: 1 } }],
              ["config.database", { ...config, database: join(scratch.dir, "elsewhere.db") }],
            ]
          : [
              ["config.backend", { ...without(config, "nats"), backend: "sqlite" }],
              ["config.nats", { ...config, nats: { ...events.target.nats, stream: "ELSEWHERE" } }],
              ["config.nats", { ...config, nats: { ...events.target.nats, replicas: 1 } }],
            ];
      for (const [setting, changed] of changes) {
        for (const validateOnly of [true, false]) {
          const error = await rejection(component.reload({ config: changed, validateOnly }));
          assert.equal(error.code, Code.FailedPrecondition, `${setting}: ${error.message}`);
          assert.ok(error.rawMessage.startsWith(`${setting} changes only with a restart`), error.rawMessage);
        }
      }
      const next = await client.publish(containerCreate("after"));
      assert.equal(next.sequence, stored.sequence + 1n, "the same log goes on");
    });
  });

  if (backend.name === "nats") {
    describe("the stream's replicas", () => {
      /** The stream's info, read on a connection of its own. */
      async function streamInfo(servers: string[], stream: string): Promise<StreamInfo> {
        const nc = await connect({ servers, timeout: 2000, maxReconnectAttempts: 0 });
        try {
          return await (await jetstreamManager(nc, { timeout: 5000 })).streams.info(stream);
        } finally {
          await nc.close();
        }
      }

      it("moves a stream kept with 1 replica to the 3 that config.nats.replicas asks for on the next start, keeping its events", async () => {
        const replicated = component();
        const target = replicated.target as Extract<EventsLogTarget, { backend: "nats" }>;
        const single = new EventsComponent(join(scratch.dir, `${backend.name}-single`), {}, { backend: "nats", nats: { ...target.nats, replicas: 1 } });
        started.push(single);
        await single.start();
        const kept = await single.client().publish(containerCreate("with-one-replica"));
        const before = await streamInfo(target.nats.servers, target.nats.stream);
        assert.deepEqual([before.config.num_replicas, before.cluster?.replicas ?? []], [1, []]);
        await single.stop();

        await replicated.start();
        const info = await streamInfo(target.nats.servers, target.nats.stream);
        assert.equal(info.config.num_replicas, 3, "the start moved the stream to 3 replicas");
        assert.equal((await streamInfo(target.nats.servers, `${target.nats.stream}_IDS`)).config.num_replicas, 3, "and its publish id stream");
        const client = replicated.client();
        // The stream takes a moment to elect its leader among three: a publisher retries with its publish id meanwhile.
        let next: PublishResponse | undefined;
        for (let attempt = 0; next === undefined; attempt++) {
          try {
            next = await client.publish(containerCreate("with-three-replicas", { publishId: "three" }));
          } catch (error) {
            if (ConnectError.from(error).code !== Code.Unavailable || attempt === 100) throw error;
            await sleep(200);
          }
        }
        assert.equal(next.sequence, kept.sequence + 1n);
        const reader = subscribe(client, { start: StartPosition.OLDEST });
        await reader.progress();
        assert.deepEqual((await reader.events(2)).map(containerId), ["with-one-replica", "with-three-replicas"]);
        // Both new replicas catch up with the leader.
        let current = info;
        for (const deadline = Date.now() + 30_000; (current.cluster?.replicas ?? []).filter((replica) => replica.current).length < 2; ) {
          assert.ok(Date.now() < deadline, `the stream has 2 current replicas besides its leader: ${JSON.stringify(current.cluster)}`);
          await sleep(100);
          current = await streamInfo(target.nats.servers, target.nats.stream);
        }
      });
    });
  }

  describe("the SDK EventPublisher", () => {
    function publisher(events: EventsComponent, queueLimit?: number): EventPublisher {
      const created = new EventPublisher({ source: "container-store", locate: () => events.socketPath, ...(queueLimit === undefined ? {} : { queueLimit }) });
      publishers.push(created);
      return created;
    }
    const publishCreate = (p: EventPublisher, id: string) => p.publish(ContainerCreateSchema, create(ContainerCreateSchema, { id }));

    it("queues events while the events component is down and delivers them once, in order, when it comes up; and through a kill -9 mid-stream", async () => {
      const events = component();
      const sdk = publisher(events);
      for (let i = 0; i < 20; i++) publishCreate(sdk, `down-${i}`);
      assert.equal(sdk.getStats().queued, 20, "publish returns at once and queues");
      assert.equal(await sdk.flush(300), false, "nothing can be sent while the component is down");
      assert.deepEqual(sdk.getStats(), { sent: 0, dropped: 0, rejected: 0, queued: 20 });

      await events.start();
      assert.equal(await sdk.flush(20_000), true);
      assert.deepEqual(sdk.getStats(), { sent: 20, dropped: 0, rejected: 0, queued: 0 });

      // Restart mid-stream: kill -9 while the publisher is sending, then start again.
      for (let i = 0; i < 200; i++) publishCreate(sdk, `mid-${i}`);
      await eventually(() => sdk.getStats().sent >= 60, "the publisher sent part of the stream");
      await events.stop("SIGKILL");
      const queuedWhileDown = sdk.getStats().queued;
      assert.ok(queuedWhileDown > 0, "events are still queued when the component dies");
      await sleep(200);
      await events.start();
      assert.equal(await sdk.flush(20_000), true);
      assert.equal(sdk.getStats().queued, 0);
      assert.equal(sdk.getStats().dropped, 0);
      assert.equal(sdk.getStats().rejected, 0);

      const client = events.client();
      const expected = [...Array.from({ length: 20 }, (_, i) => `down-${i}`), ...Array.from({ length: 200 }, (_, i) => `mid-${i}`)];
      assert.equal((await client.getStatus({})).latestSequence, BigInt(expected.length), "each event was recorded once");
      const reader = subscribe(client, { start: StartPosition.OLDEST });
      await reader.progress();
      const received = await reader.events(expected.length);
      assert.deepEqual(received.map(containerId), expected, "every event once, in the order published");
      assert.ok(received.every((e) => e.source === "container-store" && e.topic === "/containers/create"));
    });

    it("refuses a payload message that declares no topic, naming it, and queues nothing", () => {
      const sdk = publisher(component());
      assert.throws(() => sdk.publish(PublishRequestSchema, create(PublishRequestSchema)), /^Error: moby\.events\.v1\.PublishRequest declares no event topic: add option \(moby\.events\.v1\.topic\)/);
      assert.equal(sdk.getStats().queued, 0);
    });

    it("drops the oldest events past its queue limit and counts them", async () => {
      const events = component();
      const sdk = publisher(events, 5);
      for (let i = 0; i < 12; i++) publishCreate(sdk, `q${i}`);
      assert.deepEqual(sdk.getStats(), { sent: 0, dropped: 7, rejected: 0, queued: 5 });
      await events.start();
      assert.equal(await sdk.flush(20_000), true);
      const reader = subscribe(events.client(), { start: StartPosition.OLDEST });
      await reader.progress();
      // q0 is the event being sent (retried while events is down), so the next oldest are dropped.
      assert.deepEqual((await reader.events(5)).map(containerId), ["q0", "q8", "q9", "q10", "q11"]);
    });
  });
}
