// Regular expressions that make a backtracking engine run for ever, in the
// filters of real container-store and events processes: `^(a+)+$` against a
// 42-character id and a 4,000-character label in ListContainers,
// StreamContainers and WatchContainers, and `^/(a+)+$` in a Subscribe while
// a 43-character topic is published, live and replayed after a restart.
// With JavaScript's RegExp each of these froze the component (2^40 steps);
// the filters now match in linear time. Each call carries a 10 s deadline,
// a guard against the freeze, not a claim about time. After each case a new
// client must get SERVING, and open files and memory must be back within a
// stated bound; each case prints its figures (peak fds, peak RSS, time).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { dialSocket } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { ContainerSchema, ContainerStoreService } from "@moby-core/container-store-api/v1";
import { OciSpecSchema } from "@moby-core/container-runtime-api/v1";
import { EventsService, StartPosition } from "@moby-core/events-api/v1";
import { ComponentProcess, scratchDirectory } from "../support/component-process.js";
import { EventsComponent, SubscriptionReader, containerCreate } from "../support/events-component.js";
import { Figures, assertServing, within } from "../support/fault-probe.js";

/** A hang guard for each call. */
const DEADLINE = { timeoutMs: 10_000 };
/** An id the pattern nearly matches: 40 "a", then a character it cannot take. */
const EVIL_ID = `${"a".repeat(40)}-b`;
const SPEC = anyPack(OciSpecSchema, create(OciSpecSchema, { json: new TextEncoder().encode('{"ociVersion":"1.1.0"}') }));

describe("faults: ReDoS patterns in filters", () => {
  const scratch = scratchDirectory("moby-faults-");
  const storeSocket = join(scratch.dir, "cs.sock");
  let store: ComponentProcess;
  const events = new EventsComponent(join(scratch.dir, "events"));
  const connections: Connection[] = [];

  before(async () => {
    store = new ComponentProcess("packages/container-store/bin/moby-container-store.js", {
      MOBY_SOCKET: storeSocket,
      MOBY_COMPONENT_NAME: "container-store",
      MOBY_LOG_LEVEL: "warn",
      MOBY_REGISTRY_ENDPOINT: "",
      MOBY_ENDPOINT_EVENTS: join(scratch.dir, "no-events.sock"),
      MOBY_COMPONENT_CONFIG: JSON.stringify({ database: join(scratch.dir, "state", "containers.db") }),
    });
    await store.waitForSocket(storeSocket);
    await events.start();
  });
  after(async () => {
    connections.splice(0).forEach((c) => c.close());
    await store?.stop("SIGKILL");
    await events.close();
    scratch.remove();
  });

  function storeClient() {
    const connection = dialSocket(storeSocket, { retry: false });
    connections.push(connection);
    return connection.client(ContainerStoreService);
  }

  it("container-store: ListContainers, StreamContainers and WatchContainers with id~=\"^(a+)+$\" and a label pattern", async (t) => {
    const figures = new Figures(store.pid);
    const client = storeClient();
    const started = performance.now();
    await client.createContainer({ container: create(ContainerSchema, { id: EVIL_ID, runtime: { name: "runc" }, spec: SPEC, labels: { x: `${"a".repeat(4000)}!` } }) }, DEADLINE);
    await client.createContainer({ container: create(ContainerSchema, { id: "aaaa", runtime: { name: "runc" }, spec: SPEC, labels: { x: "aaaa" } }) }, DEADLINE);
    for (const filter of ['id~="^(a+)+$"', 'labels.x~="^(a+)+$"', 'id~="^(a|aa)+$"', 'id~="(a*)*b$"']) {
      const page = await client.listContainers({ filter }, DEADLINE);
      const streamed: string[] = [];
      for await (const batch of client.streamContainers({ filter }, DEADLINE)) streamed.push(...batch.containers.map((c) => c.id));
      const expected = filter === 'id~="(a*)*b$"' ? [EVIL_ID] : ["aaaa"];
      assert.deepEqual(page.containers.map((c) => c.id), expected, filter);
      assert.deepEqual(streamed, expected, filter);
    }
    // A watch filters every change as it is committed: a change to the evil record must not freeze the writer.
    const controller = new AbortController();
    const watch = client.watchContainers({ filter: 'id~="^(a+)+$"' }, { signal: controller.signal })[Symbol.asyncIterator]();
    await watch.next();
    await client.updateContainer({ container: { id: EVIL_ID, labels: { y: "1" } }, updateMask: { paths: ["labels.y"] } }, DEADLINE);
    await client.updateContainer({ container: { id: "aaaa", labels: { y: "1" } }, updateMask: { paths: ["labels.y"] } }, DEADLINE);
    for (;;) {
      const next = await within(watch.next(), "the matching change");
      if (next.done === true) throw new Error("the watch ended before the matching change");
      const value = next.value;
      if (value.kind.case !== "change") continue;
      assert.equal(value.kind.value.container?.id, "aaaa", "only the matching container's change is sent");
      break;
    }
    controller.abort();
    t.diagnostic(`12 filtered calls, 2 writes and a watch: ${(performance.now() - started).toFixed(0)} ms in all`);
    await assertServing(storeSocket);
    await figures.settle(t, { files: 5, mib: 64 });
  });

  it("events: Subscribe with topic~=\"^/(a+)+$\" while a 42-character topic is published, live, then replayed after a restart", async (t) => {
    const figures = new Figures(events.process!.pid);
    const filter = 'topic~="^/(a+)+$"';
    const started = performance.now();
    const connection = events.dial({ retry: false });
    const client = connection.client(EventsService);
    const filtered = new SubscriptionReader(client, { filters: [filter], start: StartPosition.NOW });
    const everything = new SubscriptionReader(client, { start: StartPosition.NOW });
    await filtered.progress();
    await everything.progress();
    // The publish is answered whatever the subscribers' filters cost, and so is the next one.
    const evil = await client.publish(containerCreate("evil", { topic: `/${"a".repeat(40)}-b` }), DEADLINE);
    const good = await client.publish(containerCreate("good", { topic: "/aaaa" }), DEADLINE);
    assert.deepEqual((await everything.events(2)).map((e) => e.sequence), [evil.sequence, good.sequence]);
    const [seen] = await filtered.events(1);
    assert.equal(seen!.sequence, good.sequence, "the filtered subscriber got past the evil topic to the next event");
    filtered.close();
    everything.close();
    connection.close();
    t.diagnostic(`live: ${(performance.now() - started).toFixed(0)} ms`);
    // The evil event stays in the log: a restarted component replays it to the same filter.
    await events.stop("SIGKILL");
    await events.start();
    const replayed = events.dial({ retry: false });
    const reader = new SubscriptionReader(replayed.client(EventsService), { filters: [filter], start: StartPosition.OLDEST });
    await reader.progress();
    const [again] = await reader.events(1);
    assert.equal(again!.sequence, good.sequence);
    reader.close();
    replayed.close();
    await assertServing(events.socketPath);
    // A new process: its own figures from here, against its own start.
    t.diagnostic(`live and replayed after a restart: ${(performance.now() - started).toFixed(0)} ms`);
    figures.stop();
    const after = new Figures(events.process!.pid);
    await after.settle(t, { files: 5, mib: 64 });
  });
});
