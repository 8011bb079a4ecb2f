// The runc wrapper with fake runc binaries (shell scripts): a runc that
// hangs is killed at the timeout and answered DEADLINE_EXCEEDED naming the
// command, not "cannot run"; a runc killed by a signal from elsewhere is
// UNAVAILABLE; a runc that cannot be started, or that fails, is
// FAILED_PRECONDITION. Needs a POSIX shell, not root.
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { ComponentError } from "@moby-core/sdk";
import { processStartTime } from "./process-files.js";
import { Runc, RuncTimeoutError } from "./runc.js";

const dir = mkdtempSync(join(tmpdir(), "moby-runc-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes an executable fake runc whose body is script. */
function fakeRunc(name: string, script: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** The error promise rejects with; fails when it resolves. */
async function failure(promise: Promise<unknown>): Promise<ComponentError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ComponentError, `expected a ComponentError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected a rejection");
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("runc", { skip: process.platform === "win32" ? "needs a POSIX shell" : false }, () => {
  it("kills a runc that does not answer in time and answers DEADLINE_EXCEEDED naming the command", async () => {
    const pidFile = join(dir, "hung.pid");
    // Ignores SIGTERM too, as a runc stuck in the kernel would seem to.
    const hung = fakeRunc("hung", `echo $$ > ${pidFile}\ntrap '' TERM\nexec sleep 1000`);
    const runc = new Runc(hung, join(dir, "root"), 300);
    const error = await failure(runc.state("c1"));
    assert.ok(error instanceof RuncTimeoutError);
    assert.equal(error.code, Code.DeadlineExceeded);
    assert.match(error.message, /^runc state did not answer within 0\.3 s and was killed/);
    assert.ok(error.message.includes(`${hung} --root ${join(dir, "root")} state c1`), error.message);
    assert.doesNotMatch(error.message, /cannot run/);
    const pid = Number(readFileSync(pidFile, "utf8"));
    await until(() => processStartTime(pid) === undefined, "the hung runc to be killed");
  });

  it("takes a timeout per call", async () => {
    const runc = new Runc(fakeRunc("slow", "exec sleep 1000"), join(dir, "root"));
    assert.equal(runc.timeoutMs, 60_000);
    const error = await failure(runc.run(["list", "--format", "json"], 200));
    assert.equal(error.code, Code.DeadlineExceeded);
    assert.match(error.message, /^runc list did not answer within 0\.2 s/);
  });

  it("answers UNAVAILABLE when runc is killed by a signal from elsewhere", async () => {
    const runc = new Runc(fakeRunc("killed", "kill -9 $$"), join(dir, "root"));
    const error = await failure(runc.pause("c1"));
    assert.equal(error.code, Code.Unavailable);
    assert.match(error.message, /^runc pause was killed by SIGKILL before it finished/);
  });

  it("answers FAILED_PRECONDITION when runc cannot be run", async () => {
    const missing = join(dir, "no-such-runc");
    const error = await failure(new Runc(missing, join(dir, "root")).start("c1"));
    assert.equal(error.code, Code.FailedPrecondition);
    assert.ok(error.message.startsWith(`cannot run ${missing}: `), error.message);
  });

  it("passes runc's exit status and message on, and a missing container as undefined", async () => {
    const runc = new Runc(
      fakeRunc("failing", `case "$3" in state) echo 'time="x" level=error msg="container does not exist"' >&2; exit 1;; *) echo '{"msg":"boom"}' >&2; exit 2;; esac`),
      join(dir, "root"),
    );
    assert.equal(await runc.state("c1"), undefined);
    const error = await failure(runc.kill("c1", 9));
    assert.equal(error.code, Code.FailedPrecondition);
    assert.equal(error.message, "runc kill failed: boom");
    assert.deepEqual(await runc.run(["pause", "c1"]), { code: 2, stdout: "", stderr: '{"msg":"boom"}\n' });
  });
});
