// moby-init with real child processes: boot order of a diamond, parallel
// start, the environment passed, restarts after kill -9 and after failed
// health checks, a crash loop stopped by the start limit, shutdown order, no
// orphans and no leftover sockets.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Health } from "@moby-core/component-api/v1";
import { dialComponent } from "@moby-core/sdk";
import { ComponentState } from "@moby-core/supervisor-api/v1";
import { alive, scratchDirectory } from "../support/component-process.js";
import { Assembly, behaving } from "../support/assembly.js";

const running = (c: { state: ComponentState; health: Health }) => c.state === ComponentState.RUNNING && c.health === Health.SERVING;

describe("a diamond of dependencies", () => {
  let assembly: Assembly;
  after(() => assembly?.remove());

  it("starts each component once what it requires is ready, independent ones in parallel", async () => {
    assembly = await Assembly.boot(`
components:
  d:
${behaving()}
    requires: [b, c]
  b:
${behaving("start-delay:2000")}
    requires: [a]
  c:
${behaving("start-delay:2000")}
    requires: [a]
    config: { answer: 42 }
  a:
${behaving()}
`);
    await assembly.until("d", running);
    const at = (name: string, event: "start" | "serving") => assembly.entry(name, event).time;
    assert.ok(at("b", "start") >= at("a", "serving"), "b starts after a is ready");
    assert.ok(at("c", "start") >= at("a", "serving"), "c starts after a is ready");
    // Each waits 2 s before serving: the other starts within that time however loaded the machine is.
    assert.ok(at("c", "start") < at("b", "serving") && at("b", "start") < at("c", "serving"), "b and c start in parallel");
    assert.ok(at("d", "start") >= Math.max(at("b", "serving"), at("c", "serving")), "d starts after b and c are ready");
  });

  it("gives each component its socket, the registry's and one variable per requirement", () => {
    const { env } = assembly.entry("d", "start");
    assert.equal(env.MOBY_COMPONENT_NAME, "d");
    assert.equal(env.MOBY_SOCKET, join(assembly.runDir, "d.sock"));
    assert.equal(env.MOBY_REGISTRY_ENDPOINT, join(assembly.runDir, "init.sock"));
    assert.equal(env.MOBY_RUN_DIR, assembly.runDir);
    assert.equal(env.MOBY_ENDPOINT_B, join(assembly.runDir, "b.sock"));
    assert.equal(env.MOBY_ENDPOINT_C, join(assembly.runDir, "c.sock"));
    assert.equal(env.MOBY_ENDPOINT_A, undefined, "only what it requires");
    assert.equal(assembly.entry("c", "start").env.MOBY_COMPONENT_CONFIG, JSON.stringify({ answer: 42 }));
  });

  it("lists components in start order and resolves them through the registry", async () => {
    const { components } = await assembly.supervisor.listComponents({});
    assert.deepEqual(components.map((c) => c.name), ["init", "a", "b", "c", "d"]);
    const { registration } = await assembly.registry.getRegistration({ component: "b" });
    assert.equal(registration?.socketPath, join(assembly.runDir, "b.sock"));
    assert.equal(registration?.version, "1.0.0");
    assert.equal(registration?.ready, true);
    const connection = await dialComponent("c", { registrySocket: join(assembly.runDir, "init.sock") });
    await connection.waitForHealthy("", 5000);
    connection.close();
    // As the CLI finds init: init.sock in $MOBY_RUN_DIR.
    const found = await dialComponent("d", { env: { MOBY_RUN_DIR: assembly.runDir } });
    await found.waitForHealthy("", 5000);
    found.close();
  });

  it("restarts a component killed with SIGKILL, and it is healthy again", async () => {
    const before = await assembly.component("b");
    process.kill(before.pid, "SIGKILL");
    const after = await assembly.until("b", (c) => running(c) && c.pid !== before.pid);
    assert.equal(after.restarts, 1);
    assert.deepEqual([after.lastExit?.exitCode, after.lastExit?.signal], [137, "SIGKILL"], "128 + 9, as every API says it");
    assert.equal(alive(before.pid), false);
  });

  it("stops in reverse dependency order, leaves no process and no socket", async () => {
    const pids = assembly.record().map((e) => e.pid);
    const exit = await assembly.shutdown();
    assert.deepEqual(exit, { code: 0, signal: null });
    const stopped = (name: string) => assembly.record().filter((e) => e.name === name && e.event === "sigterm").at(-1)!.time;
    assert.ok(stopped("d") <= stopped("b") && stopped("d") <= stopped("c"), "d before b and c");
    assert.ok(stopped("b") <= stopped("a") && stopped("c") <= stopped("a"), "b and c before a");
    assert.deepEqual(pids.filter(alive), [], "no component process outlives init");
    assert.deepEqual(readdirSync(assembly.runDir).filter((f) => f.endsWith(".sock")), [], "no socket left");
  });
});

