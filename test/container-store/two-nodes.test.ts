// Two nodes on one machine, sharing their container records in one etcd
// cluster: two assemblies (two run directories, two moby-inits, each
// supervising its own container-store) on a real three-member etcd cluster
// started for the suite. A container created through node A is read, listed
// and watched through node B with no gap; a watcher that moves from one node
// to the other resumes from its last revision with nothing lost or repeated;
// a page token from one node continues the listing on the other.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { Health } from "@moby-core/component-api/v1";
import { dialSocket } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { ContainerChangeType, ContainerSchema, ContainerStoreService } from "@moby-core/container-store-api/v1";
import type { Container, ContainerChange, WatchContainersResponse } from "@moby-core/container-store-api/v1";
import { OciSpecSchema } from "@moby-core/container-runtime-api/v1";
import { ComponentState } from "@moby-core/supervisor-api/v1";
import { Assembly } from "../support/assembly.js";
import { scratchDirectory } from "../support/component-process.js";
import { repoRoot } from "../support/contract-copy.js";
import { EtcdCluster } from "../support/etcd-cluster.js";
import { teardown } from "../support/teardown.js";

type StoreClient = Client<typeof ContainerStoreService>;

const scratch = scratchDirectory("moby-nodes-");
const OCI_SPEC = anyPack(OciSpecSchema, create(OciSpecSchema, { json: new TextEncoder().encode('{"ociVersion":"1.1.0"}') }));

/** A valid container to create. */
function container(id: string, labels: Record<string, string> = {}): Container {
  return create(ContainerSchema, { id, labels, runtime: { name: "runc" }, spec: OCI_SPEC });
}

/** The manifest of one node: its container-store on the shared cluster. */
function manifest(endpoints: string[]): string {
  return [
    "components:",
    "  container-store:",
    `    command: ["node", "packages/container-store/bin/moby-container-store.js"]`,
    `    workingDir: ${repoRoot}`,
    "    services: [moby.container.store.v1.ContainerStoreService]",
    `    config: { backend: etcd, etcd: { endpoints: ${JSON.stringify(endpoints)}, prefix: /moby-nodes/containers/ } }`,
    "",
  ].join("\n");
}

/** One node: an assembly and a connection to its container-store. */
class Node {
  private readonly connections: Connection[] = [];
  constructor(readonly assembly: Assembly) {}

  /** A client of this node's container-store, on a connection of its own. */
  client(): StoreClient {
    const connection = dialSocket(join(this.assembly.runDir, "container-store.sock"));
    this.connections.push(connection);
    return connection.client(ContainerStoreService);
  }

  async shutdown(): Promise<void> {
    this.connections.splice(0).forEach((c) => c.close());
    await this.assembly.shutdown();
  }
}

/** A WatchContainers stream read in the background. */
class Watcher {
  readonly messages: WatchContainersResponse[] = [];
  error: unknown;
  readonly ended: Promise<void>;
  private readonly abort = new AbortController();

  constructor(client: StoreClient, startRevision: bigint) {
    this.ended = (async () => {
      try {
        for await (const message of client.watchContainers({ startRevision }, { signal: this.abort.signal })) this.messages.push(message);
      } catch (error) {
        if (!this.abort.signal.aborted) this.error = error;
      }
    })();
  }

  changes(): ContainerChange[] {
    return this.messages.flatMap((m) => (m.kind.case === "change" ? [m.kind.value] : []));
  }

  /** The last revision received (a change's or a progress's). */
  lastRevision(): bigint {
    const last = this.messages.at(-1);
    if (last === undefined || last.kind.case === undefined) throw new Error("nothing received");
    return last.kind.value.revision;
  }

