import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { ImageConfigSchema } from "@moby-core/image-api/v1";
import { applyImageConfig, wantsImageRootfs } from "./image-rootfs.js";

const encode = (doc: unknown) => new TextEncoder().encode(JSON.stringify(doc));
const decode = (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString("utf8")) as { root: { path: string }; process: { args: string[]; env: string[]; cwd: string; user?: { uid: number; gid: number } } };

describe("a container from an image", () => {
  const config = create(ImageConfigSchema, { entrypoint: ["/bin/sh", "-c"], cmd: ["echo image"], env: ["PATH=/bin", "A=image"], workingDir: "/app", user: "app" });

  it("is what a spec without root.path asks for", () => {
    assert.equal(wantsImageRootfs(encode({ ociVersion: "1.0.2", process: { args: ["x"] } })), true);
    assert.equal(wantsImageRootfs(encode({ ociVersion: "1.0.2", root: { path: "" } })), true);
    assert.equal(wantsImageRootfs(encode({ ociVersion: "1.0.2", root: { path: "/r" } })), false);
  });

  it("takes the image's Entrypoint, Cmd, Env, WorkingDir and User where the spec sets none, as docker run does", () => {
    const rootfs = mkdtempSync(join(tmpdir(), "moby-img-"));
    try {
      mkdirSync(join(rootfs, "etc"));
      writeFileSync(join(rootfs, "etc/passwd"), "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/app:/bin/sh\n");
      const out = decode(applyImageConfig(encode({ ociVersion: "1.0.2", process: { args: [], env: ["A=spec"] } }), rootfs, config));
      assert.equal(out.root.path, rootfs);
      assert.deepEqual(out.process.args, ["/bin/sh", "-c", "echo image"]);
      assert.deepEqual(out.process.env, ["PATH=/bin", "A=spec"], "the spec's value wins");
      assert.equal(out.process.cwd, "/app");
      assert.deepEqual(out.process.user, { uid: 1000, gid: 1001 });
      const withArgs = decode(applyImageConfig(encode({ ociVersion: "1.0.2", process: { args: ["echo spec"], cwd: "/tmp", user: { uid: 0, gid: 0 } } }), rootfs, config));
      assert.deepEqual(withArgs.process.args, ["/bin/sh", "-c", "echo spec"], "args replace Cmd, after the Entrypoint");
      assert.equal(withArgs.process.cwd, "/tmp");
      assert.deepEqual(withArgs.process.user, { uid: 0, gid: 0 });
    } finally {
      rmSync(rootfs, { recursive: true, force: true });
    }
  });

  it("is refused when neither the spec nor the image says what to run, or the user is unknown", () => {
    assert.throws(() => applyImageConfig(encode({ ociVersion: "1.0.2", process: { args: [] } }), "/nonexistent", create(ImageConfigSchema, {})), /spec: process.args is empty/);
    assert.throws(() => applyImageConfig(encode({ ociVersion: "1.0.2", process: { args: ["x"] } }), "/nonexistent", create(ImageConfigSchema, { user: "nobody" })), /the image's User: unable to find user nobody: no matching entries in passwd file/);
  });
});
