// The test support's own promises, on real processes: an OwnedProcess dies
// with the process that started it, even one killed with SIGKILL; stop()
// escalates to SIGKILL, wakes a paused process so it can act on SIGTERM, and
// ends the whole group of a group leader; a binary that is not installed
// fails the start naming it. And teardown() runs every step when an earlier
// one throws or hangs, then names each that failed.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { OwnedProcess } from "./owned-process.js";
import { teardown } from "./teardown.js";

const started: OwnedProcess[] = [];
const strays: number[] = [];
after(async () => {
  for (const pid of strays) if (runs(pid)) process.kill(pid, "SIGKILL");
  await Promise.all(started.map((p) => p.stop("SIGKILL")));
});

/** Starts an OwnedProcess that ends with this test file. */
function own(command: string, args: string[], options?: ConstructorParameters<typeof OwnedProcess>[2]): OwnedProcess {
  const owned = new OwnedProcess(command, args, options);
  started.push(owned);
  return owned;
}

/** Whether pid is a process that runs (not ended, not a zombie waiting to be reaped). */
function runs(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "")[0] !== "Z";
  } catch {
    return false;
  }
}

/** Polls until check holds, failing with what after timeoutMs. */
async function eventually(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A Node program that runs until killed: it prints "ready" once its SIGTERM handler (exit 0) is set. */
const HANDLES_SIGTERM = `process.on("SIGTERM", () => process.exit(0)); console.log("ready"); setInterval(() => {}, 1000);`;

describe("OwnedProcess", () => {
  it("dies with the process that started it, also when that one is killed with SIGKILL", async () => {
    // A parent of its own that starts a sleep as an OwnedProcess, prints its pid, and is then killed -9.
    const program = `
      import { OwnedProcess } from ${JSON.stringify(new URL("./owned-process.ts", import.meta.url).href)};
      const sleeper = new OwnedProcess("sleep", ["1000"]);
      console.log("pid " + sleeper.pid);
      setInterval(() => {}, 1000);`;
    const parent = own(process.execPath, ["--import", "tsx", "--input-type=module", "-e", program]);
    await eventually(() => /pid \d+\n/.test(parent.output) || !parent.running, "the parent printed the pid of its child");
    const pid = Number(/pid (\d+)\n/.exec(parent.output)?.[1]);
    assert.ok(pid > 0, `the parent started its child: ${parent.output}`);
    strays.push(pid);
    assert.ok(runs(pid));
    assert.deepEqual(await parent.stop("SIGKILL"), { code: null, signal: "SIGKILL" });
    await eventually(() => !runs(pid), `the orphan ${pid} is gone`);
  });

  it("SIGKILLs a process that ignores the signal once the grace period has passed", async () => {
    const stubborn = own("sh", ["-c", `trap "" TERM; echo ready; while :; do sleep 1; done`]);
    await eventually(() => stubborn.output.includes("ready"), "the trap is set");
    assert.deepEqual(await stubborn.stop("SIGTERM", 200), { code: null, signal: "SIGKILL" });
    assert.equal(stubborn.running, false);
  });

  it("continues a paused (SIGSTOP) process on stop, so that it handles SIGTERM itself", async () => {
    const paused = own(process.execPath, ["-e", HANDLES_SIGTERM]);
    await eventually(() => paused.output.includes("ready"), "the handler is set");
    paused.signal("SIGSTOP");
    await eventually(() => readFileSync(`/proc/${paused.pid}/stat`, "utf8").replace(/^.*\) /s, "")[0] === "T", "it is stopped");
    // Without the SIGCONT it would sleep through the grace period and end with SIGKILL.
    assert.deepEqual(await paused.stop("SIGTERM", 60_000), { code: 0, signal: null });
  });

  it("ends the whole group of a group leader, also what outlives the leader", async () => {
    const leader = own("sh", ["-c", `sleep 1000 & echo "child $!"; trap "exit 0" TERM; while :; do sleep 1; done`], { group: true });
    await eventually(() => /child \d+\n/.test(leader.output), "the leader started its child");
    const child = Number(/child (\d+)\n/.exec(leader.output)![1]);
    strays.push(child);
    await leader.stop("SIGTERM");
    await eventually(() => !runs(child), `the group's ${child} is gone`);
  });

  it("fails the start of a binary that is not installed with a message naming it", () => {
    assert.throws(() => own("moby-no-such-binary", []), { message: "cannot start moby-no-such-binary: not found on PATH (is it installed?)" });
    assert.throws(() => own("/nonexistent/nats-server", []), { message: "cannot start /nonexistent/nats-server: no executable file there (is it installed?)" });
  });
});

describe("teardown", () => {
  it("runs every step after one that throws and one that hangs, then names both", async () => {
    const ran: string[] = [];
    const ending = teardown(
      [
        ["the clients", () => void ran.push("clients")],
        ["node A", () => Promise.reject(new Error("init would not stop"))],
        ["node B", () => new Promise(() => ran.push("B"))],
        ["the cluster", async () => void ran.push("cluster")],
      ],
      300,
    );
    await assert.rejects(ending, (error: AggregateError) => {
      assert.deepEqual(
        error.errors.map((e: Error) => e.message),
        ["teardown: node A: init would not stop", "teardown: node B: did not finish within 300 ms"],
      );
      return true;
    });
    assert.deepEqual(ran, ["clients", "B", "cluster"]);
  });

  it("resolves when every step does", async () => {
    await teardown([["nothing", () => undefined]]);
  });
});
