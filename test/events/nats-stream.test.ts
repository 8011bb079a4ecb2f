// The events component's JetStream stream on one real nats-server, where the
// stream and the component disagree. A component cut off from NATS (a TCP
// relay between them, cut) while another component on the same stream
// publishes past maxEvents: its live subscribers are ended with
// RESOURCE_EXHAUSTED naming the first lost sequence, never handed the events
// after the gap as if nothing was missing; a resume then gets OUT_OF_RANGE
// naming the oldest kept, and new subscribers follow the stream again. A
// stream kept with 1 replica that config.nats.replicas asks to be 3: a single
// server refuses, and the component does not start, saying which stream and
// both counts (the cluster case, where the stream is moved to 3 replicas, is
// in events.test.ts). Every process started is ended by pid, even on failure.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { Code, ConnectError } from "@moby-core/sdk";
import { Health as HealthService, HealthCheckResponse_ServingStatus } from "@moby-core/grpc-health-api/v1";
import { EventsService, StartPosition } from "@moby-core/events-api/v1";
import { scratchDirectory } from "../support/component-process.js";
import { EventsComponent, SubscriptionReader, containerCreate, containerId, sleep } from "../support/events-component.js";
import type { EventsClient } from "../support/events-component.js";
import { NatsCluster } from "../support/nats-cluster.js";
import { rejection } from "../support/rejection.js";
import { TcpRelay } from "../support/tcp-relay.js";
import { teardown } from "../support/teardown.js";

const scratch = scratchDirectory("moby-nats-stream-");
const server = new NatsCluster(join(scratch.dir, "nats"), 1);
const components: EventsComponent[] = [];
const relays: TcpRelay[] = [];
const readers: SubscriptionReader[] = [];

/** An events component on stream through servers (not started), killed after the suite. */
function component(name: string, stream: string, servers: string[], replicas = 1, maxEvents = 0): EventsComponent {
  const events = new EventsComponent(join(scratch.dir, name), maxEvents > 0 ? { retention: { maxEvents } } : {}, { backend: "nats", nats: { servers, stream, replicas } });
  components.push(events);
  return events;
}

/** A Subscribe stream, cancelled after the test. */
function subscribe(client: EventsClient, request: ConstructorParameters<typeof SubscriptionReader>[1]): SubscriptionReader {
  const reader = new SubscriptionReader(client, request);
  readers.push(reader);
  return reader;
}

/** Polls until check resolves true, failing after timeoutMs. */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

describe("the events component's JetStream stream against what its config asks", () => {
  before(() => server.start());
  afterEach(() => {
    readers.splice(0).forEach((r) => r.close());
  });
  after(() =>
    teardown([
      ["the events components", () => Promise.all(components.splice(0).map((c) => c.close()))],
      ["the relays", () => Promise.all(relays.splice(0).map((r) => r.close()))],
      ["the NATS server", () => server.stop()],
      ["the scratch directory", () => scratch.remove()],
    ]),
  );

  it("ends the live subscribers of a component cut off from NATS while retention dropped what it had not read, naming the first lost sequence", { timeout: 120_000 }, async () => {
    const relay = new TcpRelay(server.servers[0]!);
    relays.push(relay);
    await relay.start();
    const maxEvents = 10;
    const cutOff = component("cut-off", "GAPS", [relay.address], 1, maxEvents);
    const publisher = component("publisher", "GAPS", server.servers, 1, maxEvents);
    await cutOff.start();
    await publisher.start();
    const publish = publisher.client();
    const health = cutOff.dial().client(HealthService);

    const live = subscribe(cutOff.client(), { start: StartPosition.NOW });
    assert.equal(await live.progress(), 0n);
    const elsewhere = subscribe(publish, { start: StartPosition.NOW });
    assert.equal(await elsewhere.progress(), 0n);
    for (let i = 1; i <= 3; i++) await publish.publish(containerCreate(`before-${i}`));
    assert.deepEqual((await live.events(3)).map(containerId), ["before-1", "before-2", "before-3"]);

    // Cut off: the component knows it (NOT_SERVING) while the other publishes three times maxEvents.
    relay.cut();
    await eventually(async () => (await health.check({ service: EventsService.typeName })).status === HealthCheckResponse_ServingStatus.NOT_SERVING, "the cut-off component reports NOT_SERVING");
    for (let i = 1; i <= 3 * maxEvents; i++) await publish.publish(containerCreate(`while-cut-${i}`));
    const { oldestSequence, latestSequence } = await publish.getStatus({});
    assert.deepEqual([oldestSequence, latestSequence], [24n, 33n], "retention kept the newest 10 of 33");

    // Back: the tail starts after 3, JetStream starts it at 24; the subscriber is ended, not handed 24 as the next event.
    relay.restore();
    const received: bigint[] = [];
    let ended: ConnectError | undefined;
    while (ended === undefined) {
      try {
        const message = await live.next(30_000);
        if (message.envelope !== undefined) received.push(message.envelope.sequence);
      } catch (error) {
        ended = ConnectError.from(error);
      }
    }
    assert.deepEqual(received, [], "no event after the gap was sent as if nothing was missing");
    assert.equal(ended.code, Code.ResourceExhausted, ended.message);
    assert.match(ended.rawMessage, /the events at sequences 4 to 23 were dropped by retention .*the first lost sequence is 4; resume after sequence 3$/);
    assert.equal(live.lastResume, 3n);

    // Its resume is refused as the contract says, naming the oldest kept; a new subscriber follows the stream.
    const resumed = await rejection(subscribe(cutOff.client(), { start: StartPosition.AFTER_SEQUENCE, afterSequence: live.lastResume }).next());
    assert.equal(resumed.code, Code.OutOfRange, resumed.message);
    assert.match(resumed.rawMessage, /\b24\b/);
    await eventually(async () => (await health.check({ service: EventsService.typeName })).status === HealthCheckResponse_ServingStatus.SERVING, "the component serves again");
    const after = subscribe(cutOff.client(), { start: StartPosition.NOW });
    assert.equal(await after.progress(), 33n);
    await publish.publish(containerCreate("after"));
    const [next] = await after.events(1);
    assert.deepEqual([next!.sequence, containerId(next!)], [34n, "after"]);

    // The subscriber of the component that was never cut off got everything, in order.
    const all = await elsewhere.events(34);
    assert.deepEqual(
      all.map((e) => e.sequence),
      Array.from({ length: 34 }, (_, i) => BigInt(i + 1)),
    );
  });

  it("refuses to start when config.nats.replicas asks a single server for 3 replicas of a stream it keeps with 1, naming the stream and both", { timeout: 60_000 }, async () => {
    const first = component("replicas-1", "REPLICAS", server.servers, 1);
    await first.start();
    await first.stop();
    const more = component("replicas-3", "REPLICAS", server.servers, 3);
    const error = await rejection(more.start());
    assert.match(error.message, /cannot open the JetStream stream REPLICAS: the stream REPLICAS has 1 replica and config\.nats\.replicas asks for 3, which its NATS server cannot keep: it is not in a cluster\n/);
    // The stream is left as it was, and a component asking for what it is starts.
    const again = component("replicas-1-again", "REPLICAS", server.servers, 1);
    await again.start();
  });
});
