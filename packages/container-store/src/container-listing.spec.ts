import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { Code } from "@moby-core/sdk";
import type { ComponentError } from "@moby-core/sdk";
import { PageTokens } from "@moby-core/sdk/list";
import { ContainerChangeType, ContainerSchema, ListContainersResponseSchema, StreamContainersResponseSchema } from "@moby-core/container-store-api/v1";
import type { Container, ListContainersResponse, StreamContainersResponse } from "@moby-core/container-store-api/v1";
import type { Mutation } from "./container-backend.js";
import { encodeWithoutRevision } from "./container-record.js";
import { SqliteStore } from "./sqlite-store.js";
import { parseContainerFilter } from "./container-filter.js";
import { DEFAULT_SNAPSHOT_LIFETIME_MS, listPage, streamContainers } from "./container-listing.js";
import { SnapshotSlots } from "./container-snapshot.js";
import { DEFAULT_RETENTION } from "./store-config.js";

const dir = mkdtempSync(join(tmpdir(), "moby-listing-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A response as a client reads it: encoded, then decoded. */
function received(response: ListContainersResponse): ListContainersResponse;
function received(response: StreamContainersResponse): StreamContainersResponse;
function received(response: ListContainersResponse | StreamContainersResponse) {
  if (response.$typeName === "moby.container.store.v1.ListContainersResponse") {
    return fromBinary(ListContainersResponseSchema, toBinary(ListContainersResponseSchema, response));
  }
  return fromBinary(StreamContainersResponseSchema, toBinary(StreamContainersResponseSchema, response));
}

/** The create of container, as the service hands it to a backend. */
function creation(container: Container): Mutation {
  return { type: ContainerChangeType.CREATE, container, stored: encodeWithoutRevision(container) };
}

/** A database of count containers c-0000..., labels parity=even|odd. */
async function population(name: string, count: number): Promise<SqliteStore> {
  const store = new SqliteStore(join(dir, name), DEFAULT_RETENTION);
  const { db } = store;
  const spec = anyPack(ContainerSchema, create(ContainerSchema, { id: "spec" }));
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      db.write(({ revision, now }) =>
        creation(create(ContainerSchema, {
          id: `c-${String(i).padStart(4, "0")}`,
          labels: { parity: i % 2 === 0 ? "even" : "odd" },
          runtime: { name: "runc" },
          spec,
          revision,
          createdAt: now,
          updatedAt: now,
        })),
      ),
    ),
  );
  return store;
}

describe("listPage", () => {
  it("sends the stored records as they are, which a client reads as the containers, with or without a filter", async () => {
    const db = await population("pages.db", 250);
    const tokens = new PageTokens(new Uint8Array(32));
    const stored = db.db.rowsAfter("", 1000).map((row) => fromBinary(ContainerSchema, Uint8Array.from(row.record)));
    for (const [filterText, expected] of [
      ["", stored],
      ["labels.parity==odd", stored.filter((c) => c.labels["parity"] === "odd")],
    ] as const) {
      const filter = parseContainerFilter(filterText);
      const seen = [];
      let pageToken = "";
      do {
        const page = received(await listPage(db, tokens, { filter, filterText, pageSize: 100, pageToken }));
        assert.ok(page.containers.length <= 100);
        seen.push(...page.containers);
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
      assert.deepEqual(seen, expected, `filter ${JSON.stringify(filterText)}`);
    }
    await db.close();
  });
});

describe("streamContainers", () => {
  it("releases its snapshot after its lifetime: a client that reads too slowly gets ABORTED, and writes go on", async () => {
    const db = await population("containers.db", 600);
    const stream = streamContainers(db, parseContainerFilter(""), new AbortController().signal, 100);
    const first = await stream.next();
    assert.equal(first.done, false);
    assert.equal(received(first.value!).containers.length, 100);
    await new Promise((resolve) => setTimeout(resolve, 250));
    // The rows of the first scan are already read; the scan beyond them needs the released snapshot.
    const rest: unknown[] = [];
    const error = await (async () => {
      try {
        for (let next = await stream.next(); !next.done; next = await stream.next()) rest.push(next.value);
      } catch (error) {
        return error as ComponentError;
      }
      assert.fail("the stream should have ended with an error");
    })();
    assert.equal(error.code, Code.Aborted);
    assert.match(error.message, /released after 0.1 s/);
    await db.close();
  });

  it("opens at most the slots' snapshots at once: one more is RESOURCE_EXHAUSTED, and a slot is free again once a stream ends", async () => {
    const db = await population("slots.db", 300);
    const slots = new SnapshotSlots(2);
    const open = () => streamContainers(db, parseContainerFilter(""), new AbortController().signal, DEFAULT_SNAPSHOT_LIFETIME_MS, slots);
    const a = open();
    const b = open();
    assert.equal((await a.next()).done, false);
    assert.equal((await b.next()).done, false);
    assert.equal(slots.inUse, 2);
    const refused = await open()
      .next()
      .then(
        () => assert.fail("a third snapshot should be refused"),
        (error: ComponentError) => error,
      );
    assert.equal(refused.code, Code.ResourceExhausted);
    assert.match(refused.message, /^2 StreamContainers snapshots are open, the most allowed \(config.maxSnapshots 2\)/);
    assert.equal(slots.inUse, 2, "a refused call takes no slot");
    await a.return(undefined);
    assert.equal(slots.inUse, 1, "a stream that ends (here: cancelled) gives its slot back");
    let count = 0;
    for await (const response of open()) count += received(response).containers.length;
    assert.equal(count, 300);
    for await (const _ of b);
    assert.equal(slots.inUse, 0);
    await db.close();
  });

  it("sends batches of at most 1 MiB", async () => {
    const db = await population("batches.db", 0);
    const value = "x".repeat(4000);
    const spec = anyPack(ContainerSchema, create(ContainerSchema, { id: "spec" }));
    await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        // ~16 KiB each: 100 of them (a full batch by count) are more than 1 MiB.
        db.db.write(({ revision, now }) =>
          creation(create(ContainerSchema, { id: `big-${String(i).padStart(4, "0")}`, labels: { a: value, b: value, c: value, d: value }, runtime: { name: "runc" }, spec, revision, createdAt: now, updatedAt: now })),
        ),
      ),
    );
    const sizes: number[] = [];
    for await (const response of streamContainers(db, parseContainerFilter(""), new AbortController().signal)) {
      sizes.push(toBinary(StreamContainersResponseSchema, response).byteLength);
    }
    assert.ok(sizes.length > 1, String(sizes));
    for (const size of sizes) assert.ok(size <= 1024 * 1024, `a batch of ${size} bytes`);
    await db.close();
  });
});
