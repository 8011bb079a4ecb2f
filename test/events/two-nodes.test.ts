// Two nodes on one machine: two assemblies (two run directories, two inits),
// each with an events component on the same stream of one real three-server
// NATS JetStream cluster (replicas 3), configured with the manifest block of
// the README's "events on NATS JetStream". Events published on both nodes
// reach the subscribers of both in one order, and a subscriber that moves from
// one node to the other resumes after its last sequence without loss or
// duplicates.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { Health } from "@moby-core/component-api/v1";
import { dialSocket } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { ComponentState } from "@moby-core/supervisor-api/v1";
import { EventsService, StartPosition } from "@moby-core/events-api/v1";
import type { Envelope } from "@moby-core/events-api/v1";
import { Assembly } from "../support/assembly.js";
import { scratchDirectory } from "../support/component-process.js";
import { repoRoot } from "../support/contract-copy.js";
import { SubscriptionReader, containerCreate, containerId } from "../support/events-component.js";
import type { EventsClient } from "../support/events-component.js";
import { NatsCluster } from "../support/nats-cluster.js";
import { teardown } from "../support/teardown.js";
import type { TeardownStep } from "../support/teardown.js";

/** The manifest of the README's "events on NATS JetStream", on the cluster's servers, run from the repository. */
function readmeManifest(servers: string[]): string {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### events on NATS JetStream"));
  const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block !== undefined, "the README's 'events on NATS JetStream' has a yaml block");
  const documented = /servers: (\[[^\]]*\])/.exec(block)?.[1];
  assert.ok(documented !== undefined, "the block lists the servers");
  return block
    .replace(documented, JSON.stringify(servers))
    .replace("    services: [moby.events.v1.EventsService]\n", `    services: [moby.events.v1.EventsService]\n    workingDir: ${repoRoot}\n    env: { MOBY_LOG_LEVEL: warn }\n`);
}

const scratch = scratchDirectory("moby-two-nodes-");
const cluster = new NatsCluster(join(scratch.dir, "nats"), 3);
const nodes: Assembly[] = [];
const connections: Connection[] = [];
const readers: SubscriptionReader[] = [];

/** An EventsService client of node i on a connection of its own. */
function client(i: number): EventsClient {
  const connection = dialSocket(join(nodes[i]!.runDir, "events.sock"));
  connections.push(connection);
  return connection.client(EventsService);
}

/** A Subscribe stream on node i, cancelled after the test. */
function subscribe(i: number, request: ConstructorParameters<typeof SubscriptionReader>[1]): SubscriptionReader {
  const reader = new SubscriptionReader(client(i), request);
  readers.push(reader);
  return reader;
}

const sequences = (envelopes: Envelope[]) => envelopes.map((e) => e.sequence);

describe("events on two nodes sharing one JetStream stream", () => {
  before(async () => {
    await cluster.start();
    const manifest = readmeManifest(cluster.servers);
    for (const name of ["node-a", "node-b"]) {
      const node = await Assembly.boot(manifest, scratchDirectory(`moby-${name}-`));
      nodes.push(node);
      await node.until("events", (c) => c.state === ComponentState.RUNNING && c.health === Health.SERVING);
    }
  });
  afterEach(() => {
    readers.splice(0).forEach((r) => r.close());
  });
  after(() =>
    teardown([
      ["the clients", () => connections.splice(0).forEach((c) => c.close())],
      ...nodes.splice(0).map((node, i): TeardownStep => [`node ${i}`, async () => (await node.shutdown(), node.remove())]),
      ["the NATS cluster", () => cluster.stop()],
      ["the scratch directory", () => scratch.remove()],
    ]),
  );

  it("delivers the events published on both nodes in one order to the subscribers of either", async () => {
    const base = (await client(0).getStatus({})).latestSequence;
    // Init publishes its own events into the log meanwhile: the subscribers select the two nodes' publishers.
    const filters = ["source==node-a", "source==node-b"];
    const onA = subscribe(0, { start: StartPosition.NOW, filters });
    const onB = subscribe(1, { start: StartPosition.NOW, filters });
    // NOW starts at the latest sequence, which init's own events may have moved past base.
    assert.ok((await onA.progress()) >= base);
    assert.ok((await onB.progress()) >= base);

    const perNode = 100;
    const acknowledged = new Map<string, bigint>();
    await Promise.all(
      [0, 1].map(async (node) => {
        const events = client(node);
        await Promise.all(
          Array.from({ length: perNode }, async (_, i) => {
            const id = `n${node}-${i}`;
            acknowledged.set(id, (await events.publish(containerCreate(id, { source: node === 0 ? "node-a" : "node-b" }))).sequence);
          }),
        );
      }),
    );
    const ordered = [...acknowledged.values()].sort((a, b) => (a < b ? -1 : 1));
    assert.equal(new Set(ordered).size, 2 * perNode, "one sequence per event across both nodes");
    assert.ok(ordered[0]! > base);

    const [fromA, fromB] = await Promise.all([onA.events(2 * perNode), onB.events(2 * perNode)]);
    assert.deepEqual(sequences(fromA), ordered, "every event once, in sequence order");
    assert.deepEqual(fromA.map(containerId), fromB.map(containerId), "both nodes deliver the same events in the same order");
    for (const envelope of fromB) assert.equal(envelope.sequence, acknowledged.get(containerId(envelope)), "each at the sequence its publish returned");
    const statusB = await client(1).getStatus({});
    assert.ok(statusB.latestSequence >= ordered.at(-1)!, "the other node's status counts the events published on this one");
  });

  it("resumes a subscriber that moves from one node to the other after its last sequence, without loss or duplicates", async () => {
    const base = (await client(1).getStatus({})).latestSequence;
    const ids: string[] = [];
    const acknowledged: bigint[] = [];
    for (let i = 0; i < 60; i++) {
      const id = `move-${i}`;
      ids.push(id);
      acknowledged.push((await client(i % 2).publish(containerCreate(id, { source: "mover" }))).sequence);
    }
    const filters = ["source==mover"];
    const first = subscribe(0, { start: StartPosition.AFTER_SEQUENCE, afterSequence: base, filters });
    assert.equal(await first.progress(), base);
    const seen = await first.events(25);
    first.close();

    // While it moves, both nodes go on publishing.
    for (let i = 60; i < 80; i++) {
      const id = `move-${i}`;
      ids.push(id);
      acknowledged.push((await client(i % 2).publish(containerCreate(id, { source: "mover" }))).sequence);
    }
    const moved = subscribe(1, { start: StartPosition.AFTER_SEQUENCE, afterSequence: first.lastResume, filters });
    assert.equal(await moved.progress(), first.lastResume);
    const rest = await moved.events(ids.length - seen.length);
    assert.deepEqual([...seen, ...rest].map(containerId), ids, "every event once, in order, across the move");
    assert.deepEqual(sequences([...seen, ...rest]), acknowledged, "each at the sequence its publish returned");

    // And live: an event published on the node it left reaches it on the new one.
    const live = await client(0).publish(containerCreate("after-move", { source: "mover" }));
    const [next] = await moved.events(1);
    assert.equal(next!.sequence, live.sequence);
    assert.equal(containerId(next!), "after-move");
  });
});
