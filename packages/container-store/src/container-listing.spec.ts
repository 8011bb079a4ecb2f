import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { Code, PageTokens } from "@moby-core/sdk";
import type { ComponentError } from "@moby-core/sdk";
import { ContainerChangeType, ContainerSchema, ListContainersResponseSchema, StreamContainersResponseSchema } from "@moby-core/container-store-api/v1";
import type { ListContainersResponse, StreamContainersResponse } from "@moby-core/container-store-api/v1";
import { ContainerDatabase } from "./container-database.js";
import { parseContainerFilter } from "./container-filter.js";
import { listPage, streamContainers } from "./container-listing.js";
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

/** A database of count containers c-0000..., labels parity=even|odd. */
async function population(name: string, count: number): Promise<ContainerDatabase> {
  const db = new ContainerDatabase(join(dir, name), DEFAULT_RETENTION);
  const spec = anyPack(ContainerSchema, create(ContainerSchema, { id: "spec" }));
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      db.write(({ revision, now }) => ({
        type: ContainerChangeType.CREATE,
        container: create(ContainerSchema, {
          id: `c-${String(i).padStart(4, "0")}`,
          labels: { parity: i % 2 === 0 ? "even" : "odd" },
          runtime: { name: "runc" },
          spec,
          revision,
          createdAt: now,
          updatedAt: now,
        }),
      })),
    ),
  );
  return db;
}

describe("listPage", () => {
  it("sends the stored records as they are, which a client reads as the containers, with or without a filter", async () => {
    const db = await population("pages.db", 250);
    const tokens = new PageTokens(new Uint8Array(32));
    const stored = db.rowsAfter("", 1000).map((row) => fromBinary(ContainerSchema, Uint8Array.from(row.record)));
    for (const [filterText, expected] of [
      ["", stored],
      ["labels.parity==odd", stored.filter((c) => c.labels["parity"] === "odd")],
    ] as const) {
      const filter = parseContainerFilter(filterText);
      const seen = [];
      let pageToken = "";
      do {
        const page = received(listPage(db, tokens, { filter, filterText, pageSize: 100, pageToken }));
        assert.ok(page.containers.length <= 100);
        seen.push(...page.containers);
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
      assert.deepEqual(seen, expected, `filter ${JSON.stringify(filterText)}`);
    }
    db.close();
  });
});

describe("streamContainers", () => {
  it("releases its snapshot after its lifetime: a client that reads too slowly gets ABORTED, and writes go on", async () => {
    const db = await population("containers.db", 600);
    const path = db.path;
    const stream = streamContainers(path, parseContainerFilter(""), new AbortController().signal, 100);
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
    db.close();
  });
});
