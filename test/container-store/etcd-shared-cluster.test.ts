// The container store on an etcd cluster that also holds other keys, as a
// shared cluster does: another client writes between the store's writes.
// The store revision (the etcd revision of the store's last write) still
// grows with every write and never repeats, by more than one when others
// wrote; the others' writes are no changes to a watcher, do not move the
// store revision that ListContainers reports, and a start_revision past the
// store revision is OUT_OF_RANGE even when the cluster's revision is past it.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import type { Etcd3 } from "etcd3";
import { Code, dialSocket } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { ContainerChangeType, ContainerSchema, ContainerStoreService } from "@moby-core/container-store-api/v1";
import type { Container } from "@moby-core/container-store-api/v1";
import { scratchDirectory, startContainerStore } from "../support/component-process.js";
import type { ComponentProcess } from "../support/component-process.js";
import { EtcdCluster } from "../support/etcd-cluster.js";
import { rejection } from "../support/rejection.js";
import { teardown } from "../support/teardown.js";

/** A valid container to create. */
function container(id: string): Container {
  return create(ContainerSchema, { id, runtime: { name: "runc" }, spec: { typeUrl: "type.googleapis.com/example.Spec", value: new Uint8Array([1]) } });
}

describe("container-store on an etcd cluster shared with other keys", () => {
  const scratch = scratchDirectory("moby-etcd-shared-");
  const socketPath = join(scratch.dir, "cs.sock");
  let cluster: EtcdCluster;
  let store: ComponentProcess;
  let connection: Connection;
  let other: Etcd3;

  before(async () => {
    cluster = await EtcdCluster.start(join(scratch.dir, "etcd"), 1);
    other = cluster.client();
    store = await startContainerStore(socketPath, { backend: "etcd", etcd: { endpoints: cluster.endpoints, prefix: "/shared/store/" } });
    connection = dialSocket(socketPath);
  });
  after(() =>
    teardown([
      [
        "the clients",
        () => {
          connection?.close();
          other?.close();
        },
      ],
      ["the container store", () => store?.stop("SIGKILL")],
      ["the etcd cluster", () => cluster?.stop()],
      ["the scratch directory", () => scratch.remove()],
    ]),
  );

  it("others' writes make the store revision skip, are no changes to a watcher, and do not move the store revision", async () => {
    const client = connection.client(ContainerStoreService);
    const first = (await client.createContainer({ container: container("first") })).container!.revision;
    // Another tenant of the cluster writes twice, and once more under a key that only starts like the store's prefix.
    await other.put("/shared/other-tenant/a").value("1");
    await other.put("/shared/other-tenant/b").value("2");
    await other.put("/shared/store-not/c").value("3");
    const second = (await client.createContainer({ container: container("second") })).container!.revision;
    assert.equal(second, first + 4n, "the store's next write is at the cluster's next revision, 3 past the first");

    // A watch from the first write, or from inside the skipped revisions, sees the second write and nothing of the others.
    for (const start of [first, first + 2n]) {
      const abort = new AbortController();
      const seen: { revision: bigint; id: string; type: ContainerChangeType }[] = [];
      for await (const message of client.watchContainers({ startRevision: start }, { signal: abort.signal })) {
        if (message.kind.case === "change") seen.push({ revision: message.kind.value.revision, id: message.kind.value.container!.id, type: message.kind.value.type });
        else if (message.kind.case === "progress") {
          assert.equal(message.kind.value.revision, second, `the replay from ${start} ends at the store revision`);
          break;
        }
      }
      abort.abort();
      assert.deepEqual(seen, [{ revision: second, id: "second", type: ContainerChangeType.CREATE }], `a watch from ${start}`);
    }

    // More writes by others: the cluster's revision moves, the store's does not.
    await other.put("/shared/other-tenant/a").value("4");
    await other.put("/shared/other-tenant/b").value("5");
    assert.equal((await client.listContainers({})).revision, second, "ListContainers reports the store revision, not the cluster's");
    const beyond = await rejection(client.watchContainers({ startRevision: second + 1n })[Symbol.asyncIterator]().next());
    assert.equal(beyond.code, Code.OutOfRange, `a start past the store revision: ${beyond.message}`);
    assert.match(beyond.rawMessage, new RegExp(`${second}`), "the message states the store revision");
    const third = (await client.createContainer({ container: container("third") })).container!.revision;
    assert.equal(third, second + 3n, "the next write is again past the others'");
  });
});
