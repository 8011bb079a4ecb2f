// The container commands of the moby CLI against a real assembly: moby-init
// boots each reference manifest (moby.yaml, and moby.contained.yaml with
// events, container-store and image-store in containers) in a scratch run
// directory, containers run with real runc in a busybox
// rootfs, and every command runs as a real `node packages/cli/bin/moby.js`
// process, checked by its stdout, stderr and exit code. Needs root, runc and
// busybox; every container is removed and init stopped afterwards.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { dialSocket } from "@moby-core/sdk";
import { ContainerStoreService } from "@moby-core/container-store-api/v1";
import { makeBusyboxRootfs } from "../../packages/container-runtime/src/busybox-rootfs.js";
import { packOciSpec } from "../../packages/container-runtime/src/oci-spec-builder.js";
import { scratchDirectory } from "../support/component-process.js";
import type { Exit } from "../support/component-process.js";
import { repoRoot } from "../support/contract-copy.js";
import { REFERENCE_MANIFESTS, ReferenceAssembly } from "../support/reference-assembly.js";
import { Background, Init, MOBY, RUNC, cid, component, eventually, moby, ok, skipContainers } from "./moby-assembly.js";
import type { ContainerJson } from "./moby-assembly.js";

const skip = skipContainers;


async function ps(runDir: string, all = true): Promise<ContainerJson[]> {
  return JSON.parse((await ok(runDir, "ps", "--json", ...(all ? ["-a"] : []))).stdout) as ContainerJson[];
}

/** The row of `moby ps` (a table) for id. */
function row(table: string, id: string): string[] {
  const line = table.split("\n").find((l) => l.startsWith(`${id} `));
  assert.ok(line, `a row for ${id} in:\n${table}`);
  return line.split(/\s{2,}/);
}

/**
 * Runs `moby --run-dir runDir ...args` with its stdout read by a reader that
 * goes away after the first chunk (as `| head -1` does), and returns how
 * moby exited, that first chunk and moby's stderr.
 */
function withClosingReader(runDir: string, args: string[]): Promise<{ exit: Exit; first: string; stderr: string }> {
  const child = spawn(process.execPath, [MOBY, "--run-dir", runDir, ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let first = "";
  let stderr = "";
  child.stdout.once("data", (chunk: Buffer) => {
    first = chunk.toString();
    child.stdout.destroy();
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ exit: { code, signal }, first, stderr })));
}

