// init takeover after kill -9 of init, with real processes: the killed
// init's components shut down by themselves through its pipe, and a new init
// on the same run directory starts its own and supervises every component
// it reports; a component that does not watch the pipe is stopped by the new
// init before it starts its own. Every process a test starts is ended by
// pid afterwards, even on failure.
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ComponentService, Health } from "@moby-core/component-api/v1";
import { dialSocket } from "@moby-core/sdk";
import { ComponentState } from "@moby-core/supervisor-api/v1";
import type { Component } from "@moby-core/supervisor-api/v1";
import { Assembly, behaving } from "../support/assembly.js";
import { alive } from "../support/component-process.js";

const running = (c: Component) => c.state === ComponentState.RUNNING && c.health === Health.SERVING;

/** Every pid a test started or saw started, killed after the tests whatever happened. */
const pids = new Set<number>();
after(() => {
  for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
});

/** Notes the pids of an assembly's init and of every component it recorded, for the cleanup. */
function track(assembly: Assembly): void {
  pids.add(assembly.init.pid);
  for (const entry of assembly.record()) pids.add(entry.pid);
}

/** The parent pid of pid, from /proc. */
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

/** Tells whether pid runs: alive and not a zombie (an orphan's zombie waits for whoever reaps orphans here). */
function runs(pid: number): boolean {
  try {
    return alive(pid) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return false;
  }
}

/** Resolves once none of pids runs; fails with the live ones after timeoutMs. */
async function allEnded(list: number[], what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const live = () => list.filter(runs);
  while (live().length > 0) {
    if (Date.now() > deadline) assert.fail(`${what}: still alive: ${live().join(", ")}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const TWO = `
components:
  a:
${behaving()}
  b:
${behaving()}
    requires: [a]
`;

describe("kill -9 of init", () => {
  let first: Assembly;
  let second: Assembly | undefined;
  after(async () => {
    if (second !== undefined) {
      track(second);
      await second.shutdown();
    }
    if (first !== undefined) track(first);
    first?.remove();
  });

  it("its components learn that init is gone and shut down by themselves, exiting 0", async () => {
    first = await Assembly.boot(TWO);
    track(first);
    const before = [await first.until("a", running), await first.until("b", running)];
    track(first);
    first.connection.close();
    process.kill(first.init.pid, "SIGKILL");
    await first.init.exited;
    await allEnded(before.map((c) => c.pid), "the components of the killed init");
    for (const component of before) {
      assert.ok(first.record().some((e) => e.pid === component.pid && e.event === "exit:0"), `${component.name} exited 0 on its own`);
      assert.ok(!first.record().some((e) => e.pid === component.pid && e.event === "sigterm"), `${component.name} got no signal`);
    }
  });

  it("a new init on the same run directory starts its own components, each its child, and reports them healthy", async (t) => {
    const old = first.record().map((e) => e.pid);
    const started = Date.now();
    second = await Assembly.boot(TWO, first);
    track(second);
    const now = [await second.until("a", running), await second.until("b", running)];
    t.diagnostic(`time to healthy after the takeover: ${Date.now() - started} ms`);
    track(second);
    for (const component of now) {
      assert.ok(!old.includes(component.pid), `${component.name} is a new process`);
      assert.equal(parentOf(component.pid), second.init.pid, `${component.name} is a child of the new init`);
      const socket = dialSocket(join(second.runDir, `${component.name}.sock`));
      const { info } = await socket.client(ComponentService).getInfo({});
      socket.close();
      assert.equal(info?.pid, component.pid, `the process serving on ${component.name}.sock is the one init reports`);
    }
    assert.equal(statSync(second.runDir).mode & 0o777, 0o700, "the run directory init created is 0700");
  });

});

describe("an earlier init's component that does not watch the pipe", () => {
  let first: Assembly;
  let second: Assembly | undefined;
  after(async () => {
    if (second !== undefined) {
      track(second);
      await second.shutdown();
    }
    if (first !== undefined) track(first);
    first?.remove();
  });

  it("is stopped by the next init (SIGTERM) before it starts its own, which becomes ready", async () => {
    const manifest = `
components:
  deaf:
${behaving("ignore-init")}
    restart: { policy: on-failure, startLimitBurst: 2 }
`;
    first = await Assembly.boot(manifest);
    const orphan = await first.until("deaf", running);
    track(first);
    first.connection.close();
    process.kill(first.init.pid, "SIGKILL");
    await first.init.exited;
    assert.ok(runs(orphan.pid), "it serves on as an orphan");

    second = await Assembly.boot(manifest, first);
    track(second);
    const now = await second.until("deaf", running);
    track(second);
    assert.notEqual(now.pid, orphan.pid);
    assert.equal(runs(orphan.pid), false, "the orphan was stopped");
    assert.ok(second.record().some((e) => e.pid === orphan.pid && e.event === "sigterm"), "it was asked to stop with SIGTERM");
    assert.equal(now.restarts, 0, "the new process started once: it never found its socket in use");
    assert.match(second.init.output, new RegExp(`component deaf \\(pid ${orphan.pid}\\) of an earlier init .* still runs: stopping it`));
  });
});
