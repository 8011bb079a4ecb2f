import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { OciSpecSchema } from "@moby-core/container-runtime-api/v1";
import { ContainerSchema } from "@moby-core/container-store-api/v1";
import { OCI_SPEC_TYPE_URL } from "@moby-core/container-runtime";
import { DEFAULT_ENV } from "@moby-core/container-runtime/oci-spec-builder";
import { RUNTIME_NAME, commandOf, containerRecord, quoteArg, shortCommand } from "./container-spec.js";

/** The OCI document inside a record's spec. */
function documentOf(spec: ReturnType<typeof containerRecord>["spec"]) {
  assert.ok(spec);
  assert.equal(spec.typeUrl, OCI_SPEC_TYPE_URL);
  return JSON.parse(new TextDecoder().decode(fromBinary(OciSpecSchema, spec.value).json)) as {
    process: { args: string[]; env: string[]; cwd: string; user: { uid: number; gid: number }; terminal: boolean };
    root: { path: string };
  };
}

describe("containerRecord", () => {
  it("stores an OciSpec running the command in the absolute rootfs, runtime runc, no image", () => {
    const record = containerRecord({ id: "web", rootfs: "rootfs", args: ["sh", "-c", "echo hello"], env: [], labels: { app: "web" } }, "/srv");
    assert.equal(record.id, "web");
    assert.equal(record.runtime?.name, RUNTIME_NAME);
    assert.equal(record.runtime?.name, "runc");
    assert.equal(record.image, "");
    assert.deepEqual(record.labels, { app: "web" });
    const document = documentOf(record.spec);
    assert.equal(document.root.path, "/srv/rootfs");
    assert.deepEqual(document.process.args, ["sh", "-c", "echo hello"]);
    assert.deepEqual(document.process.env, DEFAULT_ENV);
    assert.equal(document.process.cwd, "/");
    assert.deepEqual(document.process.user, { uid: 0, gid: 0 });
    assert.equal(document.process.terminal, false);
  });

  it("adds env (a later name wins, PATH replaceable), the working directory and the user", () => {
    const record = containerRecord({
      id: "x",
      rootfs: "/abs/rootfs",
      args: ["true"],
      env: ["A=1", "PATH=/bin", "A=2"],
      workdir: "/tmp",
      user: { uid: 1000, gid: 100 },
      labels: {},
    });
    const document = documentOf(record.spec);
    assert.equal(document.root.path, "/abs/rootfs");
    assert.ok(document.process.env.includes("PATH=/bin"));
    assert.ok(document.process.env.includes("A=2"));
    assert.ok(!document.process.env.includes("A=1"));
    assert.equal(document.process.cwd, "/tmp");
    assert.deepEqual(document.process.user, { uid: 1000, gid: 100 });
  });
});

describe("commandOf", () => {
  it("reads the args back from a record", () => {
    assert.deepEqual(commandOf(containerRecord({ id: "x", rootfs: "/r", args: ["sleep", "10"], env: [], labels: {} })), ["sleep", "10"]);
  });

  it("is empty without a record, for another spec type or a broken document", () => {
    assert.deepEqual(commandOf(undefined), []);
    assert.deepEqual(commandOf(create(ContainerSchema, { id: "x" })), []);
    const other = create(ContainerSchema, { id: "x", spec: { typeUrl: "type.googleapis.com/other.Spec", value: new Uint8Array([1]) } });
    assert.deepEqual(commandOf(other), []);
    const broken = create(ContainerSchema, { id: "x", spec: anyPack(OciSpecSchema, create(OciSpecSchema, { json: new TextEncoder().encode("{not json") })) });
    assert.deepEqual(commandOf(broken), []);
    const noArgs = create(ContainerSchema, { id: "x", spec: anyPack(OciSpecSchema, create(OciSpecSchema, { json: new TextEncoder().encode('{"process":{"args":[1]}}') })) });
    assert.deepEqual(commandOf(noArgs), []);
  });
});

describe("shortCommand", () => {
  it("quotes arguments as a shell would need them", () => {
    assert.equal(quoteArg("sleep"), "sleep");
    assert.equal(quoteArg("/bin/sh"), "/bin/sh");
    assert.equal(quoteArg("echo hello"), "'echo hello'");
    assert.equal(quoteArg("it's"), `'it'\\''s'`);
    assert.equal(quoteArg(""), "''");
    assert.equal(shortCommand(["sh", "-c", "echo hello; exit 3"]), "sh -c 'echo hello; exit 3'");
  });

  it("cuts long command lines with ... and keeps them on one line", () => {
    const line = shortCommand(["sh", "-c", "while true; do echo tick; sleep 1; done"], 20);
    assert.equal(line, "sh -c 'while true...");
    assert.equal(line.length, 20);
    assert.equal(shortCommand(["printf", "a\nb\tc\u0001"]), "printf 'a\\nb\\tc\\x01'");
    assert.equal(shortCommand([]), "");
  });
});
