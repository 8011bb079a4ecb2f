import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "@moby-core/sdk";
import { ContainerSchema } from "@moby-core/container-store-api/v1";
import { matchesContainer, parseContainerFilter } from "./container-filter.js";

const web = create(ContainerSchema, {
  id: "web-1",
  image: "busybox:latest",
  runtime: { name: "runc" },
  labels: { app: "web", "app.kubernetes.io": "k8s", "my key": "spaced", empty: "" },
});
const bare = create(ContainerSchema, { id: "bare", runtime: { name: "io.containerd.runc.v2" } });

function matches(filter: string, container = web): boolean {
  return matchesContainer(parseContainerFilter(filter), container);
}

describe("container filters", () => {
  it("match on id, image, runtime.name and labels", () => {
    assert.ok(matches(""));
    assert.ok(matches("id==web-1"));
    assert.ok(matches('image~="^busybox"'));
    assert.ok(matches("runtime.name==runc"));
    assert.ok(matches("labels.app==web,runtime.name==runc"));
    assert.ok(!matches("labels.app==web,runtime.name==crun"));
    assert.ok(matches("labels.app!=api"));
    assert.ok(matches("image~=/latest$/"));
    assert.ok(!matches("image~=^latest"));
  });

  it("name label keys of several parts, joined with dots, and quoted parts", () => {
    assert.ok(matches("labels.app.kubernetes.io==k8s"));
    assert.ok(matches('labels."app.kubernetes.io"==k8s'));
    assert.ok(matches('labels."my key"==spaced'));
  });

  it("test presence: a non-empty field, or a label that is set (even to \"\")", () => {
    assert.ok(matches("image"));
    assert.ok(!matches("image", bare));
    assert.ok(matches("labels.empty"));
    assert.ok(!matches("labels.missing"));
    assert.ok(!matches("labels.toString"), "not a label: an Object.prototype member");
  });

  it("treat absent fields as unequal", () => {
    assert.ok(matches("image!=busybox", bare));
    assert.ok(matches("labels.app!=web", bare));
    assert.ok(!matches("labels.app==web", bare));
    assert.ok(!matches('image==""', bare));
  });

  it("are refused naming filter: unknown field, bad syntax, bad regex, longer than 4096 bytes", () => {
    for (const text of ["name==x", "labels==x", "spec==x", "id==", "labels.app==web,", "image~=(", "id==a b", `id==${"é".repeat(2048)}x`]) {
      assert.throws(() => parseContainerFilter(text), (error: unknown) => error instanceof InvalidArgumentError && error.field === "filter", text.slice(0, 30));
    }
    parseContainerFilter(`id==${"x".repeat(4092)}`);
  });
});
