import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { ComponentError } from "@moby-core/sdk";
import { OCI_SPEC_TYPE_URL, checkOciSpec, specJsonFromAny } from "./oci-spec.js";
import { buildOciSpec, mergeEnv, ociSpecJson, packOciSpec } from "./oci-spec-builder.js";

const dir = mkdtempSync(join(tmpdir(), "moby-oci-spec-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const rootfs = join(dir, "rootfs");
mkdirSync(rootfs);
writeFileSync(join(dir, "file"), "");

const encode = (value: unknown) => new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));
const valid = () => buildOciSpec({ rootfs, args: ["sh"] }) as unknown as Record<string, unknown>;

function invalid(json: Uint8Array, message: RegExp): void {
  assert.throws(
    () => checkOciSpec(json),
    (error: unknown) => {
      assert.ok(error instanceof ComponentError);
      assert.equal(error.code, Code.InvalidArgument);
      assert.match(error.message, message);
      return true;
    },
  );
}

describe("checkOciSpec", () => {
  it("accepts the builder's spec and keeps the bytes as given", () => {
    const json = ociSpecJson({ rootfs, args: ["sh", "-c", "true"] });
    const checked = checkOciSpec(json);
    assert.equal(checked.json, json);
    assert.deepEqual(checked.process.args, ["sh", "-c", "true"]);
  });

  it("accepts 1.x versions with a suffix, as runc spec writes them", () => {
    for (const version of ["1.0.0", "1.0.2-dev", "1.2.0", "1.10.3+build"]) checkOciSpec(encode({ ...valid(), ociVersion: version }));
  });

  it("names what is wrong", () => {
    const base = valid();
    const process = base.process as Record<string, unknown>;
    invalid(new Uint8Array(), /^spec: json is empty/);
    invalid(new Uint8Array(1024 * 1024 + 1).fill(32), /^spec: json is 1048577 bytes, more than 1048576/);
    invalid(new Uint8Array([0x7b, 0xff, 0x7d]), /^spec: json is not UTF-8/);
    invalid(encode("{"), /^spec: json is not JSON/);
    invalid(encode("null"), /^spec: json is not a JSON object/);
    invalid(encode({ ...base, ociVersion: undefined }), /^spec: ociVersion is missing/);
    invalid(encode({ ...base, ociVersion: "2.0.0" }), /^spec: ociVersion "2\.0\.0" is not a 1\.x version/);
    invalid(encode({ ...base, ociVersion: 1 }), /^spec: ociVersion 1 is not a 1\.x version/);
    invalid(encode({ ...base, process: undefined }), /^spec: process is missing/);
    invalid(encode({ ...base, process: { ...process, args: [] } }), /^spec: process\.args is empty/);
    invalid(encode({ ...base, process: { ...process, args: undefined } }), /^spec: process\.args is empty/);
    invalid(encode({ ...base, process: { ...process, args: [1] } }), /^spec: process\.args is not an array of strings/);
    invalid(encode({ ...base, process: { ...process, terminal: "yes" } }), /^spec: process\.terminal is not a boolean/);
    invalid(encode({ ...base, root: undefined }), /^spec: root is missing/);
    invalid(encode({ ...base, root: {} }), /^spec: root\.path is missing/);
    invalid(encode({ ...base, root: { path: "rootfs" } }), /^spec: root\.path "rootfs" is not absolute/);
    invalid(encode({ ...base, root: { path: join(dir, "none") } }), /^spec: root\.path ".*none": the rootfs does not exist$/);
    invalid(encode({ ...base, root: { path: join(dir, "file") } }), /^spec: root\.path ".*file" is not a directory/);
  });
});

describe("specJsonFromAny", () => {
  it("unpacks an OciSpec under its type URL", () => {
    const any = packOciSpec({ rootfs, args: ["true"] });
    assert.equal(any.typeUrl, OCI_SPEC_TYPE_URL);
    assert.deepEqual((JSON.parse(new TextDecoder().decode(specJsonFromAny(any))) as { process: { args: string[] } }).process.args, ["true"]);
  });

  it("names the type URL it found", () => {
    assert.throws(() => specJsonFromAny(undefined), /^InvalidArgumentError: spec: the container has no spec/);
    assert.throws(
      () => specJsonFromAny({ $typeName: "google.protobuf.Any", typeUrl: "type.googleapis.com/x.Y", value: new Uint8Array() }),
      /spec: type URL "type\.googleapis\.com\/x\.Y" is not "type\.googleapis\.com\/moby\.container\.runtime\.v1\.OciSpec"/,
    );
    assert.throws(
      () => specJsonFromAny({ $typeName: "google.protobuf.Any", typeUrl: OCI_SPEC_TYPE_URL, value: new Uint8Array([0xff, 0xff]) }),
      /spec: the value is not an encoded moby\.container\.runtime\.v1\.OciSpec/,
    );
  });
});

describe("buildOciSpec", () => {
  it("builds a default Linux container without a terminal", () => {
    const spec = buildOciSpec({ rootfs: "relative/rootfs", args: ["sh"], env: ["TERM=dumb", "A=1"], cwd: "/tmp" });
    assert.equal(spec.process.terminal, false);
    assert.ok(spec.root.path.startsWith("/"), "the rootfs path is absolute");
    assert.deepEqual(spec.linux.namespaces.map((n) => n.type).sort(), ["ipc", "mount", "network", "pid", "uts"]);
    assert.deepEqual(spec.mounts.map((m) => m.destination).slice(0, 6), ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"]);
    assert.ok(spec.process.capabilities.bounding.includes("CAP_KILL"));
    assert.ok(spec.linux.maskedPaths.includes("/proc/kcore"));
    assert.ok(spec.linux.readonlyPaths.includes("/proc/sys"));
    assert.deepEqual(spec.process.env, ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=dumb", "A=1"]);
    assert.equal(spec.process.cwd, "/tmp");
    assert.throws(() => buildOciSpec({ rootfs, args: [] }), /args/);
  });

  it("merges environments by name", () => {
    assert.deepEqual(mergeEnv(["A=1", "B=2"], ["B=3", "C=4", "A="]), ["A=", "B=3", "C=4"]);
  });
});
