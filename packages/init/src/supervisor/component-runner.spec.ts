import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, beforeEach, describe, it, mock } from "node:test";
import { Code, toConnectError } from "@moby-core/sdk";
import type { Logger } from "@moby-core/sdk";
import { ComponentState } from "@moby-core/supervisor-api/v1";
import { DEFAULTS } from "../manifest/manifest.js";
import type { ComponentSpec, RestartMode } from "../manifest/manifest.js";
import { ComponentRunner } from "./component-runner.js";
import type { LifecycleEvent } from "./component-runner.js";
import { handlerRejection } from "../../../../test/support/rejection.js";

/** The repository root, where a component's `import "@moby-core/sdk"` resolves: this file is packages/init/src/supervisor/. */
const repoRoot = join(import.meta.dirname, "..", "..", "..", "..");

/** One line a runner logged. */
interface Logged {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

/** A runner of `sleep 300` (no socket: it stays STARTING), with its events and log lines. */
function sleeper(restart: RestartMode = "no") {
  const spec: ComponentSpec = {
    name: "sleeper",
    command: ["sleep", "300"],
    env: {},
    workingDir: "/tmp",
    requires: [],
    services: [],
    socket: "/nonexistent/sleeper.sock",
    health: { ...DEFAULTS.health, startPeriodMs: 600_000, startIntervalMs: 600_000 },
    restart: { ...DEFAULTS.restart, mode: restart },
    stopTimeoutMs: 2000,
    config: {},
  };
  const events: LifecycleEvent[] = [];
  const logged: Logged[] = [];
  const log = (level: string) => (fields: Record<string, unknown>, message: string) => logged.push({ level, fields, message });
  const logger = { error: log("error"), warn: log("warn"), info: log("info"), debug: log("debug") } as unknown as Logger;
  const runner = new ComponentRunner(spec, () => process.env, { changed() {}, event: (e) => events.push(e) }, () => {}, logger);
  runners.push(runner);
  return { runner, events, logged, starts: () => events.filter((e) => e.kind === "started").length };
}

/** Every runner a test made, stopped after it so no sleep outlives the tests. */
const runners: ComponentRunner[] = [];

/** The kill of the process, kept before any test replaces it. */
const realKill = process.kill.bind(process);

/** Makes signals to process groups (negative pids) fail with EPERM, for the signals given; others go through. */
function refuseGroupSignals(...signals: NodeJS.Signals[]) {
  mock.method(process, "kill", (pid: number, signal?: NodeJS.Signals | number) => {
    if (pid < 0 && signals.includes(signal as NodeJS.Signals)) {
      throw Object.assign(new Error(`kill EPERM`), { code: "EPERM", errno: -1, syscall: "kill" });
    }
    return realKill(pid, signal);
  });
}

/** Resolves once predicate holds, polling; fails after timeoutMs. */
async function until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Tells whether a process is alive. */
function alive(pid: number): boolean {
  try {
    realKill(pid, 0);
    return true;
  } catch {
    return false;
  }
}


const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
process.on("unhandledRejection", onUnhandled);
after(() => process.off("unhandledRejection", onUnhandled));

afterEach(async () => {
  mock.restoreAll();
  for (const runner of runners.splice(0)) await runner.stop(100);
});

describe("ComponentRunner when a signal cannot be sent to the process group", () => {
  beforeEach(() => unhandled.splice(0));

  it("logs the failure when its process exits and still records the exit", async () => {
    const { runner, logged } = sleeper("no");
    runner.start();
    const pid = runner.pid;
    refuseGroupSignals("SIGKILL");
    realKill(pid, "SIGKILL");
    await until(() => runner.state === ComponentState.FAILED, "the runner sees the exit");
    assert.equal(runner.pid, 0);
    assert.equal(runner.lastExit?.signal, "SIGKILL");
    const line = logged.find((l) => l.level === "error" && /could not send SIGKILL/.test(l.message));
    assert.ok(line, JSON.stringify(logged));
    assert.match(line.message, /EPERM.*init carries on/);
    assert.deepEqual(unhandled, []);
  });

  it("still stops a component whose SIGTERM fails, by SIGKILL after the timeout", async () => {
    const { runner, logged } = sleeper("no");
    runner.start();
    const pid = runner.pid;
    refuseGroupSignals("SIGTERM");
    await runner.stop(200);
    assert.equal(runner.state, ComponentState.STOPPED);
    assert.equal(runner.lastExit?.signal, "SIGKILL");
    assert.equal(alive(pid), false);
    assert.ok(logged.some((l) => /could not send SIGTERM/.test(l.message)), JSON.stringify(logged));
    assert.deepEqual(unhandled, []);
  });
});

describe("ComponentRunner restarts racing stops", () => {
  it("does not start again a component stopped for shutdown while its restart was stopping it", async () => {
    const { runner, starts } = sleeper();
    runner.start();
    const first = runner.pid;
    const restarting = runner.restart();
    // What Supervisor.stopAll does while the restart waits for the exit.
    runner.refuseStarts();
    await runner.stop();
    const error = await handlerRejection(restarting);
    assert.equal(error.code, Code.Unavailable);
    assert.match(error.message, /init is shutting down/);
    assert.equal(runner.state, ComponentState.STOPPED);
    assert.equal(runner.pid, 0);
    assert.equal(starts(), 1, "no second process");
    assert.equal(alive(first), false);
  });

  it("leaves stopped a component an operator stopped while it restarted, and says so", async () => {
    const { runner, starts } = sleeper();
    runner.start();
    const restarting = runner.restart();
    await runner.stop();
    const error = await handlerRejection(restarting);
    assert.equal(error.code, Code.FailedPrecondition);
    assert.match(error.message, /sleeper was stopped by another request while it restarted.*StartComponent/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(runner.state, ComponentState.STOPPED);
    assert.equal(runner.pid, 0);
    assert.equal(starts(), 1, "no second process");
  });

  it("starts one new process for two restarts at once", async () => {
    const { runner, starts } = sleeper();
    runner.start();
    await Promise.all([runner.restart(), runner.restart()]);
    assert.equal(starts(), 2);
    assert.equal(runner.restarts, 1);
    assert.equal(runner.state, ComponentState.STARTING);
  });

  it("refuses to start or restart once init is shutting down", async () => {
    const { runner, starts } = sleeper();
    runner.refuseStarts();
    assert.throws(() => runner.start(), (error: unknown) => toConnectError(error).error.code === Code.Unavailable);
    assert.equal((await handlerRejection(runner.restart())).code, Code.Unavailable);
    assert.equal(starts(), 0);
  });
});

describe("ComponentRunner readiness", () => {
  it("checks as soon as the component's socket appears, not a start interval later", { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "moby-runner-watch-"));
    const socket = join(dir, "watched.sock");
    const spec: ComponentSpec = {
      name: "watched",
      command: [process.execPath, "--input-type=module", "-e", 'import { serveComponent } from "@moby-core/sdk"; await serveComponent({ version: "1.0.0", services: [] });'],
      env: {},
      workingDir: repoRoot,
      requires: [],
      services: [],
      socket,
      // Ten minutes between checks: only the watch of the socket can make it ready within the test.
      health: { ...DEFAULTS.health, startPeriodMs: 600_000, startIntervalMs: 600_000 },
      restart: { ...DEFAULTS.restart, mode: "no" },
      stopTimeoutMs: 2000,
      config: {},
    };
    const events: LifecycleEvent[] = [];
    const logger = { error() {}, warn() {}, info() {}, debug() {} } as unknown as Logger;
    const environment = () => ({ ...process.env, MOBY_SOCKET: socket, MOBY_COMPONENT_NAME: "watched" });
    const runner = new ComponentRunner(spec, environment, { changed() {}, event: (e) => events.push(e) }, () => {}, logger);
    runners.push(runner);
    try {
      runner.start();
      await until(() => runner.state === ComponentState.RUNNING, "it is ready", 100_000);
      assert.deepEqual(events.map((e) => e.kind), ["started", "ready"]);
      assert.equal(runner.info?.version, "1.0.0");
    } finally {
      await runner.stop(2000);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
