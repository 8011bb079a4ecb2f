import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FailedPreconditionError } from "@moby-core/sdk";
import { resolveSpecUser, resolveUser } from "./user-lookup.js";

describe("user names in a container's rootfs", () => {
  let rootfs = "";
  before(() => {
    rootfs = mkdtempSync(join(tmpdir(), "moby-users-"));
    mkdirSync(join(rootfs, "etc"));
    writeFileSync(
      join(rootfs, "etc/passwd"),
      "root:x:0:0:root:/root:/bin/sh\n# a comment\nnobody:x:65534:65534:nobody:/home:/bin/false\napp:x:1000:1001::/app:/bin/sh\n",
    );
    writeFileSync(join(rootfs, "etc/group"), "root:x:0:\nnogroup:x:65534:\napp:x:1001:\nwheel:x:10:app,root\naudio:x:29:app\n");
  });
  after(() => rmSync(rootfs, { recursive: true, force: true }));

  /** The message of the FAILED_PRECONDITION fn throws. */
  function refusal(fn: () => unknown): string {
    try {
      fn();
    } catch (error) {
      assert.ok(error instanceof FailedPreconditionError, String(error));
      return error.message;
    }
    assert.fail("no error");
  }

  it("resolves a name to its uid and primary gid, with the groups that list it", () => {
    assert.deepEqual(resolveUser("nobody", rootfs), { uid: 65534, gid: 65534, additionalGids: [] });
    assert.deepEqual(resolveUser("app", rootfs), { uid: 1000, gid: 1001, additionalGids: [10, 29] });
    assert.deepEqual(resolveUser("root", rootfs), { uid: 0, gid: 0, additionalGids: [10] });
  });

  it("takes NAME:GROUP, UID:GID, NAME:GID and UID:GROUP", () => {
    assert.deepEqual(resolveUser("nobody:nogroup", rootfs), { uid: 65534, gid: 65534, additionalGids: [] });
    assert.deepEqual(resolveUser("1000:1000", rootfs), { uid: 1000, gid: 1000, additionalGids: [10, 29] });
    assert.deepEqual(resolveUser("app:0", rootfs), { uid: 1000, gid: 0, additionalGids: [10, 29] });
    assert.deepEqual(resolveUser("65534:app", rootfs), { uid: 65534, gid: 1001, additionalGids: [] });
  });

  it("takes a uid the passwd file does not have, with gid 0, as runc does", () => {
    assert.deepEqual(resolveUser("4242", rootfs), { uid: 4242, gid: 0, additionalGids: [] });
    assert.deepEqual(resolveUser("1000", rootfs), { uid: 1000, gid: 1001, additionalGids: [10, 29] }, "a uid with an entry gets its primary group");
  });

  it("refuses an unknown user or group in docker's words, naming it", () => {
    assert.deepEqual(refusal(() => resolveUser("bob", rootfs)), "unable to find user bob: no matching entries in passwd file");
    assert.deepEqual(refusal(() => resolveUser("nobody:staff", rootfs)), "unable to find group staff: no matching entries in group file");
    assert.deepEqual(refusal(() => resolveUser("nobody", "/nonexistent")), "unable to find user nobody: no matching entries in passwd file");
    assert.match(refusal(() => resolveUser("nobody:", rootfs)), /give NAME, UID, NAME:GROUP or UID:GID/);
  });

  it("resolves a spec's process.user.username in its root.path and drops the name", () => {
    const spec = { ociVersion: "1.0.2", root: { path: rootfs }, process: { args: ["id"], user: { uid: 0, gid: 0, username: "app:nogroup" } } };
    const out = JSON.parse(Buffer.from(resolveSpecUser(new TextEncoder().encode(JSON.stringify(spec)))).toString("utf8")) as typeof spec;
    assert.deepEqual(out.process.user, { uid: 1000, gid: 65534, additionalGids: [10, 29] });
    const plain = new TextEncoder().encode(JSON.stringify({ ...spec, process: { args: ["id"], user: { uid: 5, gid: 6 } } }));
    assert.equal(resolveSpecUser(plain), plain, "a spec without a username is kept byte for byte");
  });
});
