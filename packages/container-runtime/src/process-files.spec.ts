// The process files and process identities: the created file with and
// without the process's start time, and killing a shim's process group only
// while the recorded shim is what holds its pid. Needs Linux, not root.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, describe, it } from "node:test";
import { groupMembers, killShimGroup, processStartTime, readCreatedFile, readExitFile } from "./process-files.js";

const dir = mkdtempSync(join(tmpdir(), "moby-pf-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the created file", () => {
  it("carries the pid and, from current shims, the start time", () => {
    writeFileSync(join(dir, "created"), "ok 1234 98765\n");
    assert.deepEqual(readCreatedFile(dir), { ok: true, pid: 1234, startTime: "98765" });
    writeFileSync(join(dir, "created"), "ok 1234\n");
    assert.deepEqual(readCreatedFile(dir), { ok: true, pid: 1234 }, "a shim of an older runtime");
    writeFileSync(join(dir, "created"), "ok 1234 junk\n");
    assert.deepEqual(readCreatedFile(dir), { ok: true, pid: 1234 });
    writeFileSync(join(dir, "created"), "fail 256\nno such file\n");
    assert.deepEqual(readCreatedFile(dir), { ok: false, status: 256, message: "no such file" });
  });
});

describe("the exit file", () => {
  it("is a wait status and a time, and absent or empty means the process has not been seen to end", () => {
    const dir = mkdtempSync(join(tmpdir(), "moby-exit-file-"));
    try {
      assert.equal(readExitFile(dir), undefined, "absent");
      writeFileSync(join(dir, "exit"), "");
      assert.equal(readExitFile(dir), undefined, "empty: still being written, never status 0");
      writeFileSync(join(dir, "exit"), "256 1700000000000000\n");
      assert.deepEqual(readExitFile(dir), { status: 256, timeUs: 1700000000000000 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("killShimGroup", { skip: process.platform === "linux" ? false : "needs Linux" }, () => {
  let leader: ChildProcess | undefined;
  afterEach(() => {
    if (leader?.pid !== undefined) {
      try {
        process.kill(-leader.pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  });

  /** A detached shell (its own session and group, as a shim) with a child in its group. */
  async function group(): Promise<ChildProcess> {
    leader = spawn("sh", ["-c", "sleep 1000 & wait"], { detached: true, stdio: "ignore" });
    await until(() => groupMembers(leader!.pid!).length === 2, "the group's two processes");
    return leader;
  }

  it("kills the shim and the rest of its group", async () => {
    const shim = await group();
    assert.equal(killShimGroup({ pid: shim.pid!, startTime: processStartTime(shim.pid!)! }), true);
    await until(() => groupMembers(shim.pid!).length === 0, "the group to be gone");
  });

  it("signals nothing when the pid is another process's now", async () => {
    const other = await group();
    const reused = { pid: other.pid!, startTime: String(Number(processStartTime(other.pid!)) - 1) };
    assert.equal(killShimGroup(reused), false);
    assert.equal(groupMembers(other.pid!).length, 2, "the other group is untouched");
    assert.equal(killShimGroup(undefined), false);
  });
});
