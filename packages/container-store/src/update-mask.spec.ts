import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import { InvalidArgumentError } from "@moby-core/sdk";
import { ContainerSchema } from "@moby-core/container-store-api/v1";
import type { Container } from "@moby-core/container-store-api/v1";
import { applyUpdateMask, parseUpdateMask, sortedPaths } from "./update-mask.js";

/** The fields of a container, as create() takes them. */
type ContainerFields = Extract<MessageInitShape<typeof ContainerSchema>, { $typeName?: undefined }>;

const any = (typeUrl: string, ...bytes: number[]) => ({ $typeName: "google.protobuf.Any" as const, typeUrl, value: new Uint8Array(bytes) });

function current(): Container {
  return create(ContainerSchema, {
    id: "web",
    labels: { app: "web", tier: "front", "a.b": "dots" },
    image: "busybox",
    runtime: { name: "runc", options: any("example.com/r.Options", 1) },
    spec: any("type.googleapis.com/moby.container.runtime.v1.OciSpec", 2),
    extensions: { net: any("example.com/n.Net", 3), vol: any("example.com/v.Vol", 4) },
    revision: 5n,
  });
}

function input(fields: ContainerFields): Container {
  return create(ContainerSchema, { id: "web", ...fields });
}

function apply(paths: string[], fields: ContainerFields): Container {
  return applyUpdateMask(current(), input(fields), parseUpdateMask(create(FieldMaskSchema, { paths })));
}

function refusal(paths: string[] | undefined): string {
  try {
    parseUpdateMask(paths === undefined ? undefined : create(FieldMaskSchema, { paths }));
  } catch (error) {
    assert.ok(error instanceof InvalidArgumentError);
    assert.equal(error.field, "update_mask");
    return error.message;
  }
  assert.fail(`expected ${JSON.stringify(paths)} to be refused`);
}

describe("parseUpdateMask", () => {
  it("accepts every documented path", () => {
    const paths = ["labels.app", "extensions.net", "spec", "image", "runtime.options"];
    assert.deepEqual(parseUpdateMask(create(FieldMaskSchema, { paths })).map((p) => p.path), paths);
    assert.equal(parseUpdateMask(create(FieldMaskSchema, { paths: ["labels", "extensions"] })).length, 2);
  });

  it("needs a mask with at least one path", () => {
    assert.match(refusal(undefined), /^update_mask: required/);
    assert.match(refusal([]), /^update_mask: required/);
  });

  it("refuses the immutable, output-only, unknown and wildcard paths", () => {
    for (const path of ["id", "created_at", "updated_at", "revision", "runtime.name", "runtime", "*", "name", "labelsx", "spec.type_url", "createdAt", ""]) {
      assert.match(refusal([path]), /^update_mask: /, path);
    }
  });

  it("refuses a repeated path, a map key with no name, and a map together with its keys", () => {
    assert.match(refusal(["image", "image"]), /repeated/);
    assert.match(refusal(["labels."]), /names no key/);
    assert.match(refusal(["labels", "labels.app"]), /overlap/);
    assert.match(refusal(["extensions.net", "extensions"]), /overlap/);
    parseUpdateMask(create(FieldMaskSchema, { paths: ["labels", "extensions.net"] }));
  });

  it("reports the paths sorted for events", () => {
    assert.deepEqual(sortedPaths(parseUpdateMask(create(FieldMaskSchema, { paths: ["spec", "image", "labels.b", "labels.a"] }))), ["image", "labels.a", "labels.b", "spec"]);
  });
});

describe("applyUpdateMask", () => {
  it("labels replaces every label", () => {
    assert.deepEqual(apply(["labels"], { labels: { new: "1" } }).labels, { new: "1" });
    assert.deepEqual(apply(["labels"], {}).labels, {});
  });

  it("labels.<key> sets the key, or removes it when the request does not hold it, dots included", () => {
    assert.deepEqual(apply(["labels.app"], { labels: { app: "api", tier: "ignored" } }).labels, { app: "api", tier: "front", "a.b": "dots" });
    assert.deepEqual(apply(["labels.tier"], {}).labels, { app: "web", "a.b": "dots" });
    assert.deepEqual(apply(["labels.a.b"], { labels: { "a.b": "x" } }).labels, { app: "web", tier: "front", "a.b": "x" });
    assert.deepEqual(apply(["labels.missing"], {}).labels, current().labels, "removing an absent key changes nothing");
    assert.deepEqual(apply(["labels.new"], { labels: { new: "" } }).labels.new, "");
  });

  it("labels.<key> takes keys that name Object.prototype members as plain keys", () => {
    const next = apply(["labels.__proto__", "labels.constructor"], { labels: Object.fromEntries([["__proto__", "p"], ["constructor", "c"]]) });
    assert.equal(Object.getPrototypeOf(next.labels), Object.prototype);
    assert.deepEqual(Object.entries(next.labels).sort(), [["__proto__", "p"], ["a.b", "dots"], ["app", "web"], ["constructor", "c"], ["tier", "front"]]);
  });

  it("extensions and extensions.<key> work as for labels", () => {
    assert.deepEqual(Object.keys(apply(["extensions"], { extensions: { x: any("t/x.X", 9) } }).extensions), ["x"]);
    const one = apply(["extensions.net"], { extensions: { net: any("t/n.N", 8) } });
    assert.equal(one.extensions.net!.typeUrl, "t/n.N");
    assert.deepEqual([...one.extensions.vol!.value], [4]);
    assert.deepEqual(Object.keys(apply(["extensions.vol"], {}).extensions), ["net"]);
  });

  it("spec, image and runtime.options replace the field; absent clears it", () => {
    assert.deepEqual([...apply(["spec"], { spec: any("t/s.S", 7, 7) }).spec!.value], [7, 7]);
    assert.equal(apply(["spec"], {}).spec, undefined, "the rules then refuse the record");
    assert.equal(apply(["image"], { image: "alpine" }).image, "alpine");
    assert.equal(apply(["image"], {}).image, "");
    const options = apply(["runtime.options"], { runtime: { $typeName: "moby.container.store.v1.Runtime", name: "ignored", options: any("t/o.O", 6) } }).runtime!;
    assert.equal(options.name, "runc", "runtime.name stays");
    assert.deepEqual([...options.options!.value], [6]);
    assert.equal(apply(["runtime.options"], {}).runtime!.options, undefined);
  });

  it("leaves every field not named alone, and the current record unchanged", () => {
    const before = current();
    const next = applyUpdateMask(before, input({ image: "other", labels: {}, spec: any("t/x.X") }), parseUpdateMask(create(FieldMaskSchema, { paths: ["labels.app"] })));
    assert.equal(next.image, "busybox");
    assert.equal(next.spec!.typeUrl, before.spec!.typeUrl);
    assert.deepEqual(next.labels, { tier: "front", "a.b": "dots" });
    assert.deepEqual(before.labels, { app: "web", tier: "front", "a.b": "dots" });
  });
});
