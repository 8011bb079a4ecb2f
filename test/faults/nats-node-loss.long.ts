// The events component on a real three-server JetStream cluster (replicas 3)
// when servers die. kill -9 of the stream's leader under a write load: every
// acknowledged publish is in the log at the sequence it was given, each once
// (publishers retry with their publish id), and reaches a live subscriber; the
// component stays SERVING or reports NOT_SERVING while it cannot write, then
// serves again by itself. A
// replay whose servers stop answering (SIGSTOP) ends with UNAVAILABLE instead of
// waiting for ever, and its subscriber resumes after its last event; a live
// subscriber gets the events published after the servers answer again. All
// servers down: Publish, Subscribe and GetStatus answer UNAVAILABLE saying so,
// health is NOT_SERVING with the reason, and everything comes back when the
// servers do. Every process started is ended by pid, even on failure.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code } from "@moby-core/sdk";
import { ComponentService } from "@moby-core/component-api/v1";
import { Health as HealthService, HealthCheckResponse_ServingStatus } from "@moby-core/grpc-health-api/v1";
import { EventsService, StartPosition } from "@moby-core/events-api/v1";
import { scratchDirectory } from "../support/component-process.js";
import { EventsComponent, SubscriptionReader, containerCreate, containerId, sleep } from "../support/events-component.js";
import { NatsCluster } from "../support/nats-cluster.js";
import { teardown } from "../support/teardown.js";
import { rejection } from "../support/rejection.js";

const STREAM = "FAULTS";
const SERVICE = EventsService.typeName;
const WRITERS = 6;

const scratch = scratchDirectory("moby-nats-faults-");
const cluster = new NatsCluster(join(scratch.dir, "nats"), 3);
let events: EventsComponent;
let healthClient: ReturnType<typeof healthOf>;

/** A grpc.health.v1 client of the component, on a connection of its own. */
function healthOf(component: EventsComponent) {
  return component.dial().client(HealthService);
}

/** Polls until check resolves true, failing after timeoutMs. */
async function eventually(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

/** The health of EventsService, as grpc.health.v1 reports it. */
async function health(): Promise<HealthCheckResponse_ServingStatus> {
  return (await healthClient.check({ service: SERVICE })).status;
}

/** Every event of the log, replayed from the oldest; a stream ended with UNAVAILABLE (the cluster still settling) is read again. */
async function replayAll(): Promise<{ ids: string[]; sequences: bigint[] }> {
  for (let attempt = 1; ; attempt++) {
    const client = events.client();
    const reader = new SubscriptionReader(client, { start: StartPosition.OLDEST });
    try {
      const { latestSequence } = await client.getStatus({});
      assert.equal(await reader.progress(), 0n);
      const replayed = await reader.events(Number(latestSequence), 30_000);
      return { ids: replayed.map(containerId), sequences: replayed.map((e) => e.sequence) };
    } catch (error) {
      if ((error as { code?: Code }).code !== Code.Unavailable || attempt === 5) throw error;
      await sleep(500);
    } finally {
      reader.close();
    }
  }
}

/** Runs call again, pauseMs after each failure with UNAVAILABLE (the cluster still settling after servers came back), for at most timeoutMs. */
async function whileUnavailable<T>(call: () => Promise<T>, timeoutMs = 60_000, pauseMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if ((error as { code?: Code }).code !== Code.Unavailable || Date.now() > deadline) throw error;
      await sleep(pauseMs);
    }
  }
}

/** Publishes id with its publish id until it is acknowledged, as a publisher does across UNAVAILABLE; fails after timeoutMs. */
async function publishUntilAcknowledged(client: ReturnType<EventsComponent["client"]>, id: string, timeoutMs = 60_000): Promise<bigint> {
  return whileUnavailable(async () => (await client.publish(containerCreate(id, { publishId: id }))).sequence, timeoutMs, 100);
}

