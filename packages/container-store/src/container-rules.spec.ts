import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary } from "@bufbuild/protobuf";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { InvalidArgumentError } from "@moby-core/sdk";
import { checkId } from "@moby-core/sdk/list";
import { ContainerSchema } from "@moby-core/container-store-api/v1";
import type { Container } from "@moby-core/container-store-api/v1";
import { MAX_RECORD_BYTES, checkContainer, recordSize } from "./container-rules.js";
import { storedRecord } from "./container-record.js";

/** The fields of a container, as create() takes them. */
type ContainerFields = Extract<MessageInitShape<typeof ContainerSchema>, { $typeName?: undefined }>;

const SPEC = { typeUrl: "type.googleapis.com/moby.container.runtime.v1.OciSpec", value: new Uint8Array([1, 2, 3]) };

function record(overrides: ContainerFields = {}): Container {
  return storedRecord(create(ContainerSchema, { id: "web", runtime: { name: "runc" }, spec: SPEC, ...overrides }), {
    createdAt: timestampFromMs(1_700_000_000_000),
    updatedAt: timestampFromMs(1_700_000_000_000),
    revision: 12n,
  });
}

/** The field an InvalidArgumentError names, or a failure. */
function fieldOf(fn: () => void): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof InvalidArgumentError, String(error));
    assert.ok(error.message.startsWith(`${error.field}: `));
    return error.field;
  }
  assert.fail("expected INVALID_ARGUMENT");
}

describe("the id rule", () => {
  for (const id of ["a", "A1", "web-1", "a.b_c-d", "x".repeat(76), "0"]) {
    it(`accepts ${JSON.stringify(id.slice(0, 20))}`, () => checkId(id, "id"));
  }
  for (const id of ["", "-a", "a-", "a..b", "a._b", ".a", "a b", "a/b", "é", "x".repeat(77), "a:b"]) {
    it(`refuses ${JSON.stringify(id.slice(0, 20))}`, () => assert.equal(fieldOf(() => checkId(id, "container.id")), "container.id"));
  }
});

describe("a container record", () => {
  it("passes with the required fields", () => {
    checkContainer(record());
  });

  it("returns the record encoded without its revision", () => {
    const checked = record();
    const stored = checkContainer(checked);
    assert.equal(checked.revision, 12n);
    assert.deepEqual(fromBinary(ContainerSchema, stored), create(ContainerSchema, { ...checked, revision: 0n }));
  });

  it("needs runtime.name and a spec with a type URL", () => {
    assert.equal(fieldOf(() => checkContainer(record({ runtime: undefined }))), "container.runtime.name");
    assert.equal(fieldOf(() => checkContainer(record({ runtime: { $typeName: "moby.container.store.v1.Runtime", name: "" } }))), "container.runtime.name");
    assert.equal(fieldOf(() => checkContainer(record({ spec: undefined }))), "container.spec");
    assert.equal(fieldOf(() => checkContainer(record({ spec: { ...SPEC, $typeName: "google.protobuf.Any", typeUrl: "" } }))), "container.spec");
  });

  it("bounds the runtime name: 255 bytes, no whitespace or control characters", () => {
    const runtime = (name: string) => record({ runtime: { $typeName: "moby.container.store.v1.Runtime", name } });
    checkContainer(runtime("r".repeat(255)));
    checkContainer(runtime("io.containerd.runc.v2"));
    for (const name of ["r".repeat(256), "run c", "runc\n", "a\u0000b", "a\tb"]) {
      assert.equal(fieldOf(() => checkContainer(runtime(name))), "container.runtime.name");
    }
  });

  it("needs a type URL on runtime options when they are set", () => {
    const options = { $typeName: "google.protobuf.Any" as const, typeUrl: "", value: new Uint8Array() };
    assert.equal(fieldOf(() => checkContainer(record({ runtime: { $typeName: "moby.container.store.v1.Runtime", name: "runc", options } }))), "container.runtime.options");
  });

  it("bounds label keys and values: key 1 to 4096 bytes, key and value together 4096 bytes", () => {
    checkContainer(record({ labels: { ["k".repeat(4096)]: "" } }));
    checkContainer(record({ labels: { k: "v".repeat(4095) } }));
    checkContainer(record({ labels: { app: "" } }));
    assert.equal(fieldOf(() => checkContainer(record({ labels: { "": "x" } }))), 'container.labels[""]');
    assert.equal(fieldOf(() => checkContainer(record({ labels: { k: "v".repeat(4096) } }))), 'container.labels["k"]');
    assert.equal(fieldOf(() => checkContainer(record({ labels: { app: "é".repeat(2047) } }))), 'container.labels["app"]', "bytes, not characters");
    const long = "k".repeat(4097);
    assert.match(fieldOf(() => checkContainer(record({ labels: { [long]: "" } }))), /^container\.labels\["k+\.\.\."\]$/);
  });

  it("bounds the image at 4096 bytes", () => {
    checkContainer(record({ image: "i".repeat(4096) }));
    assert.equal(fieldOf(() => checkContainer(record({ image: "i".repeat(4097) }))), "container.image");
  });

  it("checks extension keys and type URLs", () => {
    const any = (typeUrl: string) => ({ $typeName: "google.protobuf.Any" as const, typeUrl, value: new Uint8Array([9]) });
    checkContainer(record({ extensions: { "io.moby.network": any("example.com/x.Y") } }));
    assert.equal(fieldOf(() => checkContainer(record({ extensions: { "": any("example.com/x.Y") } }))), 'container.extensions[""]');
    assert.equal(fieldOf(() => checkContainer(record({ extensions: { net: any("") } }))), 'container.extensions["net"]');
  });

  it("bounds the whole encoded record at 1 MiB, with the store's fields", () => {
    const base = recordSize(record({ spec: { ...SPEC, $typeName: "google.protobuf.Any", value: new Uint8Array(0) } }));
    // A value of n bytes (this large) adds n, its tag and a 3-byte length, and 2 bytes to the spec's length prefix.
    const withValue = (n: number) => record({ spec: { ...SPEC, $typeName: "google.protobuf.Any", value: new Uint8Array(n) } });
    const exact = withValue(MAX_RECORD_BYTES - base - 6);
    assert.equal(recordSize(exact), MAX_RECORD_BYTES);
    checkContainer(exact);
    const over = withValue(MAX_RECORD_BYTES - base - 5);
    assert.equal(recordSize(over), MAX_RECORD_BYTES + 1);
    assert.equal(fieldOf(() => checkContainer(over)), "container");
  });

  it("keeps the Any values byte for byte and drops nothing the client gave", () => {
    const stored = record({ labels: { a: "1" }, image: "busybox", extensions: { e: { $typeName: "google.protobuf.Any", typeUrl: "t/x.Y", value: new Uint8Array([7, 8]) } } });
    assert.deepEqual([...stored.spec!.value], [1, 2, 3]);
    assert.equal(stored.spec!.typeUrl, SPEC.typeUrl);
    assert.deepEqual([...stored.extensions.e!.value], [7, 8]);
    assert.equal(stored.revision, 12n);
  });
});
