// container-store on etcd while etcd members die: a real three-member
// cluster and a real container-store process. kill -9 of the leading member
// under a write load loses no acknowledged write, and the store stays SERVING (or
// says NOT_SERVING while it cannot write) and serves again by itself; with
// every member down, calls are UNAVAILABLE naming etcd and the store is
// NOT_SERVING, and both come back when the members return. A watcher open
// across members' deaths under creates, updates and deletes sees every
// acknowledged write once, in revision order, when each member is killed in
// turn (its etcd stream reopens on another member from the last revision it
// received).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { Code, ConnectError, ServingStatus, dialSocket } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { ContainerChangeType, ContainerSchema, ContainerStoreService } from "@moby-core/container-store-api/v1";
import type { Container } from "@moby-core/container-store-api/v1";
import { Health } from "@moby-core/grpc-health-api/v1";
import { scratchDirectory, startContainerStore } from "../support/component-process.js";
import type { ComponentProcess } from "../support/component-process.js";
import { EtcdCluster } from "../support/etcd-cluster.js";
import { teardown } from "../support/teardown.js";

type StoreClient = Client<typeof ContainerStoreService>;
const SERVICE = ContainerStoreService.typeName;

const scratch = scratchDirectory("moby-etcd-faults-");

/** A valid container to create. */
function container(id: string): Container {
  return create(ContainerSchema, { id, runtime: { name: "runc" }, spec: { typeUrl: "type.googleapis.com/example.Spec", value: new Uint8Array([1]) } });
}