  async until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (this.error !== undefined) assert.fail(`the watch failed while waiting for ${what}: ${String(this.error)}`);
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; received ${this.messages.length} messages`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.ended;
  }
}

describe("two nodes sharing container records in etcd", () => {
  let cluster: EtcdCluster;
  let a: Node;
  let b: Node;

  before(async () => {
    cluster = await EtcdCluster.start(join(scratch.dir, "etcd"));
    const serving = (c: { state: ComponentState; health: Health }) => c.state === ComponentState.RUNNING && c.health === Health.SERVING;
    a = new Node(await Assembly.boot(manifest(cluster.endpoints), scratchDirectory("moby-node-a-")));
    b = new Node(await Assembly.boot(manifest(cluster.endpoints), scratchDirectory("moby-node-b-")));
    await a.assembly.until("container-store", serving);
    await b.assembly.until("container-store", serving);
  });

  after(() =>
    teardown([
      ["node A", async () => (await a?.shutdown(), a?.assembly.remove())],
      ["node B", async () => (await b?.shutdown(), b?.assembly.remove())],
      ["the etcd cluster", () => cluster?.stop()],
      ["the scratch directory", () => scratch.remove()],
    ]),
  );

  it("a container created through node A is read, listed and watched through node B with no gap", async () => {
    const onA = a.client();
    const onB = b.client();
    const watcher = new Watcher(onB, 0n);
    await watcher.until(() => watcher.messages.length >= 1, "the first progress");
    const created = (await onA.createContainer({ container: container("shared-1", { node: "a" }) })).container!;
    assert.deepEqual((await onB.getContainer({ id: "shared-1" })).container, created, "B reads what A wrote");
    assert.deepEqual((await onB.listContainers({})).containers, [created]);

    // Writes through both nodes, interleaved: B's watcher gets every one, in revision order.
    const written: bigint[] = [created.revision];
    for (let i = 0; i < 30; i++) {
      const through = i % 2 === 0 ? onA : onB;
      written.push((await through.createContainer({ container: container(`mixed-${i}`) })).container!.revision);
      if (i % 3 === 0) written.push((await through.updateContainer({ container: { id: "shared-1", labels: { n: String(i) } }, updateMask: { paths: ["labels.n"] } })).container!.revision);
      if (i % 5 === 4) written.push((await through.deleteContainer({ id: `mixed-${i - 1}` })).revision);
    }
    await watcher.until(() => watcher.changes().length >= written.length, `${written.length} changes`);
    assert.deepEqual(
      watcher.changes().map((c) => c.revision),
      written,
      "every write of either node, once, in revision order",
    );
    const first = watcher.changes()[0]!;
    assert.equal(first.type, ContainerChangeType.CREATE);
    assert.deepEqual(first.container, created);
    await watcher.close();
  });

  it("a watcher that moves from node A to node B resumes from its last revision with nothing lost or repeated", async () => {
    const onA = a.client();
    const onB = b.client();
    const start = (await onA.listContainers({})).revision;
    const written: bigint[] = [];
    const write = async (client: StoreClient, id: string) => written.push((await client.createContainer({ container: container(id) })).container!.revision);

    const first = new Watcher(onA, start);
    for (let i = 0; i < 10; i++) await write(i % 2 === 0 ? onA : onB, `move-${i}`);
    await first.until(() => first.changes().length >= 5, "some changes");
    await first.close();
    const resumeFrom = first.lastRevision();

    // Written while nobody watches; then the watcher comes back through the other node.
    for (let i = 10; i < 20; i++) await write(i % 2 === 0 ? onB : onA, `move-${i}`);
    const second = new Watcher(onB, resumeFrom);
    await second.until(() => second.changes().length > 0 && second.changes().at(-1)!.revision === written.at(-1), "the last write");
    await second.close();

    const received = [...first.changes(), ...second.changes()].map((c) => c.revision);
    assert.deepEqual(received, written, "each write once, in order, across the move");
  });

  it("a page token from node A continues the listing on node B", async () => {
    const onA = a.client();
    const onB = b.client();
    const all = [];
    let page = await onA.listContainers({ pageSize: 7 });
    all.push(...page.containers);
    for (let on = onB; page.nextPageToken !== ""; on = on === onB ? onA : onB) {
      page = await on.listContainers({ pageSize: 7, pageToken: page.nextPageToken });
      all.push(...page.containers);
    }
    const streamed: Container[] = [];
    for await (const batch of onB.streamContainers({})) streamed.push(...batch.containers);
    assert.deepEqual(all.map((c) => c.id), streamed.map((c) => c.id));
  });
});
