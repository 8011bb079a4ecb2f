import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { Code } from "@moby-core/sdk";
import type { ComponentError } from "@moby-core/sdk";
import { ContainerChangeType, ContainerSchema } from "@moby-core/container-store-api/v1";
import { ContainerDatabase } from "./container-database.js";
import { parseContainerFilter } from "./container-filter.js";
import { streamContainers } from "./container-listing.js";
import { DEFAULT_RETENTION } from "./store-config.js";

const dir = mkdtempSync(join(tmpdir(), "moby-listing-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("streamContainers", () => {
  it("releases its snapshot after its lifetime: a client that reads too slowly gets ABORTED, and writes go on", async () => {
    const path = join(dir, "containers.db");
    const db = new ContainerDatabase(path, DEFAULT_RETENTION);
    const spec = anyPack(ContainerSchema, create(ContainerSchema, { id: "spec" }));
    await Promise.all(
      Array.from({ length: 600 }, (_, i) =>
        db.write(({ revision, now }) => ({
          type: ContainerChangeType.CREATE,
          container: create(ContainerSchema, { id: `c-${String(i).padStart(4, "0")}`, runtime: { name: "runc" }, spec, revision, createdAt: now, updatedAt: now }),
        })),
      ),
    );
    const stream = streamContainers(path, parseContainerFilter(""), new AbortController().signal, 100);
    const first = await stream.next();
    assert.equal(first.done, false);
    assert.equal(first.value?.containers.length, 100);
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