/** Waits until check returns true, polling. */
async function eventually(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("container-store on etcd when members die", () => {
  let cluster: EtcdCluster;
  let store: ComponentProcess;
  let connection: Connection;
  let client: StoreClient;
  const socketPath = join(scratch.dir, "cs.sock");

  /** The service's health as grpc.health.v1 reports it now. */
  async function health(): Promise<ServingStatus> {
    return (await connection.client(Health).check({ service: SERVICE }, { timeoutMs: 5000 })).status as number as ServingStatus;
  }

  before(async () => {
    cluster = await EtcdCluster.start(join(scratch.dir, "etcd"));
    store = await startContainerStore(socketPath, { backend: "etcd", etcd: { endpoints: cluster.endpoints, prefix: "/faults/", requestTimeoutMs: 2000 } });
    connection = dialSocket(socketPath, { retry: false });
    client = connection.client(ContainerStoreService);
  });

  after(() =>
    teardown([
      ["the client", () => connection?.close()],
      ["the container store", () => store?.stop("SIGKILL")],
      ["the etcd cluster", () => cluster?.stop()],
      ["the scratch directory", () => scratch.remove()],
    ]),
  );

  it("kill -9 of the leader under a write load: no acknowledged write is lost; SERVING, or NOT_SERVING while it cannot write, then SERVING by itself", async () => {
    const acknowledged = new Map<string, bigint>();
    const failures: string[] = [];
    const statuses = new Set<ServingStatus>();
    let stop = false;
    let next = 0;
    const writers = Array.from({ length: 16 }, async () => {
      while (!stop) {
        const id = `load-${next++}`;
        try {
          acknowledged.set(id, (await client.createContainer({ container: container(id) })).container!.revision);
        } catch (error) {
          const code = ConnectError.from(error).code;
          // While a member dies a write may fail; it must say so as UNAVAILABLE (or ABORTED after its own retries), never lose an acknowledged one.
          assert.ok(code === Code.Unavailable || code === Code.Aborted, `a failed write is UNAVAILABLE or ABORTED, not ${Code[code]}: ${String(error)}`);
          failures.push(id);
        }
      }
    });
    const watching = (async () => {
      while (!stop) {
        statuses.add(await health());
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    try {
      await eventually(() => acknowledged.size >= 200, "200 acknowledged writes before the kill");
      // The leader: its death makes the others elect a new one while writes go on.
      const leader = await cluster.leader();
      await cluster.kill(leader);
      const atKill = acknowledged.size;
      await eventually(() => acknowledged.size >= atKill + 300, "300 more acknowledged writes with a member down");
      cluster.restart(leader);
      await cluster.waitUntilWritable();
      const atRestart = acknowledged.size;
      await eventually(() => acknowledged.size >= atRestart + 100, "100 more writes once the member is back");
    } finally {
      stop = true;
      await Promise.all(writers);
      await watching;
    }
    for (const status of statuses) assert.ok(status === ServingStatus.SERVING || status === ServingStatus.NOT_SERVING, `health was ${ServingStatus[status]}`);
    await eventually(async () => (await health()) === ServingStatus.SERVING, "SERVING again");

    const stored = new Map<string, bigint>();
    let pageToken = "";
    do {
      const page = await client.listContainers({ pageSize: 1000, pageToken });
      for (const c of page.containers) stored.set(c.id, c.revision);
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    for (const [id, revision] of acknowledged) assert.equal(stored.get(id), revision, `${id}, acknowledged at revision ${revision}, is stored`);
  });

  it("kill -9 of each member in turn under creates, updates and deletes: a watcher open across it gets every acknowledged write once, in order, with no gap", async () => {
    /** Acknowledged writes by revision: what the watcher must see. */
    const acknowledged = new Map<bigint, { id: string; type: ContainerChangeType }>();
    const seen: { revision: bigint; id: string; type: ContainerChangeType }[] = [];
    let stop = false;
    let next = 0;
    const abort = new AbortController();
    const stream = client.watchContainers({ startRevision: 0n }, { signal: abort.signal })[Symbol.asyncIterator]();
    // The first message is progress: the watch is in place.
    const first = await stream.next();
    assert.ok(first.done !== true && first.value.kind.case === "progress", "a watch from now starts with progress");
    const reading = (async () => {
      try {
        for (let message = await stream.next(); !message.done; message = await stream.next()) {
          const change = message.value.kind.case === "change" ? message.value.kind.value : undefined;
          if (change !== undefined) seen.push({ revision: change.revision, id: change.container!.id, type: change.type });
        }
      } catch (error) {
        if (!abort.signal.aborted) throw error;
      }
    })();
    /** One container's life: create, update with its revision, and every other one deleted; a failure leaves the id alone (its write may have committed). */
    const life = async (id: string, remove: boolean) => {
      const created = (await client.createContainer({ container: container(id) })).container!;
      acknowledged.set(created.revision, { id, type: ContainerChangeType.CREATE });
      const changed = container(id);
      changed.labels = { step: "updated" };
      const updated = (await client.updateContainer({ container: changed, updateMask: { paths: ["labels"] }, expectedRevision: created.revision })).container!;
      acknowledged.set(updated.revision, { id, type: ContainerChangeType.UPDATE });
      if (!remove) return;
      const deleted = await client.deleteContainer({ id, expectedRevision: updated.revision });
      acknowledged.set(deleted.revision, { id, type: ContainerChangeType.DELETE });
    };
    const writers = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const n = next++;
        try {
          await life(`mixed-${n}`, n % 2 === 0);
        } catch (error) {
          const code = ConnectError.from(error).code;
          assert.ok(code === Code.Unavailable || code === Code.Aborted, `a failed write is UNAVAILABLE or ABORTED, not ${Code[code]}: ${String(error)}`);
        }
      }
    });
    try {
      await eventually(() => acknowledged.size >= 100, "100 acknowledged writes before the first kill");
      // Each member in turn, the leader first: whichever member the store's etcd watch is on dies once.
      const leader = await cluster.leader();
      for (const member of [leader, ...[0, 1, 2].filter((i) => i !== leader)]) {
        await cluster.kill(member);
        const atKill = acknowledged.size;
        await eventually(() => acknowledged.size >= atKill + 100, `100 more acknowledged writes with member ${member} gone`);
        cluster.restart(member);
        await cluster.waitUntilWritable();
      }
    } finally {
      stop = true;
      await Promise.all(writers);
    }
    const last = [...acknowledged.keys()].reduce((a, b) => (a > b ? a : b));
    await eventually(() => seen.length > 0 && seen[seen.length - 1]!.revision >= last, `the watcher reaching revision ${last}`);
    abort.abort();
    await reading;
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.revision > seen[i - 1]!.revision, `revisions grow: ${seen[i - 1]!.revision} then ${seen[i]!.revision}`);
    const byRevision = new Map(seen.map((change) => [change.revision, change]));
    for (const [revision, write] of acknowledged) {
      const change = byRevision.get(revision);
      assert.ok(change !== undefined, `the watcher saw the ${ContainerChangeType[write.type]} of ${write.id} at revision ${revision}`);
      assert.deepEqual({ id: change.id, type: change.type }, write, `revision ${revision} is the acknowledged write`);
    }
  });

  it("every member down: UNAVAILABLE naming etcd and NOT_SERVING; back when the members return", async () => {
    await client.createContainer({ container: container("before-outage") });
    await Promise.all([0, 1, 2].map((i) => cluster.kill(i)));
    const refused = ConnectError.from(await client.createContainer({ container: container("during-outage") }).then(() => assert.fail("a write with etcd down must fail"), (error: unknown) => error));
    assert.equal(refused.code, Code.Unavailable, refused.message);
    assert.match(refused.rawMessage, /^etcd at http:\/\/127\.0\.0\.1:\d+, .* cannot be reached: /);
    const read = ConnectError.from(await client.getContainer({ id: "before-outage" }).then(() => assert.fail("a read with etcd down must fail"), (error: unknown) => error));
    assert.equal(read.code, Code.Unavailable, read.message);
    assert.equal(await health(), ServingStatus.NOT_SERVING);

    for (const i of [0, 1, 2]) cluster.restart(i);
    await cluster.waitUntilWritable();
    await eventually(async () => (await health()) === ServingStatus.SERVING, "SERVING once etcd is back");
    await eventually(
      () => client.createContainer({ container: container("after-outage") }).then(() => true, () => false),
      "a write once etcd is back",
    );
    assert.equal((await client.getContainer({ id: "before-outage" })).container!.id, "before-outage");
  });
});
