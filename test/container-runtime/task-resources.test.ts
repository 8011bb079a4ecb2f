// Resources and stats of tasks against real runc containers, in a real
// assembly (moby-init with events, container-store and container-runtime):
// UpdateTask changing limits as the cgroup files show them, metrics of a
// CPU-busy container, the metrics stream, a pids limit refusing forks, the
// process list, and real OOM kills (of an exec process and of a task's init
// process) published as /tasks/oom before their /tasks/exit. Then the CLI's
// `moby stats`, `moby top` and `moby update`. Needs root, runc and busybox;
// every container is removed and init stopped afterwards.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Client } from "@connectrpc/connect";
import { Code, dialSocket } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { CgroupVersion, ContainerRuntimeService, Status } from "@moby-core/container-runtime-api/v1";
import type { TaskMetrics } from "@moby-core/container-runtime-api/v1";
import { ContainerStoreService } from "@moby-core/container-store-api/v1";
import { makeBusyboxRootfs } from "../../packages/container-runtime/src/busybox-rootfs.js";
import { buildOciSpec, packOciSpec } from "../../packages/container-runtime/src/oci-spec-builder.js";
import { scratchDirectory } from "../support/component-process.js";
import { rejection } from "../support/rejection.js";
import { Background, Init, RUNC, cid, component, eventually, moby, ok, skipContainers } from "../cli/moby-assembly.js";

const MiB = 1024n * 1024n;

/** One line of `moby events --json`. */
interface EventJson {
  sequence: string;
  topic: string;
  event: Record<string, unknown>;
}

/** The directory of a v1 controller's cgroup of a live process, as the kernel says. */
function cgroupDir(pid: number, controller: string): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, "utf8")
    .split("\n")
    .find((l) => l.split(":")[1]?.split(",").includes(controller));
  assert.ok(line, `pid ${pid} is in a ${controller} cgroup`);
  return join("/sys/fs/cgroup", controller, line.split(":")[2]!);
}

const cgroupFile = (pid: number, controller: string, file: string) => readFileSync(join(cgroupDir(pid, controller), file), "utf8").trim();
const unified = existsSync("/sys/fs/cgroup/cgroup.controllers");

