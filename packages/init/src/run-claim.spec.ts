import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Logger } from "@moby-core/sdk";
import { CLAIM_FILE, RunClaim, StartRefusedError, processStartTicks } from "./run-claim.js";

const dir = mkdtempSync(join(tmpdir(), "moby-run-claim-"));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** A logger that keeps its lines. */
function keeping() {
  const lines: string[] = [];
  const log = (_fields: unknown, message: string) => lines.push(message);
  return { lines, logger: { error: log, warn: log, info: log, debug: log } as unknown as Logger };
}

/** A `sleep` in a process group of its own, as init starts a component; resolves once it has started. */
async function sleeper(): Promise<ChildProcess & { ended: Promise<NodeJS.Signals | null> }> {
  const child = spawn("sleep", ["300"], { detached: true, stdio: "ignore" });
  children.push(child);
  await new Promise((resolve) => child.once("spawn", resolve));
  const ended = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
  return Object.assign(child, { ended });
}

/** A new run directory with init.json holding record. */
function runDirWith(name: string, record: unknown): string {
  const runDir = mkdtempSync(join(dir, `${name}-`));
  writeFileSync(join(runDir, CLAIM_FILE), JSON.stringify(record));
  return runDir;
}

describe("RunClaim.take", () => {
  it("refuses a run directory whose record names a live init, with its pid, and changes nothing", async () => {
    const other = await sleeper();
    const record = { pid: other.pid, startTicks: processStartTicks(other.pid!), components: {} };
    const runDir = runDirWith("live", record);
    const { logger } = keeping();
    await assert.rejects(RunClaim.take(runDir, join(runDir, "init.sock"), logger), (error: Error) => {
      assert.ok(error instanceof StartRefusedError);
      assert.equal(error.message, `another moby-init (pid ${other.pid}) runs on ${runDir}; stop it first (kill ${other.pid}) or use another --run-dir`);
      return true;
    });
    assert.deepEqual(JSON.parse(readFileSync(join(runDir, CLAIM_FILE), "utf8")), record);
    other.kill("SIGKILL");
  });

  it("stops the live components of a dead init's record with SIGTERM to their group, leaves a reused pid alone, and records itself", async () => {
    const left = await sleeper();
    const reused = await sleeper();
    const record = {
      pid: 999_999_999,
      startTicks: "1",
      components: {
        left: { pid: left.pid, startTicks: processStartTicks(left.pid!), stopTimeoutMs: 5000 },
        // Its pid runs, but started at another time: another process has the pid now.
        reused: { pid: reused.pid, startTicks: "1", stopTimeoutMs: 5000 },
      },
    };
    const runDir = runDirWith("dead", record);
    const { logger, lines } = keeping();
    const claim = await RunClaim.take(runDir, join(runDir, "init.sock"), logger);
    assert.equal(await left.ended, "SIGTERM");
    assert.equal(reused.exitCode, null, "a process that only shares a recorded pid is not touched");
    assert.equal(reused.signalCode, null);
    assert.deepEqual(lines, [`component left (pid ${left.pid}) of an earlier init (pid 999999999, gone) still runs: stopping it before starting its own`]);
    assert.deepEqual(JSON.parse(readFileSync(join(runDir, CLAIM_FILE), "utf8")), { pid: process.pid, startTicks: processStartTicks(process.pid), components: {} });
    claim.release();
    assert.throws(() => readFileSync(join(runDir, CLAIM_FILE)), /ENOENT/, "released: the file is gone");
    reused.kill("SIGKILL");
  });
});