describe("restart policies", () => {
  let assembly: Assembly;
  after(async () => {
    await assembly?.shutdown();
    assembly?.remove();
  });

  it("restarts a component that turns unhealthy once its retries are used up", async () => {
    assembly = await Assembly.boot(`
components:
  sick:
${behaving("unhealthy-after:300")}
    health: { interval: 100ms, timeout: 1s, retries: 2, startPeriod: 10s, startInterval: 50ms }
    restart: { policy: on-failure, delay: 50ms, startLimitBurst: 10 }
  loop:
${behaving("exit:3")}
    restart: { policy: always, delay: 10ms, maxDelay: 40ms, startLimitBurst: 3, startLimitInterval: 1m }
  once:
${behaving("exit:0")}
    restart: { policy: on-failure }
  ghost:
    command: ["moby-no-such-program"]
    restart: { policy: on-failure, delay: 10ms, startLimitBurst: 2 }
  nowhere:
    command: ["node", "-e", "0"]
    workingDir: /nonexistent/moby-dir
    restart: { policy: "no" }
`);
    const sick = await assembly.until("sick", (c) => c.restarts >= 1 && running(c));
    assert.ok(sick.restarts >= 1);
    const starts = assembly.record().filter((e) => e.name === "sick" && e.event === "start");
    assert.ok(starts.length >= 2, "a new process was started");
  });

  it("marks a crash-looping component failed after its start limit, and stops restarting it", async () => {
    const failed = await assembly.until("loop", (c) => c.state === ComponentState.FAILED);
    assert.match(failed.message, /start limit hit: 3 starts/);
    assert.equal(failed.lastExit?.exitCode, 3);
    const starts = () => assembly.record().filter((e) => e.name === "loop" && e.event === "start").length;
    const counted = starts();
    assert.equal(counted, 3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(starts(), counted, "no restart after failing");
  });

  it("leaves a component that exited 0 under on-failure stopped", async () => {
    const once = await assembly.until("once", (c) => c.state === ComponentState.STOPPED);
    assert.equal(once.restarts, 0);
    assert.equal(once.lastExit?.exitCode, 0);
  });

  it("says what could not be spawned and why, with no exit for a process that never ran", async () => {
    const ghost = await assembly.until("ghost", (c) => c.state === ComponentState.FAILED);
    assert.match(ghost.message, /"moby-no-such-program" was not found on PATH \(ENOENT\)/);
    assert.equal(ghost.lastExit, undefined);
    const nowhere = await assembly.until("nowhere", (c) => c.state !== ComponentState.STARTING && c.state !== ComponentState.PENDING);
    assert.match(nowhere.message, /the working directory \/nonexistent\/moby-dir does not exist/);
    assert.equal(nowhere.lastExit, undefined);
  });

  it("starts a failed component again on request, with a fresh start limit", async () => {
    const { component } = await assembly.supervisor.startComponent({ name: "loop" });
    assert.notEqual(component?.state, ComponentState.FAILED);
    await assembly.until("loop", (c) => c.state === ComponentState.FAILED);
  });
});

describe("a manifest with mistakes", () => {
  it("reports all of them with line and field, exits 2 and starts nothing", async () => {
    const scratch = scratchDirectory("moby-assembly-");
    after(() => scratch.remove());
    const assembly = Assembly.boot(`
components:
  a:
${behaving()}
    requires: [ghost]
    helth: { interval: 5s }
  b:
    env: { X: "1" }
  c:
${behaving()}
    requires: [d]
    stopTimeout: soon
  d:
${behaving()}
    requires: [c]
`, scratch);
    await assert.rejects(assembly, (error: Error) => {
      assert.match(error.message, /process exited before serving/);
      assert.match(error.message, /moby\.yaml:\d+:\d+: components\.a\.requires: .*ghost/);
      assert.match(error.message, /moby\.yaml:\d+:\d+: components\.a\.helth/);
      assert.match(error.message, /components\.b\.command/);
      assert.match(error.message, /components\.c\.stopTimeout: .*soon/);
      assert.match(error.message, /dependency cycle: (c -> d -> c|d -> c -> d)/);
      assert.match(error.message, /nothing was started/);
      return true;
    });
  });
});

describe("logs", () => {
  it("captures each component's output, prefixed with its name in init's output and kept for the API", async () => {
    const assembly = await Assembly.boot(`
components:
  talker:
${behaving()}
`);
    try {
      await assembly.until("talker", running);
      const lines: string[] = [];
      for await (const line of assembly.supervisor.readComponentLogs({ name: "talker" })) lines.push(line.line);
      assert.ok(lines.includes("talker is serving"), lines.join("\n"));
      assert.match(assembly.init.output, /^\[talker\] talker is serving$/m);
      assert.match(assembly.init.output, /^\[talker\] \{"level":30,.*"component":"talker".*"msg":"serving"\}$/m, "JSON lines as they are");
      await assembly.init.waitForOutput(/"component":"init",.*"msg":"assembly ready: 1 component serving after [\d.]+ s; run dir /);
    } finally {
      await assembly.shutdown();
      assembly.remove();
    }
  });

  it("makes every JSON log line readable with --log-format pretty, and says once when the assembly is ready", async () => {
    const assembly = await Assembly.boot(
      `
components:
  talker:
${behaving()}
`,
      undefined,
      ["--log-format", "pretty"],
    );
    try {
      await assembly.until("talker", running);
      await assembly.init.waitForOutput(/assembly ready/);
      const output = assembly.init.output;
      assert.match(output, /^\[[\d:.]+\] INFO: \[talker\] serving \{"socket":/m);
      assert.match(output, /^\[talker\] talker is serving$/m, "a line that is not JSON keeps the component's name");
      assert.match(output, /^\[[\d:.]+\] INFO: \[init\] assembly ready: 1 component serving after [\d.]+ s; run dir .+; list them with: moby --run-dir .+ components/m);
      assert.equal(output.match(/assembly ready/g)?.length, 1);
      assert.ok(!/^\{"level"/m.test(output), "no raw JSON line");
    } finally {
      await assembly.shutdown();
      assembly.remove();
    }
  });
});