for (const manifest of REFERENCE_MANIFESTS) describe(`moby container commands against the reference assembly (${manifest.file})`, { skip: manifest.skip }, () => {
  const scratch = scratchDirectory("moby-cli-containers-");
  const rootfs = join(scratch.dir, "rootfs");
  const init = new ReferenceAssembly(manifest, scratch.dir);
  const runDir = init.runDir;
  /** runc's state directory of the assembly's runtime. */
  const runcRoot = join(runDir, "container-runtime", "runc");
  const runcList = () => spawnSync(RUNC!, ["--root", runcRoot, "list", "-q"], { encoding: "utf8" }).stdout.split("\n").filter((line) => line.trim() !== "");

  before(async () => {
    makeBusyboxRootfs(rootfs);
    await init.boot();
  });

  after(async () => {
    let leftover: string[] = [];
    try {
      // Every container this test made, removed through the CLI while the runtime is up.
      for (const container of await ps(runDir).catch(() => [])) await moby(runDir, "rm", "-f", container.id);
      await init.stopCleanly();
      leftover = existsSync(runcRoot) ? runcList() : [];
    } finally {
      await init.cleanup();
      scratch.remove();
    }
    assert.deepEqual(leftover, [], "runc has no container left");
  });

  it("runs a command to its end: its stdout, its stderr and its exit code, and --rm removes it", async () => {
    const result = await moby(runDir, "run", "--rm", "--rootfs", rootfs, "--", "sh", "-c", "echo hello; echo oops >&2; exit 3");
    assert.equal(result.code, 3, result.stderr);
    assert.equal(result.stdout, "hello\n");
    assert.equal(result.stderr, "oops\n");
    assert.deepEqual(await ps(runDir), [], "nothing is left");
  });

  it("runs in the background: ps, logs -f, kill, ps -a with the exit, rm", async () => {
    const id = cid("web");
    const script = 'trap "echo bye; exit 42" TERM; echo started; while true; do sleep 0.1; done';
    const started = await ok(runDir, "run", "-d", "--name", id, "--label", "app=web", "--env", "GREETING=hi", "--rootfs", rootfs, "--", "sh", "-c", script);
    assert.equal(started.stdout, `${id}\n`);

    const table = (await ok(runDir, "ps")).stdout;
    assert.match(table.split("\n")[0]!, /^ID\s+STATUS\s+PID\s+EXIT\s+CREATED\s+COMMAND$/);
    const [rowId, status, pid, exit, created, command] = row(table, id);
    assert.deepEqual([rowId, status, exit], [id, "running", "-"]);
    assert.match(pid!, /^\d+$/);
    assert.match(created!, /^\d+s ago$/);
    assert.ok(command!.startsWith(`sh -c 'trap "echo bye; exit 42" TERM;`) && command!.endsWith("...") && command!.length === 40, command);
    const listed = (await ps(runDir, false)).find((c) => c.id === id);
    assert.ok(listed);
    assert.equal(listed.status, "running");
    assert.deepEqual(listed.command, ["sh", "-c", script]);
    assert.deepEqual(listed.labels, { app: "web" });
    assert.equal(listed.runtime, "runc");
    assert.equal(listed.image, "");

    // logs -f follows the output until the process exits, then ends by itself with exit 0.
    const follow = new Background(runDir, ["logs", "-f", id]);
    await follow.waitFor("started\n");
    const killed = await ok(runDir, "kill", "--signal", "TERM", id);
    assert.equal(killed.stdout, `${id}\n`);
    assert.deepEqual(await follow.exited, { code: 0, signal: null }, follow.stderr);
    assert.equal(follow.stdout, "started\nbye\n");
    assert.equal((await ok(runDir, "logs", id)).stdout, "started\nbye\n");
    assert.equal((await ok(runDir, "logs", "-n", "1", id)).stdout, "bye\n");

    await eventually(async () => (await ps(runDir)).find((c) => c.id === id)?.status === "stopped", `${id} stopped`);
    const [, stoppedStatus, stoppedPid, exitCell] = row((await ok(runDir, "ps", "-a")).stdout, id);
    assert.deepEqual([stoppedStatus, stoppedPid, exitCell], ["stopped", "-", "42"]);
    const stopped = (await ps(runDir)).find((c) => c.id === id)!;
    assert.deepEqual([stopped.exitCode, stopped.signal], [42, null]);
    assert.ok(stopped.exitedAt !== null);

    const removed = await ok(runDir, "rm", id);
    assert.equal(removed.stdout, `${id}\n`);
    assert.equal((await ps(runDir)).find((c) => c.id === id), undefined);
    const again = await moby(runDir, "rm", id);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `moby: ${id}: no such container: no task in the runtime, no record in the store (moby ps -a lists them)\n`);
  });

  it("kills with SIGKILL by default, as docker kill; ps shows a created container, ps -a a record without a task", async () => {
    const id = cid("sleeper");
    // sleep as PID 1 has no handler for SIGTERM, which the kernel then does not deliver to it: only SIGKILL ends it.
    await ok(runDir, "run", "-d", "--name", id, "--rootfs", rootfs, "--", "sleep", "1000");
    await ok(runDir, "kill", id);
    await eventually(async () => (await ps(runDir)).find((c) => c.id === id)?.status === "stopped", `${id} stopped`);
    assert.ok(!(await ok(runDir, "ps")).stdout.includes(id), "ps without -a lists running containers only, as docker's");
    assert.equal(row((await ok(runDir, "ps", "-a")).stdout, id)[3], "137 (SIGKILL)");
    const killed = (await ps(runDir)).find((c) => c.id === id)!;
    assert.deepEqual([killed.exitCode, killed.signal], [137, "SIGKILL"]);
    await ok(runDir, "rm", id);

    const created = cid("created");
    assert.equal((await ok(runDir, "create", "--name", created, "--rootfs", rootfs, "--", "true")).stdout, `${created}\n`);
    assert.equal(row((await ok(runDir, "ps", "-a")).stdout, created)[1], "created");
    await ok(runDir, "rm", created);

    // A record stored by another client, without a task: only ps -a lists it, rm deletes it.
    const recordOnly = cid("record");
    const store = dialSocket(join(runDir, "container-store.sock"));
    try {
      await store.client(ContainerStoreService).createContainer({
        container: { id: recordOnly, runtime: { name: "runc" }, spec: packOciSpec({ rootfs, args: ["echo", "stored"] }) },
      });
    } finally {
      store.close();
    }
    assert.ok(!(await ok(runDir, "ps")).stdout.includes(recordOnly));
    const [, status, pid, exit, createdCell, command] = row((await ok(runDir, "ps", "-a")).stdout, recordOnly);
    assert.deepEqual([status, pid, exit, command], ["-", "-", "-", "echo stored"]);
    assert.match(createdCell!, /ago$/);
    const json = (await ps(runDir)).find((c) => c.id === recordOnly);
    assert.deepEqual([json?.status, json?.pid, json?.command], [null, null, ["echo", "stored"]]);
    await ok(runDir, "rm", recordOnly);
    assert.equal((await ps(runDir)).find((c) => c.id === recordOnly), undefined);
  });

  it("forwards Ctrl-C to an attached container as SIGTERM and exits with its exit code", async () => {
    const script = 'trap "echo got TERM; exit 7" TERM; echo started; while true; do sleep 0.1; done';
    const attached = new Background(runDir, ["run", "--rm", "--rootfs", rootfs, "--", "sh", "-c", script]);
    await attached.waitFor("started\n", 30_000);
    attached.kill("SIGINT");
    assert.deepEqual(await attached.exited, { code: 7, signal: null }, attached.stderr);
    assert.equal(attached.stdout, "started\ngot TERM\n");
    assert.equal(attached.stderr, "");
  });

  it("keeps waiting when the reader of its stdout goes away: --rm removes the container, moby exits with its exit code", { timeout: 60_000 }, async () => {
    const id = cid("piped");
    // sh is PID 1 without a handler for SIGPIPE: it ignores the SIGPIPE moby sends, prints on and ends by itself.
    const script = "echo first; sleep 1; i=0; while [ $i -lt 2000 ]; do echo line $i; i=$((i+1)); done; echo done >&2; exit 3";
    const { exit, first, stderr } = await withClosingReader(runDir, ["run", "--rm", "--name", id, "--rootfs", rootfs, "--", "sh", "-c", script]);
    assert.deepEqual(exit, { code: 3, signal: null }, stderr);
    assert.equal(first, "first\n");
    assert.equal(stderr, "done\n", "stderr is still printed");
    assert.equal((await ps(runDir)).find((c) => c.id === id), undefined, "--rm removed it");
  });

  it("sends SIGPIPE to an attached process when the reader of its stdout goes away", { timeout: 60_000 }, async () => {
    const id = cid("sigpipe");
    const script = 'trap "echo got SIGPIPE >&2; exit 5" PIPE; echo first; sleep 1; while true; do echo more; done';
    const run = await withClosingReader(runDir, ["run", "--rm", "--name", id, "--rootfs", rootfs, "--", "sh", "-c", script]);
    assert.deepEqual(run.exit, { code: 5, signal: null }, run.stderr);
    assert.equal(run.stderr, "got SIGPIPE\n");
    assert.equal((await ps(runDir)).find((c) => c.id === id), undefined, "--rm removed it");

    // An exec process is not PID 1: without a handler, SIGPIPE ends it, as `yes | head -1` ends yes.
    const running = cid("piped-exec");
    await ok(runDir, "run", "-d", "--name", running, "--rootfs", rootfs, "--", "sleep", "1000");
    try {
      const exec = await withClosingReader(runDir, ["exec", running, "--", "yes"]);
      assert.deepEqual(exec.exit, { code: 128 + 13, signal: null }, exec.stderr);
      assert.match(exec.first, /^(y\n)+/);
      assert.equal(exec.stderr, "");
      assert.deepEqual((await ps(runDir)).find((c) => c.id === running)?.execs, [], "the exec process is deleted");
    } finally {
      await ok(runDir, "rm", "-f", running);
    }
  });

  it("execs a program in a running container: its output and its exit code", async () => {
    const id = cid("exec");
    await ok(runDir, "run", "-d", "--name", id, "--rootfs", rootfs, "--", "sleep", "1000");
    const result = await moby(runDir, "exec", id, "--", "sh", "-c", "echo in exec; echo err >&2; exit 4");
    assert.equal(result.code, 4, result.stderr);
    assert.equal(result.stdout, "in exec\n");
    assert.equal(result.stderr, "err\n");

    const settings = await moby(runDir, "exec", "--env", "FOO=bar", "--workdir", "/tmp", "--user", "1000:1000", id, "--", "sh", "-c", 'echo "$FOO $(pwd) $(id -u):$(id -g)"');
    assert.equal(settings.code, 0, settings.stderr);
    assert.equal(settings.stdout, "bar /tmp 1000:1000\n");
    assert.deepEqual((await ps(runDir)).find((c) => c.id === id)?.execs, [], "exec processes are deleted once they exited");
    await ok(runDir, "rm", "-f", id);
  });

  it("refuses to rm a running container with the runtime's message, and rm -f kills it first", async () => {
    const id = cid("busy");
    await ok(runDir, "run", "-d", "--name", id, "--rootfs", rootfs, "--", "sleep", "1000");
    const refused = await moby(runDir, "rm", id);
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, "");
    assert.match(refused.stderr, new RegExp(`^moby: ${id}: task "${id}" is RUNNING: .*\\(moby stop it first, or moby rm -f kills it\\)\\n$`));
    assert.equal((await ps(runDir)).find((c) => c.id === id)?.status, "running", "still running");
    const forced = await ok(runDir, "rm", "-f", id);
    assert.equal(forced.stdout, `${id}\n`);
    assert.equal((await ps(runDir)).find((c) => c.id === id), undefined);
  });

  it("prints a container's logs with moby logs, a component's with moby component logs, even under one name", async () => {
    const componentLogs = await ok(runDir, "component", "logs", "container-store");
    const messages = componentLogs.stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { msg?: string; component?: string });
    assert.ok(
      messages.some((m) => m.msg === "serving" && m.component === "container-store"),
      `a "serving" line from container-store in:\n${componentLogs.stdout}`,
    );
    const hint = await moby(runDir, "logs", "container-store");
    assert.equal(hint.code, 1);
    assert.equal(hint.stderr, 'moby: no container "container-store"; "container-store" is a component: moby component logs container-store\n');

    await ok(runDir, "run", "-d", "--name", "events", "--rootfs", rootfs, "--", "sh", "-c", "echo from the container; sleep 1000");
    try {
      await eventually(async () => (await moby(runDir, "logs", "events")).stdout === "from the container\n", "the container's output");
      assert.match((await ok(runDir, "component", "logs", "events")).stdout, /"component":"events"/);
    } finally {
      await ok(runDir, "rm", "-f", "events");
    }
    const unknown = await moby(runDir, "logs", "nope");
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^moby: [^\n]*"nope"[^\n]*\n$/);
  });

  it("restarts a container by --restart: on-failure:N as many times, always until moby stop; ps shows restartCount and restarting", async () => {
    const failing = cid("onfail");
    await ok(runDir, "run", "-d", "--name", failing, "--restart", "on-failure:2", "--rootfs", rootfs, "--", "sh", "-c", "echo try; exit 3");
    await eventually(async () => {
      const c = (await ps(runDir)).find((row) => row.id === failing);
      return c?.status === "stopped" && c.restartCount === 2;
    }, `${failing} restarted twice and stopped`, 30_000);
    assert.deepEqual((await ps(runDir)).find((c) => c.id === failing)?.exitCode, 3);

    const forever = cid("always");
    await ok(runDir, "run", "-d", "--name", forever, "--restart", "always", "--rootfs", rootfs, "--", "sh", "-c", "exit 0");
    await eventually(async () => ((await ps(runDir)).find((c) => c.id === forever)?.restartCount ?? 0) >= 3, `${forever} restarted`, 30_000);
    assert.ok((await ps(runDir, false)).some((c) => c.id === forever), "a container that restarts is listed without -a");
    const statuses = new Set<string | null>();
    await eventually(async () => {
      statuses.add((await ps(runDir)).find((c) => c.id === forever)?.status ?? null);
      return statuses.has("restarting");
    }, `${forever} seen restarting`, 30_000);
    await ok(runDir, "stop", "-t", "1", forever);
    await eventually(async () => (await ps(runDir)).find((c) => c.id === forever)?.status === "stopped", `${forever} stopped for good`);
    const count = (await ps(runDir)).find((c) => c.id === forever)!.restartCount;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal((await ps(runDir)).find((c) => c.id === forever)!.restartCount, count, "moby stop ends the restarts");
    await ok(runDir, "rm", failing, forever);

    const conflict = await moby(runDir, "run", "--rm", "--restart", "always", "--rootfs", rootfs, "--", "true");
    assert.equal(conflict.code, 125);
    assert.match(conflict.stderr, /'--rm' cannot be used with option '--restart <policy>'/);
    const bad = await moby(runDir, "run", "--restart", "sometimes", "--rootfs", rootfs, "--", "true");
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /"sometimes" is not a restart policy: give no, on-failure\[:max-retries\], always or unless-stopped/);
  });

  it("fails with one line: exit code 1 for what the components refuse, 125 for usage errors and run's failures, 127 for a missing program", async () => {
    const missing = await moby(runDir, "kill", cid("missing"));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^moby: .*missing-.*\n$/);
    const noRootfs = await moby(runDir, "run", "--rootfs", join(scratch.dir, "nowhere"), "--", "true");
    assert.deepEqual([noRootfs.code, noRootfs.stderr], [125, `moby: rootfs ${join(scratch.dir, "nowhere")} is not a directory: give --rootfs a directory on this node\n`]);
    const before = await ps(runDir);
    const noProgram = await moby(runDir, "run", "--rootfs", rootfs, "--", "no-such-program");
    assert.equal(noProgram.code, 127);
    assert.match(noProgram.stderr, /^moby: .*no-such-program.*\n$/);
    assert.deepEqual(await ps(runDir), before, "a container the runtime refused leaves no record");
    assert.equal((await moby(runDir, "run", "--", "true")).code, 125, "--rootfs is required");
    assert.equal((await moby(runDir, "kill", "--signal", "NOPE", "x")).code, 125);
    assert.equal((await moby(runDir, "run", "--rootfs", rootfs, "--name", "bad/name", "--", "true")).code, 125);
    assert.equal((await moby(runDir, "rm", "ok", "bad/name")).code, 125, "every id is checked before any is removed");
  });
});

describe("moby container commands in an assembly without containers", { skip }, () => {
  const scratch = scratchDirectory("moby-cli-nocontainers-");
  const init = new Init(scratch.dir, {
    events: component("packages/events/bin/moby-events.js", { services: ["moby.events.v1.EventsService"] }),
  });

  before(() => init.boot());

  after(async () => {
    try {
      await init.stopCleanly();
    } finally {
      scratch.remove();
    }
  });

  it("says which service no component serves", async () => {
    const result = await moby(init.runDir, "ps");
    assert.equal(result.code, 125);
    assert.equal(result.stdout, "");
    assert.equal(result.stderr, "moby: no component of the assembly serves moby.container.runtime.v1.ContainerRuntimeService\n");
    const logs = await moby(init.runDir, "component", "logs", "events");
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /"component":"events"/);
  });
});
