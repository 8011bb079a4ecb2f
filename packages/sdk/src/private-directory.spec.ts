import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ensurePrivateDirectory } from "./private-directory.js";

const dir = mkdtempSync(join(tmpdir(), "moby-private-directory-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("ensurePrivateDirectory", () => {
  it("creates a missing directory, and its parents, with mode 0700 exactly, whatever the umask", () => {
    const path = join(dir, "made", "run");
    const umask = process.umask(0o277);
    try {
      ensurePrivateDirectory(path);
    } finally {
      process.umask(umask);
    }
    assert.equal(statSync(path).mode & 0o777, 0o700);
  });

  it("accepts an existing directory of 0700 or less, and a symbolic link to one", () => {
    const path = join(dir, "tight");
    mkdirSync(path, { mode: 0o700 });
    ensurePrivateDirectory(path);
    chmodSync(path, 0o500);
    ensurePrivateDirectory(path);
    chmodSync(path, 0o700);
    symlinkSync(path, join(dir, "link"));
    ensurePrivateDirectory(join(dir, "link"));
  });

  for (const mode of [0o755, 0o750, 0o701, 0o1777]) {
    it(`refuses an existing directory of mode ${mode.toString(8)}, naming it, its mode and the fix, and leaves it as it is`, () => {
      const path = join(dir, `loose-${mode.toString(8)}`);
      mkdirSync(path);
      chmodSync(path, mode);
      const shown = (mode & 0o777).toString(8).padStart(4, "0");
      assert.throws(() => ensurePrivateDirectory(path, "run directory"), {
        message: `run directory ${path} has mode ${shown}, more open than 0700: other users could reach its sockets and state; run chmod 700 ${path}`,
      });
      assert.equal(statSync(path).mode & 0o7777, mode);
    });
  }

  it("refuses a path that is not a directory", () => {
    const path = join(dir, "file");
    writeFileSync(path, "");
    assert.throws(() => ensurePrivateDirectory(path, "state directory"), { message: `state directory ${path} exists and is not a directory` });
  });

  it("refuses a directory owned by another user", { skip: process.getuid?.() === 0 ? false : "needs root to chown" }, async () => {
    const { chownSync } = await import("node:fs");
    const path = join(dir, "theirs");
    mkdirSync(path, { mode: 0o700 });
    chownSync(path, 65534, 65534);
    assert.throws(() => ensurePrivateDirectory(path), { message: new RegExp(`^directory ${path} is owned by uid 65534, not by this process's uid 0`) });
  });
});
