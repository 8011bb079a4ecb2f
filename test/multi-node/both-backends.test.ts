// Two nodes on one machine with both shared backends: two assemblies (two run
// directories, two moby-inits), each running the container store on one real
// three-member etcd cluster and the events component on one real three-server
// NATS JetStream cluster, with the manifest blocks of the README's "Running on
// several nodes". Each store publishes its /containers/* events to its own
// node's events component: containers created through node A and through node
// B reach an events subscriber on either node, in one order, each with the
// revision the store gave it, and a watcher on B sees A's creates.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, fromBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { Health } from "@moby-core/component-api/v1";
import { dialSocket } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { ContainerChangeType, ContainerSchema, ContainerStoreService } from "@moby-core/container-store-api/v1";
import type { ContainerChange } from "@moby-core/container-store-api/v1";
import { OciSpecSchema } from "@moby-core/container-runtime-api/v1";
import { ContainerCreateSchema, EventsService, StartPosition } from "@moby-core/events-api/v1";
import type { ContainerCreate, Envelope } from "@moby-core/events-api/v1";
import { ComponentState } from "@moby-core/supervisor-api/v1";
import type { Component } from "@moby-core/supervisor-api/v1";
import { Assembly } from "../support/assembly.js";
import { scratchDirectory } from "../support/component-process.js";
import { repoRoot } from "../support/contract-copy.js";
import { EtcdCluster } from "../support/etcd-cluster.js";
import { SubscriptionReader } from "../support/events-component.js";
import { NatsCluster } from "../support/nats-cluster.js";
import { teardown } from "../support/teardown.js";
import type { TeardownStep } from "../support/teardown.js";

/** The first yaml block after heading in the root README. */
function readmeBlock(heading: string): string {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const at = readme.indexOf(heading);
  assert.ok(at >= 0, `the README has a section ${heading}`);
  const block = /```yaml\n([\s\S]*?)```/.exec(readme.slice(at))?.[1];
  assert.ok(block !== undefined, `the README's ${heading} has a yaml block`);
  return block;
}

/** block with the list after `key: ` replaced by values, and the component run from the repository with quiet logs. */
function adapt(block: string, key: string, values: string[], services: string): string {
  const documented = new RegExp(`${key}: (\\[[^\\]]*\\])`).exec(block)?.[1];
  assert.ok(documented !== undefined, `the block sets ${key}`);
  const line = `    services: [${services}]\n`;
  assert.ok(block.includes(line), `the block declares ${services}`);
  return block.replace(documented, JSON.stringify(values)).replace(line, `${line}    workingDir: ${repoRoot}\n    env: { MOBY_LOG_LEVEL: warn }\n`);
}

/** One node's manifest: the README's events block on the NATS servers, then its container-store block on the etcd endpoints. */
function manifest(natsServers: string[], etcdEndpoints: string[]): string {
  const events = adapt(readmeBlock("### events on NATS JetStream"), "servers", natsServers, "moby.events.v1.EventsService");
  const store = adapt(readmeBlock("### Container records on etcd"), "endpoints", etcdEndpoints, "moby.container.store.v1.ContainerStoreService");
  assert.match(events, /^components:\n {2}events:\n/, "the events block is a whole manifest");
  assert.match(store, /^ {2}container-store:\n/, "the container-store block is one component of a manifest");
  return events + store;
}

const OCI_SPEC = anyPack(OciSpecSchema, create(OciSpecSchema, { json: new TextEncoder().encode('{"ociVersion":"1.1.0"}') }));
const serving = (c: Component) => c.state === ComponentState.RUNNING && c.health === Health.SERVING;
/** The store's creates only: init publishes its own events into the same log. */
const CREATES = ["topic==/containers/create", "source==container-store"];

const scratch = scratchDirectory("moby-both-backends-");
const nats = new NatsCluster(join(scratch.dir, "nats"), 3);
let etcd: EtcdCluster | undefined;
const nodes: Assembly[] = [];
const connections: Connection[] = [];
const readers: SubscriptionReader[] = [];

/** A client of service on node i's socket, on a connection of its own. */
function dial(i: number, socket: string): Connection {
  const connection = dialSocket(join(nodes[i]!.runDir, socket));
  connections.push(connection);
  return connection;
}

/** The ContainerCreate an envelope carries. */
function created(envelope: Envelope): ContainerCreate {
  assert.equal(envelope.event?.typeUrl, "type.googleapis.com/moby.events.v1.ContainerCreate", `a create event: ${envelope.topic}`);
  return fromBinary(ContainerCreateSchema, envelope.event.value);
}

