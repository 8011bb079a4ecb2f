import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ContainerSchema } from "@moby-core/container-store-api/v1";
import { encodeWithoutRevision, revisionFieldBytes, storedRecord, withRevision } from "./container-record.js";

const stamp = { createdAt: timestampFromMs(1_700_000_000_000), updatedAt: timestampFromMs(1_700_000_000_500), revision: 0n };
const container = storedRecord(
  create(ContainerSchema, {
    id: "web",
    labels: { app: "web" },
    image: "docker.io/library/nginx:1",
    runtime: { name: "runc" },
    spec: { typeUrl: "type.googleapis.com/moby.container.runtime.v1.OciSpec", value: new Uint8Array([1, 2, 3]) },
    extensions: { "io.moby.network": { typeUrl: "example.com/x.Y", value: new Uint8Array([4]) } },
  }),
  stamp,
);

describe("a record encoded without its revision", () => {
  for (const revision of [1n, 127n, 128n, 16_383n, 16_384n, 2n ** 35n, 2n ** 63n - 1n]) {
    it(`decodes, with revision ${revision} appended, to the record at that revision, of the same size as encoding it whole`, () => {
      const record = create(ContainerSchema, { ...container, revision });
      const stored = encodeWithoutRevision(record);
      assert.equal(record.revision, revision, "the record keeps its revision");
      assert.ok(equals(ContainerSchema, fromBinary(ContainerSchema, stored), create(ContainerSchema, { ...container, revision: 0n })));
      const full = withRevision(stored, revision);
      assert.ok(equals(ContainerSchema, fromBinary(ContainerSchema, full), record));
      assert.equal(full.byteLength, toBinary(ContainerSchema, record).byteLength);
      assert.equal(stored.byteLength + revisionFieldBytes(revision), full.byteLength);
    });
  }

  it("adds no bytes for revision 0, which proto3 leaves out", () => {
    assert.equal(revisionFieldBytes(0n), 0);
    assert.equal(encodeWithoutRevision(container).byteLength, toBinary(ContainerSchema, container).byteLength);
  });
});