describe("events on JetStream when NATS servers die", () => {
  before(async () => {
    await cluster.start();
    events = new EventsComponent(join(scratch.dir, "events"), {}, { backend: "nats", nats: { servers: cluster.servers, stream: STREAM, replicas: 3 } });
    await events.start();
    healthClient = healthOf(events);
  });
  after(() =>
    teardown([
      ["the events component", () => events?.close()],
      ["the NATS cluster", () => cluster.stop()],
      ["the scratch directory", () => scratch.remove()],
    ]),
  );

  it("loses no acknowledged publish when the stream's leader is killed under load, and serves again by itself", { timeout: 180_000 }, async () => {
    const acknowledged = new Map<string, bigint>();
    const healthSeen = new Set<HealthCheckResponse_ServingStatus>();
    let failures = 0;
    let writing = true;
    // A live subscriber from before the first publish: the component's tail must hand it every acknowledged event.
    const live = await whileUnavailable(async () => {
      const reader = new SubscriptionReader(events.client(), { start: StartPosition.NOW });
      await reader.progress();
      return reader;
    });
    const liveIds = new Set<string>();
    const liveLoop = (async () => {
      for (;;) {
        const message = await live.next(120_000);
        if (message.envelope !== undefined) liveIds.add(containerId(message.envelope));
      }
    })();
    liveLoop.catch(() => {});
    // Each writer publishes one event after the other, retrying a failed one with its publish id until it is acknowledged.
    const writers = Array.from({ length: WRITERS }, async (_, w) => {
      const client = events.client({ retry: false });
      for (let i = 0; writing; i++) {
        const id = `w${w}-${i}`;
        for (;;) {
          try {
            acknowledged.set(id, (await client.publish(containerCreate(id, { publishId: id }))).sequence);
            break;
          } catch (error) {
            assert.equal((error as { code?: Code }).code, Code.Unavailable, `a publish fails only with UNAVAILABLE: ${String(error)}`);
            failures++;
            await sleep(100);
          }
        }
      }
    });
    let killed: number | undefined;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        healthSeen.add(await health());
        await sleep(50);
      }
    })();
    try {
      await eventually(() => acknowledged.size >= 300, "300 events are acknowledged");
      const leader = await cluster.leaderOf(STREAM);
      killed = leader;
      await cluster.killNode(leader);
      const atKill = acknowledged.size;
      await eventually(() => acknowledged.size >= atKill + 300, "300 more events are acknowledged after the kill");
      await eventually(async () => (await health()) === HealthCheckResponse_ServingStatus.SERVING, "EventsService serves again");
      writing = false;
      await Promise.all(writers);
      console.log(`# leader n${leader + 1} killed after ${atKill} acks; ${acknowledged.size} acknowledged, ${failures} publishes failed and were retried`);

      const { ids, sequences } = await replayAll();
      assert.equal(new Set(ids).size, ids.length, "every publish id is in the log once");
      const logged = new Map(ids.map((id, i) => [id, sequences[i]!]));
      for (const [id, sequence] of acknowledged) assert.equal(logged.get(id), sequence, `${id} is in the log at the sequence its publish returned`);
      assert.equal(ids.length, acknowledged.size, "nothing but the acknowledged events");
      await eventually(() => liveIds.size >= acknowledged.size, `the live subscriber got every acknowledged event (${liveIds.size} of ${acknowledged.size})`, 30_000);
      for (const id of acknowledged.keys()) assert.ok(liveIds.has(id), `the live subscriber got ${id}`);
      for (const status of healthSeen) {
        assert.ok([HealthCheckResponse_ServingStatus.SERVING, HealthCheckResponse_ServingStatus.NOT_SERVING].includes(status), `health was ${status}`);
      }
    } finally {
      writing = false;
      watching = false;
      live.close();
      await Promise.allSettled([...writers, watcher, liveLoop]);
      // Back for the next cases, also when this one failed.
      if (killed !== undefined) {
        cluster.startNode(killed);
        await cluster.waitUntilReady();
      }
    }
  });

  it("ends a replay whose servers stop answering with UNAVAILABLE, and its subscriber resumes after its last event", { timeout: 180_000 }, async () => {
    const client = events.client();
    // More events than the replay's consumer holds ahead of its subscriber (a page of 512 and the next), so the replay must wait for the servers.
    const target = 4000;
    let next = Number((await whileUnavailable(() => client.getStatus({}))).latestSequence);
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < target) await publishUntilAcknowledged(client, `fill-${next++}`);
      }),
    );
    const { latestSequence } = await whileUnavailable(() => client.getStatus({}));
    const read: bigint[] = [];
    const first = await whileUnavailable(async () => {
      const reader = new SubscriptionReader(client, { start: StartPosition.OLDEST });
      try {
        await reader.progress();
        read.push(...(await reader.events(1)).map((e) => e.sequence));
        return reader;
      } catch (error) {
        reader.close();
        throw error;
      }
    });
    try {
      cluster.pause(true);
      let ended: unknown;
      while (ended === undefined) {
        try {
          const message = await first.next(60_000);
          if (message.envelope !== undefined) read.push(message.envelope.sequence);
        } catch (error) {
          ended = error;
        }
      }
      assert.equal((ended as { code?: Code }).code, Code.Unavailable, `the replay ends with UNAVAILABLE: ${String(ended)}`);
      assert.match((ended as { rawMessage?: string }).rawMessage ?? "", /^cannot read the JetStream stream FAULTS: /);
      assert.ok(BigInt(read.length) < latestSequence, `the replay stopped before the end (${read.length} of ${latestSequence} read)`);
    } finally {
      first.close();
      cluster.pause(false);
    }
    await cluster.waitUntilReady();
    // Resumed after the last event read, again after each UNAVAILABLE while the cluster settles.
    await whileUnavailable(async () => {
      const resumed = new SubscriptionReader(client, { start: StartPosition.AFTER_SEQUENCE, afterSequence: read.at(-1)! });
      try {
        await resumed.progress();
        while (BigInt(read.length) < latestSequence) read.push(...(await resumed.events(1, 30_000)).map((e) => e.sequence));
      } finally {
        resumed.close();
      }
    });
    assert.deepEqual(read, Array.from({ length: read.length }, (_, i) => BigInt(i + 1)), "every event once, in order, across the resume");
  });

  it("keeps a live subscriber's stream going when the servers stop answering for a while and come back", { timeout: 180_000 }, async () => {
    const client = events.client();
    const live = await whileUnavailable(async () => {
      const reader = new SubscriptionReader(client, { start: StartPosition.NOW });
      await reader.progress();
      return reader;
    });
    try {
      await publishUntilAcknowledged(client, "before-pause");
      assert.equal(containerId((await live.events(1, 30_000))[0]!), "before-pause");
      // Longer than the consumers' missed heartbeats and the connection's missed pings.
      cluster.pause(true);
      await sleep(15_000);
      cluster.pause(false);
      await cluster.waitUntilReady();
      const sequence = await publishUntilAcknowledged(client, "after-pause");
      const [event] = await live.events(1, 30_000);
      assert.equal(containerId(event!), "after-pause");
      assert.equal(event!.sequence, sequence);
    } finally {
      cluster.pause(false);
      live.close();
    }
  });

  it("answers UNAVAILABLE saying no NATS server is reachable while all are down, and serves again when they return", { timeout: 180_000 }, async () => {
    const client = events.client({ retry: false });
    const before = await client.getStatus({});
    await cluster.stop();

    await eventually(async () => (await health()) === HealthCheckResponse_ServingStatus.NOT_SERVING, "EventsService reports NOT_SERVING");
    const info = (await events.dial().client(ComponentService).getInfo({})).info!;
    const reason = info.services.find((s) => s.name === SERVICE)?.notServingReason ?? "";
    assert.match(reason, /NATS/, `the reason names NATS: ${reason}`);
    const refused = await rejection(client.publish(containerCreate("while-down", { publishId: "while-down" })));
    assert.equal(refused.code, Code.Unavailable);
    assert.match(refused.rawMessage, /^cannot write to the JetStream stream FAULTS: no NATS server is reachable/, refused.rawMessage);
    assert.equal((await rejection(client.getStatus({}))).code, Code.Unavailable);
    const subscriber = new SubscriptionReader(client, { start: StartPosition.NOW });
    assert.equal((await rejection(subscriber.next())).code, Code.Unavailable);
    subscriber.close();

    for (let i = 0; i < 3; i++) cluster.startNode(i);
    await cluster.waitUntilReady();
    await eventually(async () => (await health()) === HealthCheckResponse_ServingStatus.SERVING, "EventsService serves again");
    const again = await publishUntilAcknowledged(client, "while-down");
    assert.ok(again > before.latestSequence);
    const { ids } = await replayAll();
    assert.equal(ids.length, Number(again), "the log kept every event across the outage");
    assert.equal(ids.at(-1), "while-down");
  });
});
