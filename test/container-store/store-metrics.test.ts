// container-store's own metrics move as it is used: a real component process
// on a real socket and SQLite file, read through GetMetrics, checked by
// promtool and by a parser of the text format.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { ComponentService } from "@moby-core/component-api/v1";
import { OciSpecSchema } from "@moby-core/container-runtime-api/v1";
import { ContainerSchema, ContainerStoreService } from "@moby-core/container-store-api/v1";
import { dialSocket } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { ComponentProcess, scratchDirectory } from "../support/component-process.js";
import { parseExposition, promtoolCheck, sampleValue } from "../support/prometheus-text.js";

const OCI_SPEC = anyPack(OciSpecSchema, create(OciSpecSchema, { json: new TextEncoder().encode('{"ociVersion":"1.1.0"}') }));

describe("container-store metrics", () => {
  const scratch = scratchDirectory("moby-cs-metrics-");
  const socketPath = join(scratch.dir, "cs.sock");
  let store: ComponentProcess;
  let connection: Connection;

  before(async () => {
    store = new ComponentProcess("packages/container-store/bin/moby-container-store.js", {
      MOBY_SOCKET: socketPath,
      MOBY_COMPONENT_NAME: "container-store",
      MOBY_LOG_LEVEL: "warn",
      MOBY_REGISTRY_ENDPOINT: "",
      MOBY_ENDPOINT_EVENTS: join(scratch.dir, "no-events.sock"),
      MOBY_COMPONENT_CONFIG: JSON.stringify({ database: join(scratch.dir, "state", "containers.db") }),
    });
    await store.waitForSocket(socketPath);
    connection = dialSocket(socketPath, { retry: false });
  });

  after(async () => {
    connection?.close();
    await store?.stop();
    scratch.remove();
  });

  const metrics = async () => {
    const { text } = await connection.client(ComponentService).getMetrics({});
    promtoolCheck(text);
    return parseExposition(text);
  };

  it("counts records, the revision, watchers and group commits", async () => {
    const client = connection.client(ContainerStoreService);
    const before = await metrics();
    assert.equal(sampleValue(before, "moby_container_store_revision"), 0);
    assert.equal(sampleValue(before, "moby_container_store_containers"), 0);
    assert.equal(sampleValue(before, "moby_container_store_watchers"), 0);
    assert.equal(sampleValue(before, "moby_container_store_commit_batch_size"), 0);

    await Promise.all(["a", "b", "c"].map((id) => client.createContainer({ container: create(ContainerSchema, { id, runtime: { name: "runc" }, spec: OCI_SPEC }) })));
    await client.deleteContainer({ id: "b" });
    const abort = new AbortController();
    const watch = client.watchContainers({ startRevision: 0n }, { signal: abort.signal })[Symbol.asyncIterator]();
    await watch.next();
    const now = await metrics();
    abort.abort();
    await watch.next().catch(() => {});
    assert.equal(sampleValue(now, "moby_container_store_revision"), 4);
    assert.equal(sampleValue(now, "moby_container_store_containers"), 2);
    assert.equal(sampleValue(now, "moby_container_store_watchers"), 1);
    assert.equal(sampleValue(now, "moby_container_store_watchers_cut_off_total"), 0);
    // Four writes in at most four commits (the three creates may share one); each commit is timed.
    const commits = sampleValue(now, "moby_container_store_commit_batch_size")!;
    assert.ok(commits >= 2 && commits <= 4, `${commits} commits`);
    assert.equal(sampleValue(now, "moby_container_store_commit_duration_seconds"), commits);
  });
});