describe("two nodes, each with the container store on etcd and events on NATS", () => {
  before(async () => {
    await nats.start();
    etcd = await EtcdCluster.start(join(scratch.dir, "etcd"));
    const text = manifest(nats.servers, etcd.endpoints);
    for (const name of ["node-a", "node-b"]) nodes.push(await Assembly.boot(text, scratchDirectory(`moby-${name}-`)));
    for (const node of nodes) {
      await node.until("events", serving, 60_000);
      await node.until("container-store", serving, 60_000);
    }
  });

  after(() =>
    teardown([
      ["the streams", () => readers.splice(0).forEach((r) => r.close())],
      ["the clients", () => connections.splice(0).forEach((c) => c.close())],
      ...nodes.splice(0).map((node, i): TeardownStep => [`node ${i === 0 ? "A" : "B"}`, async () => (await node.shutdown(), node.remove())]),
      ["the NATS cluster", () => nats.stop()],
      ["the etcd cluster", () => etcd?.stop()],
      ["the scratch directory", () => scratch.remove()],
    ]),
  );

  it("delivers the creates of both nodes' stores to a subscriber on either node in one order, and B's watcher sees A's creates", { timeout: 120_000 }, async () => {
    const stores = [0, 1].map((i) => dial(i, "container-store.sock").client(ContainerStoreService));
    const [onA, onB] = [0, 1].map((i) => {
      const reader = new SubscriptionReader(dial(i, "events.sock").client(EventsService), { start: StartPosition.NOW, filters: CREATES });
      readers.push(reader);
      return reader;
    });
    await onA!.progress(30_000);
    await onB!.progress(30_000);

    // B's watcher, from the store's revision before the first create (0, "from now", on a fresh prefix), established (its first progress) before it.
    const start = (await stores[1]!.listContainers({})).revision;
    const watch = new AbortController();
    const changes: ContainerChange[] = [];
    let established = false;
    let watchError: unknown;
    const watching = (async () => {
      for await (const message of stores[1]!.watchContainers({ startRevision: start }, { signal: watch.signal })) {
        if (message.kind.case === "change") changes.push(message.kind.value);
        else established = true;
      }
    })().catch((error: unknown) => {
      if (!watch.signal.aborted) watchError = error;
    });
    const establishedBy = Date.now() + 30_000;
    while (!established && watchError === undefined && Date.now() < establishedBy) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(watchError, undefined, `B's watch failed: ${String(watchError)}`);
    assert.ok(established, "B's watch sent its first progress");

    // Creates through A and B, interleaved: the store's revision of each, by id.
    const revisions = new Map<string, bigint>();
    for (let i = 0; i < 10; i++) {
      for (const [node, store] of stores.entries()) {
        const id = `${node === 0 ? "a" : "b"}-${i}`;
        const response = await store.createContainer({ container: create(ContainerSchema, { id, labels: { node: String(node) }, runtime: { name: "runc" }, spec: OCI_SPEC }) });
        revisions.set(id, response.container!.revision);
      }
    }

    const [fromA, fromB] = await Promise.all([onA!.events(revisions.size, 30_000), onB!.events(revisions.size, 30_000)]);
    const ids = fromA.map((e) => created(e).id);
    assert.deepEqual(fromB.map((e) => created(e).id), ids, "both nodes' subscribers get the same creates in the same order");
    assert.deepEqual([...ids].sort(), [...revisions.keys()].sort(), "every create of either node's store, once");
    assert.deepEqual(fromB.map((e) => e.sequence), fromA.map((e) => e.sequence), "at the same sequences");
    for (const envelope of fromA) assert.equal(created(envelope).revision, revisions.get(created(envelope).id), `${created(envelope).id} carries the revision its create returned`);
    // Each node's store published its own creates in the order it made them.
    for (const prefix of ["a-", "b-"]) {
      assert.deepEqual(ids.filter((id) => id.startsWith(prefix)), Array.from({ length: 10 }, (_, i) => `${prefix}${i}`), `${prefix}* in the order they were created`);
    }

    // The watcher on B saw every create, A's included, in revision order.
    const deadline = Date.now() + 30_000;
    while (changes.length < revisions.size && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    watch.abort();
    await watching;
    assert.equal(watchError, undefined, `B's watch failed: ${String(watchError)}`);
    assert.deepEqual(
      changes.map((c) => [c.type, c.container?.id, c.revision]),
      [...revisions].sort((x, y) => (x[1] < y[1] ? -1 : 1)).map(([id, revision]) => [ContainerChangeType.CREATE, id, revision]),
      "B's watcher sees every create of A and B, in revision order",
    );
  });
});