describe("task resources and stats against real runc containers", { skip: skipContainers }, () => {
  const scratch = scratchDirectory("moby-rt-resources-");
  const rootfs = join(scratch.dir, "rootfs");
  const init = new Init(scratch.dir, {
    events: component("packages/events/bin/moby-events.js", { services: ["moby.events.v1.EventsService"] }),
    "container-store": component("packages/container-store/bin/moby-container-store.js", { services: ["moby.container.store.v1.ContainerStoreService"] }),
    "container-runtime": component("packages/container-runtime/bin/moby-container-runtime.js", {
      services: ["moby.container.runtime.v1.ContainerRuntimeService"],
      requires: ["container-store"],
    }),
  });
  const runDir = init.runDir;
  const runcRoot = join(runDir, "container-runtime", "runc");
  const runcList = () => spawnSync(RUNC!, ["--root", runcRoot, "list", "-q"], { encoding: "utf8" }).stdout.split("\n").filter((line) => line.trim() !== "");
  const made: string[] = [];
  let connection: Connection | undefined;
  let runtime: Client<typeof ContainerRuntimeService>;

  /** Runs a container in the background with moby run -d; returns its init pid. */
  async function run(id: string, ...args: string[]): Promise<number> {
    made.push(id);
    await ok(runDir, "run", "-d", "--name", id, "--rootfs", rootfs, "--", ...args);
    const { task } = await runtime.getTask({ containerId: id });
    return task!.pid;
  }

  /** The events so far, in order. */
  async function events(): Promise<EventJson[]> {
    const { stdout } = await ok(runDir, "events", "--json", "--oldest", "--until", "now");
    return stdout
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as EventJson);
  }

  before(async () => {
    makeBusyboxRootfs(rootfs);
    await init.boot();
    connection = dialSocket(join(runDir, "container-runtime.sock"));
    runtime = connection.client(ContainerRuntimeService);
  });

  after(async () => {
    let leftover: string[] = [];
    try {
      for (const id of made) await moby(runDir, "rm", "-f", id);
      connection?.close();
      await init.stopCleanly();
      leftover = existsSync(runcRoot) ? runcList() : [];
    } finally {
      if (existsSync(runcRoot)) for (const id of runcList()) spawnSync(RUNC!, ["--root", runcRoot, "delete", "--force", id]);
      scratch.remove();
    }
    assert.deepEqual(leftover, [], "runc has no container left");
  });

  it("measures a CPU-busy container from its cgroup, unary and as a stream", async () => {
    const busy = cid("busy");
    const idle = cid("idle");
    const busyPid = await run(busy, "sh", "-c", "while :; do :; done");
    await run(idle, "sleep", "1000");

    const { metrics: first } = await runtime.getTaskMetrics({ containerId: busy });
    assert.ok(first);
    assert.equal(first.containerId, busy);
    assert.equal(first.cgroupVersion, unified ? CgroupVersion.V2 : CgroupVersion.V1);
    assert.equal(first.pids?.current, 1n);
    assert.ok(first.memory!.usage!.usage > 0n, "some memory is in use");
    assert.ok(first.cpu!.usage!.total > 0n);
    if (!unified) {
      // The sample is what the kernel's files said at the time: the counter only grows.
      assert.ok(BigInt(cgroupFile(busyPid, "cpuacct", "cpuacct.usage")) >= first.cpu!.usage!.total);
      assert.equal(first.cpu!.usage!.perCpu.length > 0, true);
      assert.equal(first.memory!.usage!.limit, 0n, "no memory limit: 0");
    }

    // The stream: one response at once, then one per interval, every task that runs, ordered by id.
    const controller = new AbortController();
    const rounds: TaskMetrics[][] = [];
    for await (const response of runtime.watchTaskMetrics({ containerIds: [idle, busy], intervalMs: 200 }, { signal: controller.signal })) {
      rounds.push(response.metrics);
      if (rounds.length === 3) break;
    }
    controller.abort();
    for (const round of rounds) assert.deepEqual(round.map((m) => m.containerId), [busy, idle].sort());
    const busyTotals = rounds.map((round) => round.find((m) => m.containerId === busy)!.cpu!.usage!.total);
    assert.ok(busyTotals[0]! > first.cpu!.usage!.total && busyTotals[1]! > busyTotals[0]! && busyTotals[2]! > busyTotals[1]!, `busy uses CPU: ${busyTotals.join(", ")}`);

    // With no ids: every task of the runtime.
    for await (const response of runtime.watchTaskMetrics({})) {
      assert.ok([busy, idle].every((id) => response.metrics.some((m) => m.containerId === id)));
      break;
    }
  });

  it("updates a running task's limits as `docker update` does, as the cgroup files show, and reads them back", async () => {
    const id = cid("update");
    const pid = await run(id, "sh", "-c", "while :; do :; done");
    const { resources } = await runtime.updateTask({
      containerId: id,
      resources: { cpuShares: 512n, cpuQuota: 20000n, cpuPeriod: 100000n, memoryLimit: 64n * MiB, pidsLimit: 50n },
    });
    assert.ok(resources);
    assert.deepEqual(
      [resources.cpuShares, resources.cpuQuota, resources.cpuPeriod, resources.memoryLimit, resources.pidsLimit],
      [512n, 20000n, 100000n, 64n * MiB, 50n],
    );
    if (!unified) {
      assert.equal(cgroupFile(pid, "cpu", "cpu.shares"), "512");
      assert.equal(cgroupFile(pid, "cpu", "cpu.cfs_quota_us"), "20000");
      assert.equal(cgroupFile(pid, "cpu", "cpu.cfs_period_us"), "100000");
      assert.equal(cgroupFile(pid, "memory", "memory.limit_in_bytes"), String(64n * MiB));
      assert.equal(cgroupFile(pid, "pids", "pids.max"), "50");
    }
    const { metrics } = await runtime.getTaskMetrics({ containerId: id });
    assert.equal(metrics!.memory!.usage!.limit, 64n * MiB);
    assert.equal(metrics!.pids!.limit, 50n);
    // The quota holds the busy loop back: the kernel counts throttled periods.
    await eventually(async () => ((await runtime.getTaskMetrics({ containerId: id })).metrics!.cpu!.throttling!.throttledPeriods ?? 0n) > 0n, "throttled periods");

    // Only the fields set change; -1 lifts a limit.
    const lifted = (await runtime.updateTask({ containerId: id, resources: { cpuQuota: -1n, memoryLimit: -1n, pidsLimit: -1n } })).resources!;
    assert.deepEqual([lifted.cpuShares, lifted.cpuQuota, lifted.memoryLimit, lifted.pidsLimit], [512n, -1n, -1n, -1n]);
    if (!unified) {
      assert.equal(cgroupFile(pid, "cpu", "cpu.cfs_quota_us"), "-1");
      assert.equal(cgroupFile(pid, "pids", "pids.max"), "max");
    }
  });

  it("refuses bad limits naming the field, and calls on a stopped or unknown task", async () => {
    const id = cid("refusals");
    await run(id, "sleep", "1000");
    const cases: [Record<string, bigint | string>, string][] = [
      [{}, "resources"],
      [{ memoryLimit: 1000n }, "resources.memory_limit"],
      [{ cpuShares: 1n }, "resources.cpu_shares"],
      [{ cpuPeriod: 10n }, "resources.cpu_period"],
      [{ cpuQuota: 0n }, "resources.cpu_quota"],
      [{ pidsLimit: 0n }, "resources.pids_limit"],
      [{ cpusetCpus: "0-a" }, "resources.cpuset_cpus"],
      [{ memoryLimit: 64n * MiB, memorySwap: 32n * MiB }, "resources.memory_swap"],
    ];
    for (const [resources, field] of cases) {
      const error = await rejection(runtime.updateTask({ containerId: id, resources }));
      assert.equal(error.code, Code.InvalidArgument, `${JSON.stringify(resources, (_, v: unknown) => (typeof v === "bigint" ? String(v) : v))}: ${error.rawMessage}`);
      assert.ok(error.rawMessage.startsWith(`${field}:`), error.rawMessage);
    }
    const interval = await rejection(runtime.watchTaskMetrics({ intervalMs: 5 })[Symbol.asyncIterator]().next());
    assert.equal(interval.code, Code.InvalidArgument);
    assert.match(interval.rawMessage, /^interval_ms:/);
    const unknown = cid("nosuch");
    for (const call of [
      () => runtime.getTaskMetrics({ containerId: unknown }),
      () => runtime.listTaskProcesses({ containerId: unknown }),
      () => runtime.updateTask({ containerId: unknown, resources: { pidsLimit: 5n } }),
      () => runtime.watchTaskMetrics({ containerIds: [unknown] })[Symbol.asyncIterator]().next(),
    ]) {
      assert.equal((await rejection(call())).code, Code.NotFound);
    }

    await ok(runDir, "kill", id);
    await runtime.waitTask({ containerId: id });
    for (const call of [
      () => runtime.getTaskMetrics({ containerId: id }),
      () => runtime.listTaskProcesses({ containerId: id }),
      () => runtime.updateTask({ containerId: id, resources: { pidsLimit: 5n } }),
    ]) {
      const error = await rejection(call());
      assert.equal(error.code, Code.FailedPrecondition, error.rawMessage);
      assert.match(error.rawMessage, /is STOPPED/);
    }
    // A stream of a stopped task sends rounds without it, and ends once it is deleted.
    const stream = runtime.watchTaskMetrics({ containerIds: [id], intervalMs: 100 })[Symbol.asyncIterator]();
    const round = await stream.next();
    assert.ok(round.done !== true, "a round before the stream ends");
    assert.deepEqual(round.value.metrics, []);
    await ok(runDir, "rm", id);
    let done = false;
    while (!done) done = (await stream.next()).done === true;
  });

  it("a pids limit refuses forks past it", async () => {
    const id = cid("pids");
    const go = `go-${id}`;
    // Forks six sleeps once the file appears: with the limit of 3 (sh and two sleeps), the third fork fails.
    await run(id, "sh", "-c", `while [ ! -e /${go} ]; do sleep 0.1; done; for i in 1 2 3 4 5 6; do sleep 100 & done; echo forked; wait`);
    await runtime.updateTask({ containerId: id, resources: { pidsLimit: 3n } });
    const { metrics } = await runtime.getTaskMetrics({ containerId: id });
    assert.equal(metrics!.pids!.limit, 3n);
    writeFileSync(join(rootfs, go), "");
    // sh gives up at the failed fork: it says so and exits 2.
    const exit = await runtime.waitTask({ containerId: id });
    const { stdout, stderr } = await ok(runDir, "logs", id);
    assert.equal(stdout, "");
    assert.match(stderr, /can't fork|Resource temporarily unavailable/i);
    assert.equal(exit.exitStatus?.exitCode, 2, stderr);
  });

  it("lists a task's processes as docker top: init, its children, and exec processes by exec id", async () => {
    const id = cid("top");
    const pid = await run(id, "sh", "-c", "sleep 1001 & sleep 1002 & wait");
    await runtime.execProcess({ containerId: id, execId: "side", args: ["sleep", "1003"] });
    let listed: Awaited<ReturnType<typeof runtime.listTaskProcesses>>["processes"] = [];
    await eventually(async () => {
      listed = (await runtime.listTaskProcesses({ containerId: id })).processes;
      return listed.length === 4;
    }, "four processes");
    assert.deepEqual(
      listed.map((p) => p.pid),
      [...listed.map((p) => p.pid)].sort((a, b) => a - b),
    );
    const initProcess = listed.find((p) => p.pid === pid)!;
    assert.deepEqual(initProcess.args, ["sh", "-c", "sleep 1001 & sleep 1002 & wait"]);
    assert.equal(initProcess.execId, "");
    assert.equal(initProcess.uid, 0);
    assert.deepEqual(
      listed.filter((p) => p.ppid === pid).map((p) => p.args.join(" ")).sort(),
      ["sleep 1001", "sleep 1002"],
    );
    const side = listed.find((p) => p.execId === "side")!;
    assert.deepEqual(side.args, ["sleep", "1003"]);
    assert.ok(side.rss > 0n && side.startedAt !== undefined);
  });

  it("publishes /tasks/oom before the /tasks/exit of an exec process the kernel OOM-killed", async () => {
    const id = cid("oom-exec");
    await run(id, "sleep", "1000");
    // No swap to escape to: memory plus swap has the same limit.
    await runtime.updateTask({ containerId: id, resources: { memoryLimit: 32n * MiB, memorySwap: 32n * MiB } });
    await runtime.execProcess({ containerId: id, execId: "hog", args: ["dd", "if=/dev/zero", "of=/dev/null", "bs=256M", "count=1"] });
    const exit = await runtime.waitTask({ containerId: id, execId: "hog" });
    assert.deepEqual([exit.exitStatus?.exitCode, exit.exitStatus?.signal], [137, "SIGKILL"]);
    let oom: EventJson | undefined;
    let exitEvent: EventJson | undefined;
    await eventually(async () => {
      const all = await events();
      oom = all.find((e) => e.topic === "/tasks/oom" && e.event.containerId === id);
      exitEvent = all.find((e) => e.topic === "/tasks/exit" && e.event.containerId === id && e.event.execId === "hog");
      return oom !== undefined && exitEvent !== undefined;
    }, "the oom and exit events");
    assert.equal(oom!.event.oomKillCount, "1");
    assert.ok(BigInt(oom!.sequence) < BigInt(exitEvent!.sequence), "oom before exit");
    assert.equal((await runtime.getTaskMetrics({ containerId: id })).metrics!.memory!.oomKill, 1n);
    assert.equal((await runtime.getTask({ containerId: id })).task!.status, Status.RUNNING, "the init process lives on");
  });

  it("publishes /tasks/oom before the /tasks/exit of a task whose init process the kernel OOM-killed (a limit from the spec)", async () => {
    const id = cid("oom-init");
    made.push(id);
    const spec = buildOciSpec({ rootfs, args: ["dd", "if=/dev/zero", "of=/dev/null", "bs=256M", "count=1"] });
    Object.assign(spec.linux.resources, { memory: { limit: Number(32n * MiB), swap: Number(32n * MiB) } });
    const store = dialSocket(join(runDir, "container-store.sock"));
    try {
      await store.client(ContainerStoreService).createContainer({ container: { id, runtime: { name: "runc" }, spec: packOciSpec(spec) } });
    } finally {
      store.close();
    }
    await runtime.createTask({ containerId: id });
    await runtime.startTask({ containerId: id });
    const exit = await runtime.waitTask({ containerId: id });
    assert.deepEqual([exit.exitStatus?.exitCode, exit.exitStatus?.signal], [137, "SIGKILL"]);
    let topics: string[] = [];
    await eventually(async () => {
      topics = (await events()).filter((e) => e.event.containerId === id).map((e) => e.topic);
      return topics.includes("/tasks/exit");
    }, "the exit event");
    assert.deepEqual(topics, ["/tasks/create", "/tasks/start", "/tasks/oom", "/tasks/exit"]);
  });

  it("moby update: docker's flags change the limits and print each id; a bad value or no limit is a usage error", async () => {
    const id = cid("cli-update");
    const pid = await run(id, "sleep", "1000");
    const result = await ok(runDir, "update", "--cpus", "0.5", "--cpu-shares", "256", "-m", "64m", "--memory-swap", "128m", "--pids-limit", "20", id);
    assert.equal(result.stdout, `${id}\n`);
    const { resources } = await runtime.updateTask({ containerId: id, resources: { cpusetCpus: "0" } });
    assert.deepEqual(
      [resources!.cpuQuota, resources!.cpuPeriod, resources!.cpuShares, resources!.memoryLimit, resources!.memorySwap, resources!.pidsLimit, resources!.cpusetCpus],
      [50000n, 100000n, 256n, 64n * MiB, 128n * MiB, 20n, "0"],
    );
    if (!unified) assert.equal(cgroupFile(pid, "memory", "memory.memsw.limit_in_bytes"), String(128n * MiB));

    const none = await moby(runDir, "update", id);
    assert.deepEqual([none.code, none.stderr], [125, "moby: give at least one limit to change (see moby update --help)\n"]);
    const bad = await moby(runDir, "update", "-m", "lots", id);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /"lots" is not a size/);
    const small = await moby(runDir, "update", "-m", "1m", id, cid("absent"));
    assert.equal(small.code, 1);
    assert.match(small.stderr, new RegExp(`^moby: ${id}: resources\\.memory_limit: 1048576 is not a limit`, "m"));
    assert.match(small.stderr, new RegExp(`^moby: ${cid("absent")}: `, "m"));
  });

  it("moby run takes docker run's resource flags: the limits are in the cgroup from the start, and a memory limit OOM-kills", async () => {
    const id = cid("cli-run-limits");
    made.push(id);
    await ok(runDir, "run", "-d", "--name", id, "-m", "48m", "--cpus", "0.25", "-c", "300", "--pids-limit", "12", "--rootfs", rootfs, "--", "sleep", "1000");
    const { task } = await runtime.getTask({ containerId: id });
    if (!unified) {
      assert.equal(cgroupFile(task!.pid, "memory", "memory.limit_in_bytes"), String(48n * MiB));
      assert.equal(cgroupFile(task!.pid, "cpu", "cpu.cfs_quota_us"), "25000");
      assert.equal(cgroupFile(task!.pid, "cpu", "cpu.shares"), "300");
      assert.equal(cgroupFile(task!.pid, "pids", "pids.max"), "12");
    }
    const { resources } = await runtime.updateTask({ containerId: id, resources: { pidsLimit: 13n } });
    assert.deepEqual([resources!.memoryLimit, resources!.cpuQuota, resources!.cpuPeriod, resources!.cpuShares, resources!.pidsLimit], [48n * MiB, 25000n, 100000n, 300n, 13n]);

    const hog = await moby(runDir, "run", "--rm", "-m", "32m", "--memory-swap", "32m", "--rootfs", rootfs, "--", "dd", "if=/dev/zero", "of=/dev/null", "bs=256M", "count=1");
    assert.equal(hog.code, 137, hog.stderr);
  });

  it("moby top: the processes of a container as ps -ef, and as JSON", async () => {
    const id = cid("cli-top");
    const pid = await run(id, "sh", "-c", "sleep 1001 & wait");
    await eventually(async () => (await ok(runDir, "top", id)).stdout.includes("sleep 1001"), "the sleep to show");
    const lines = (await ok(runDir, "top", id)).stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^UID\s+PID\s+PPID\s+STIME\s+TIME\s+EXEC\s+CMD$/);
    assert.match(lines[1]!, new RegExp(`^0\\s+${pid}\\s+\\d+\\s+\\d\\d:\\d\\d\\s+00:00:\\d\\d\\s+-\\s+sh -c sleep 1001 & wait$`));
    assert.match(lines[2]!, new RegExp(`^0\\s+\\d+\\s+${pid}\\s+.*\\s+sleep 1001$`));
    const json = JSON.parse((await ok(runDir, "top", "--json", id)).stdout) as { pid: number; args: string[] }[];
    assert.deepEqual(json.map((p) => p.args.join(" ")), ["sh -c sleep 1001 & wait", "sleep 1001"]);
    const missing = await moby(runDir, "top", cid("absent"));
    assert.equal(missing.code, 1);
  });

  it("moby stats: --no-stream prints one table with a busy container's CPU use, --json lines, and a live table until Ctrl-C", async () => {
    const busy = cid("cli-busy");
    const idle = cid("cli-idle");
    await run(busy, "sh", "-c", "while :; do :; done");
    await run(idle, "sleep", "1000");
    await ok(runDir, "update", "-m", "100m", idle);

    const table = (await ok(runDir, "stats", "--no-stream", busy, idle)).stdout.trimEnd().split("\n");
    assert.equal(table.length, 3);
    assert.match(table[0]!, /^ID\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+BLOCK I\/O\s+PIDS$/);
    const cells = (line: string) => line.split(/\s{2,}/);
    const busyRow = cells(table.find((line) => line.startsWith(`${busy} `))!);
    const idleRow = cells(table.find((line) => line.startsWith(`${idle} `))!);
    // A CPU-bound loop uses a good part of a CPU (of two on this machine, shared): more than the idle sleep.
    assert.ok(parseFloat(busyRow[1]!) > parseFloat(idleRow[1]!), `${busyRow[1]} > ${idleRow[1]}`);
    assert.match(idleRow[2]!, /^[\d.]+(B|KiB|MiB) \/ 100MiB$/);
    assert.equal(idleRow[5], "1");

    const lines = (await ok(runDir, "stats", "--no-stream", "--json", busy)).stdout.trimEnd().split("\n");
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0]!) as { id: string; cpuPercent: number; pids: number; metrics: { containerId: string; cgroupVersion: string } };
    assert.deepEqual([line.id, line.pids, line.metrics.containerId], [busy, 1, busy]);
    assert.ok(line.cpuPercent > 0);
    assert.equal(line.metrics.cgroupVersion, unified ? "CGROUP_VERSION_V2" : "CGROUP_VERSION_V1");

    // Live: every running container, a table per second, until SIGINT ends it with exit 0.
    const live = new Background(runDir, ["stats"]);
    await live.waitFor(`${idle} `);
    await eventually(async () => live.stdout.split("ID ").length > 2, "a second table");
    live.kill("SIGINT");
    assert.deepEqual(await live.exited, { code: 0, signal: null }, live.stderr);
    assert.ok(live.stdout.includes(`${busy} `));
  });
});
