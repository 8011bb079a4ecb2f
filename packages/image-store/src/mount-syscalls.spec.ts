import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { MountSyscallError, mountSyscalls } from "./mount-syscalls.js";
import { MOUNT_OPTIONS_MAX, isMounted, makeRootfsDirs, mountOverlay, unmount } from "./rootfs-mounts.js";

const root = process.getuid?.() === 0 && process.platform === "linux";

describe("mount syscalls", { skip: root ? false : "needs root on Linux" }, () => {
  const dir = mkdtempSync(join(tmpdir(), "moby-mount-syscalls-"));
  after(async () => {
    for (const path of readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "").filter((p) => p.startsWith(dir)).reverse()) {
      await unmount(path);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("loads on this machine", () => {
    assert.ok(mountSyscalls(), "koffi loads the C library");
  });

  it("mounts overlayfs by mount(2) and unmounts it by umount2(2)", async () => {
    const lowerRoot = join(dir, "snapshots");
    mkdirSync(join(lowerRoot, "a", "fs"), { recursive: true });
    mkdirSync(join(lowerRoot, "b", "fs"), { recursive: true });
    writeFileSync(join(lowerRoot, "a", "fs", "file"), "bottom");
    writeFileSync(join(lowerRoot, "b", "fs", "file"), "top");
    const { upper, work, merged } = makeRootfsDirs(join(dir, "rootfs"));
    await mountOverlay(lowerRoot, ["b/fs", "a/fs"], upper, work, merged);
    assert.equal(isMounted(merged), true);
    assert.equal(readFileSync(join(merged, "file"), "utf8"), "top", "the first lower is the top one");
    writeFileSync(join(merged, "new"), "written");
    assert.equal(readFileSync(join(upper, "new"), "utf8"), "written", "writes land in upper");
    await unmount(merged);
    assert.equal(isMounted(merged), false);
    await unmount(merged); // not mounted: nothing to do
  });

  it("names the errno when the kernel refuses", async () => {
    const syscalls = mountSyscalls()!;
    const target = join(dir, "not-a-mount");
    mkdirSync(target);
    await assert.rejects(syscalls.unmount(target, 0), (error: unknown) => {
      assert.ok(error instanceof MountSyscallError);
      assert.equal(error.code, "EINVAL");
      assert.match(error.message, /not-a-mount: EINVAL \(Invalid argument\)/);
      return true;
    });
    await assert.rejects(syscalls.mount("overlay", target, "overlay", 0, `lowerdir=${join(dir, "missing")}`), (error: unknown) => {
      assert.ok(error instanceof MountSyscallError);
      assert.equal(error.code, "ENOENT");
      return true;
    });
  });

  it("mounts layers whose absolute paths do not fit in one page of options (by `mount` in their root)", async () => {
    const lowerRoot = join(dir, "many-snapshots-with-a-long-directory-name-to-make-each-absolute-path-long");
    const lowers: string[] = [];
    for (let i = 0; i < 40; i++) {
      const name = `${String(i).padStart(2, "0")}${"x".repeat(20)}/fs`;
      mkdirSync(join(lowerRoot, name), { recursive: true });
      writeFileSync(join(lowerRoot, name, `file-${i}`), String(i));
      lowers.unshift(name);
    }
    const absolute = lowers.map((lower) => join(lowerRoot, lower)).join(":");
    assert.ok(absolute.length > MOUNT_OPTIONS_MAX, "the absolute paths are over the limit");
    const { upper, work, merged } = makeRootfsDirs(join(dir, "rootfs-many"));
    await mountOverlay(lowerRoot, lowers, upper, work, merged);
    assert.equal(isMounted(merged), true);
    assert.equal(readFileSync(join(merged, "file-0"), "utf8"), "0");
    assert.equal(readFileSync(join(merged, "file-39"), "utf8"), "39");
    await unmount(merged);
    assert.equal(isMounted(merged), false);
  });
});
