// What init refuses or never takes for healthy, with real processes: a second
// init on a live run directory, a run directory more open than 0700, a
// process init did not start answering on a component's socket, and a
// component that cannot accept a new connection. Every process a test
// starts is ended by pid afterwards, even on failure.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Health } from "@moby-core/component-api/v1";
import { ComponentState } from "@moby-core/supervisor-api/v1";
import type { Component } from "@moby-core/supervisor-api/v1";
import { Assembly, behaving } from "../support/assembly.js";
import { ComponentProcess, alive, scratchDirectory } from "../support/component-process.js";
import type { Exit } from "../support/component-process.js";
import { repoRoot } from "../support/contract-copy.js";

const running = (c: Component) => c.state === ComponentState.RUNNING && c.health === Health.SERVING;

/** Every pid a test started or saw started, killed after the tests whatever happened. */
const pids = new Set<number>();
const scratches: { remove: () => void }[] = [];
after(() => {
  for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
  for (const scratch of scratches) scratch.remove();
});

/** Notes the pids of an assembly's init and of every component it recorded, for the cleanup. */
function track(assembly: Assembly): void {
  pids.add(assembly.init.pid);
  for (const entry of assembly.record()) pids.add(entry.pid);
}

/** Tells whether pid runs: alive and not a zombie (an orphan's zombie waits for whoever reaps orphans here). */
function runs(pid: number): boolean {
  try {
    return alive(pid) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return false;
  }
}

/** Runs moby-init on manifest and runDir, expecting it to end by itself; after 30 s it is killed (the result then says signal SIGKILL). */
function runInit(manifestFile: string, runDir: string): Promise<Exit & { stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, "packages/init/bin/moby-init.js"), "--manifest", manifestFile, "--run-dir", runDir], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    pids.add(child.pid!);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const TWO = `
components:
  a:
${behaving()}
  b:
${behaving()}
    requires: [a]
`;

describe("a second init while the first lives", () => {
  let first: Assembly | undefined;
  after(async () => {
    if (first !== undefined) {
      track(first);
      await first.shutdown();
      first.remove();
    }
  });

  it("exits 1 with one line, and starts nothing", async () => {
    first = await Assembly.boot(TWO);
    await first.until("b", running);
    track(first);
    const manifest = join(first.runDir, "..", "moby.yaml");
    const starts = first.record().filter((e) => e.event === "start").length;
    const result = await runInit(manifest, first.runDir);
    assert.deepEqual({ code: result.code, signal: result.signal }, { code: 1, signal: null }, result.stderr);
    assert.equal(result.stderr.trimEnd().split("\n").length, 1, `one line: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`^moby-init: another moby-init \\(pid ${first.init.pid}\\) is serving on .*init\\.sock`));
    assert.equal(first.record().filter((e) => e.event === "start").length, starts, "no component was started");
    assert.ok(running(await first.component("b")), "the first init is unharmed");
  });
});

describe("a run directory more open than 0700", () => {
  const scratch = scratchDirectory("moby-faults-mode-");
  scratches.push(scratch);

  it("is refused at start with one line and exit 1, and nothing starts", async () => {
    const runDir = join(scratch.dir, "run");
    mkdirSync(runDir);
    chmodSync(runDir, 0o755);
    const record = join(scratch.dir, "record.jsonl");
    const manifest = join(scratch.dir, "moby.yaml");
    writeFileSync(manifest, `components:\n  a:\n${behaving()}\n`.replaceAll("${RECORD}", record));
    const result = await runInit(manifest, runDir);
    assert.deepEqual({ code: result.code, signal: result.signal }, { code: 1, signal: null }, result.stderr);
    assert.equal(result.stderr, `moby-init: run directory ${runDir} has mode 0755, more open than 0700: other users could reach its sockets and state; run chmod 700 ${runDir}\n`);
    assert.equal(statSync(runDir).mode & 0o777, 0o755, "init does not change a directory it did not create");
    assert.throws(() => statSync(record), /ENOENT/, "no component started");
  });
});

describe("a process init did not start, serving on a component's socket", () => {
  const scratch = scratchDirectory("moby-faults-foreign-");
  let foreign: ComponentProcess | undefined;
  let assembly: Assembly | undefined;
  after(async () => {
    if (assembly !== undefined) {
      track(assembly);
      await assembly.shutdown();
    }
    await foreign?.stop("SIGKILL");
    scratch.remove();
  });

  it("is never reported ready: every check fails on its pid, with a log line naming it", async () => {
    // Where init will put component a's socket: <scratch>/run/a.sock.
    const runDir = join(scratch.dir, "run");
    mkdirSync(runDir, { mode: 0o700 });
    const socket = join(runDir, "a.sock");
    foreign = new ComponentProcess("test/fixtures/behaving-component.ts", {
      MOBY_COMPONENT_NAME: "a",
      MOBY_SOCKET: socket,
      MOBY_TEST_RECORD: join(scratch.dir, "foreign.jsonl"),
    });
    pids.add(foreign.pid);
    await foreign.waitForSocket(socket);

    assembly = await Assembly.boot(
      `
components:
  a:
${behaving("start-delay:1000")}
    health: { interval: 100ms, timeout: 1s, retries: 2, startPeriod: 0s, startInterval: 50ms }
    restart: { policy: on-failure, delay: 10ms, startLimitBurst: 2, startLimitInterval: 1m }
`,
      scratch,
    );
    const failed = await assembly.until("a", (c) => c.state === ComponentState.FAILED);
    track(assembly);
    assert.match(failed.message, /start limit hit/);
    assert.doesNotMatch(assembly.init.output, /component a ready/, "never ready");
    assert.match(assembly.init.output, new RegExp(`pid ${foreign.pid} answers on ${socket.replaceAll(".", "\\.")}, not pid \\d+ that init started`));
    assert.ok(runs(foreign.pid), "init leaves a process it did not start alone");
  });
});

describe("a component that can no longer accept a connection", () => {
  let assembly: Assembly | undefined;
  after(async () => {
    if (assembly !== undefined) {
      track(assembly);
      await assembly.shutdown();
      assembly.remove();
    }
  });

  it("fails its health checks on a new connection and is restarted", async () => {
    assembly = await Assembly.boot(`
components:
  closed:
${behaving("unlink-socket-after:300")}
    health: { interval: 100ms, timeout: 1s, retries: 2, startPeriod: 10s, startInterval: 50ms }
    restart: { policy: on-failure, delay: 50ms, startLimitBurst: 10 }
`);
    const first = await assembly.until("closed", running);
    const restarted = await assembly.until("closed", (c) => c.restarts >= 1 && c.pid !== first.pid && c.pid !== 0);
    track(assembly);
    assert.ok(restarted.restarts >= 1);
    assert.ok(assembly.record().some((e) => e.pid === first.pid && e.event === "sigterm"), "the first process was stopped for failing its checks");
    assert.match(assembly.init.output, /component closed unhealthy/);
  });
});
