// The task manager with a fake runc (a shell script whose commands do what
// the test writes in <dir>/<command>.sh) and real shims: a runc create that
// never finishes is killed with its shim's whole process group before runc
// delete runs; a lost shim's process is declared exited only when runc says
// the container is gone or stopped, never when runc fails, and not at all
// once the task was deleted meanwhile; KillTask signals an exec process only
// while its pid still names it. Needs perl on Linux, not root.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import type { DescMessage } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type { HandlerContext } from "@connectrpc/connect";
import { eventTopic } from "@moby-core/sdk";
import type { EventPublisher, Logger } from "@moby-core/sdk";
import type { PageTokens } from "@moby-core/sdk/list";
import { KillTaskRequestSchema, Status } from "@moby-core/container-runtime-api/v1";
import type { ExitStatus } from "@moby-core/types-api/v1";
import { Bundle } from "./bundle.js";
import { nowUs } from "./clock.js";
import { findExecutable, shimSyscalls } from "./prerequisites.js";
import { processStartTime, readExitFile } from "./process-files.js";
import { containerRuntimeService } from "./runtime-service.js";
import { TaskManager } from "./task-manager.js";
import { TaskProcess } from "./task-process.js";
import { Task } from "./task.js";
import { handlerRejection } from "../../../test/support/rejection.js";

const perl = findExecutable("perl");
const syscalls = shimSyscalls();
const skip = perl === undefined || syscalls === undefined || process.platform !== "linux" ? "needs perl on Linux" : false;

const root = mkdtempSync(join(tmpdir(), "moby-tm-"));
after(() => rmSync(root, { recursive: true, force: true }));
const fakeDir = join(root, "fake");
mkdirSync(fakeDir);
const fakeRunc = join(fakeDir, "runc");
writeFileSync(
  fakeRunc,
  `#!/bin/sh
# A fake runc: notes "COMMAND ID" in calls, then runs ${fakeDir}/COMMAND.sh
# when there is one; without, it says the container does not exist.
d=${fakeDir}
cmd=""; id=""
while [ $# -gt 0 ]; do
  case "$1" in
    --root|--log|--log-format|--bundle|--pid-file|--process|--format) shift 2 ;;
    --*) shift ;;
    *) if [ -z "$cmd" ]; then cmd="$1"; elif [ -z "$id" ]; then id="$1"; fi; shift ;;
  esac
done
echo "$cmd $id" >> $d/calls
if [ -f "$d/$cmd.sh" ]; then . "$d/$cmd.sh"; fi
echo 'time="2024-01-01T00:00:00Z" level=error msg="container does not exist"' >&2
exit 1
`,
);
chmodSync(fakeRunc, 0o755);

/** Sets what the fake runc does for command (a shell fragment), or restores the default. */
function fake(command: string, script?: string): void {
  const path = join(fakeDir, `${command}.sh`);
  if (script === undefined) rmSync(path, { force: true });
  else writeFileSync(path, script);
}

function calls(): string[] {
  return existsSync(join(fakeDir, "calls")) ? readFileSync(join(fakeDir, "calls"), "utf8").trim().split("\n") : [];
}

const published: { topic: string; message: Record<string, unknown>; exitCode?: number }[] = [];
const publisher = {
  publish: (schema: DescMessage, message: Record<string, unknown>) =>
    published.push({ topic: eventTopic(schema), message, exitCode: (message.exitStatus as ExitStatus | undefined)?.exitCode }),
  flush: async () => true,
  getStats: () => ({ sent: 0, dropped: 0, rejected: 0, queued: 0 }),
} as unknown as EventPublisher;
const warnings: string[] = [];
const logger = {
  warn: (_fields: unknown, message: string) => warnings.push(message),
  info: () => {},
  error: () => {},
  debug: () => {},
} as unknown as Logger;


describe("the task manager", { skip }, () => {
  let manager: TaskManager;

  before(async () => {
    manager = new TaskManager(
      join(root, "state"),
      { ready: true, runc: fakeRunc, perl: perl!, syscalls: syscalls!, runcVersion: "fake" },
      publisher,
      logger,
      { createTimeoutMs: 500, runcTimeoutMs: 5000 },
    );
    // Prepares the state directory; no periodic check runs behind the tests' back.
    await manager.start();
    manager.stop();
  });

  beforeEach(() => {
    for (const command of ["create", "delete", "state"]) fake(command);
    rmSync(join(fakeDir, "calls"), { force: true });
    published.length = 0;
    warnings.length = 0;
  });

  /** A RUNNING task as the manager would have it, with no process started. */
  function runningTask(id: string): Task {
    const bundle = new Bundle(join(manager.tasksDir, id), id);
    return new Task(manager.services, bundle, { containerId: id, createdAtUs: nowUs(), maxSizeBytes: 65536, startedAtUs: nowUs() }, Status.RUNNING);
  }

  /** A task whose init process's shim is gone (its recorded start time is not the pid's). */
  function lostTask(id: string): Task {
    const task = runningTask(id);
    mkdirSync(task.init.dir, { recursive: true });
    task.init.pid = 4_000_000;
    task.init.shim = { pid: process.pid, startTime: "0" };
    manager.tasks.set(id, task);
    return task;
  }

  function shimLost(process: TaskProcess): Promise<void> {
    return manager.services.monitor.shimLost(process);
  }

  it("kills runc create with its shim's process group at the timeout, before runc delete", async () => {
    fake("create", `echo $$ > ${fakeDir}/create.pid\nexec sleep 1000`);
    fake(
      "delete",
      `pid=$(cat ${fakeDir}/create.pid 2>/dev/null)
state=gone
if [ -n "$pid" ] && [ -r /proc/$pid/stat ]; then state=$(sed 's/^.*) //' /proc/$pid/stat | cut -d' ' -f1); fi
echo "create-at-delete $state" >> ${fakeDir}/calls`,
    );
    const error = await handlerRejection(manager.create("slow", new TextEncoder().encode("{}"), 65536));
    assert.equal(error.code, Code.FailedPrecondition);
    assert.match(error.rawMessage, /^runc create did not finish within 0\.5 s: it was killed$/);
    const log = calls();
    const atDelete = log.find((line) => line.startsWith("create-at-delete "));
    assert.ok(atDelete !== undefined, `runc delete ran: ${log.join("; ")}`);
    assert.match(atDelete, /^create-at-delete (gone|Z|X)$/, "runc create was dead (at most a zombie) when runc delete ran");
    assert.ok(log.indexOf("create slow") < log.indexOf("delete slow"));
    const pid = Number(readFileSync(join(fakeDir, "create.pid"), "utf8"));
    assert.equal(processStartTime(pid), undefined, "runc create is gone");
    assert.ok(!existsSync(join(manager.tasksDir, "slow")), "the bundle is removed");
    assert.equal(manager.has("slow"), false);
  });

  it("records no exit for a lost shim's process when runc fails, and looks again later", async () => {
    fake("state", `echo 'time="x" level=error msg="open state.json: permission denied"' >&2; exit 1`);
    const task = lostTask("runc-fails");
    await shimLost(task.init);
    assert.equal(readExitFile(task.init.dir), undefined, "no exit is made up");
    assert.equal(task.init.exit, undefined);
    assert.deepEqual(published, []);
    assert.ok(warnings.some((w) => /cannot be told now: trying again in 5 s/.test(w)), warnings.join("; "));
    manager.tasks.delete(task.id);
  });

  it("records nothing, and does not fail, when the task is deleted while runc answers", async () => {
    const task = lostTask("deleted");
    const checking = shimLost(task.init);
    // As deleteTask does, before runc state has answered.
    task.deleted = true;
    task.init.deleted = true;
    manager.tasks.delete(task.id);
    rmSync(task.bundle.dir, { recursive: true, force: true });
    await checking;
    assert.equal(existsSync(task.bundle.dir), false);
    assert.deepEqual(published, []);
    assert.deepEqual(calls(), ["state deleted"]);
  });

  it("records an unknown exit, published once, when runc says the container is gone", async () => {
    const task = lostTask("gone");
    await shimLost(task.init);
    assert.deepEqual(readExitFile(task.init.dir)?.status, -1);
    assert.deepEqual(
      published.map((p) => [p.topic, p.message.containerId, p.exitCode]),
      [["/tasks/exit", "gone", 255]],
    );
    await shimLost(task.init);
    assert.equal(published.length, 1);
    manager.tasks.delete(task.id);
  });

  describe("a task's states", () => {
    /** A task as CreateTask leaves it, its init process created (no real one: the fake runc has none). */
    function createdTask(id: string): Task {
      const bundle = new Bundle(join(manager.tasksDir, id), id);
      const task = new Task(manager.services, bundle, { containerId: id, createdAtUs: nowUs(), maxSizeBytes: 65536 }, Status.CREATED);
      mkdirSync(task.init.dir, { recursive: true });
      task.init.pid = 4_000_001;
      manager.tasks.set(id, task);
      return task;
    }

    afterEach(() => {
      for (const command of ["start", "pause", "resume"]) fake(command);
    });

    it("moves through created, running, paused, running, stopped with one runc command per transition and no runc state", async () => {
      for (const command of ["start", "pause", "resume"]) fake(command, "exit 0");
      const task = createdTask("states");
      const refused = async (call: Promise<unknown>, message: string) => {
        const error = await handlerRejection(call);
        assert.equal(error.code, Code.FailedPrecondition);
        assert.equal(error.rawMessage, message);
      };
      assert.equal(task.status(), Status.CREATED);
      await refused(task.pause(), 'task "states" is CREATED, not RUNNING: only a running task can be paused');
      await task.start();
      assert.equal(task.status(), Status.RUNNING);
      assert.ok(task.startedAtUs !== undefined);
      await refused(task.start(), 'task "states" is RUNNING, not CREATED: only a created task can be started');
      await refused(task.delete(), 'task "states" is RUNNING: kill it and wait for it before deleting it');
      await task.pause();
      assert.equal(task.status(), Status.PAUSED);
      await refused(task.pause(), 'task "states" is PAUSED, not RUNNING: only a running task can be paused');
      await task.resume();
      assert.equal(task.status(), Status.RUNNING);
      // The shim records the init process's exit.
      writeFileSync(join(task.init.dir, "exit"), `9 ${nowUs()}\n`);
      assert.equal(task.status(), Status.STOPPED);
      await refused(task.resume(), 'task "states" is STOPPED, not PAUSED: only a paused task can be resumed');
      assert.deepEqual(calls(), ["start states", "pause states", "resume states"]);
      assert.deepEqual(
        published.map((p) => [p.topic, p.exitCode]),
        [["/tasks/start", undefined], ["/tasks/paused", undefined], ["/tasks/resumed", undefined], ["/tasks/exit", 137]],
      );
      manager.tasks.delete(task.id);
    });

    it("stays RUNNING when runc pause fails", async () => {
      fake("start", "exit 0");
      fake("pause", `echo 'time="x" level=error msg="cgroup is frozen elsewhere"' >&2; exit 1`);
      const task = createdTask("pause-fails");
      await task.start();
      const error = await handlerRejection(task.pause());
      assert.equal(error.code, Code.FailedPrecondition);
      assert.equal(error.rawMessage, "runc pause failed: cgroup is frozen elsewhere");
      assert.equal(task.status(), Status.RUNNING);
      manager.tasks.delete(task.id);
    });

    it("publishes the exit of a program that ends during runc start after /tasks/start", async () => {
      const task = createdTask("quick");
      // runc start returns once the program runs; this one has ended by then.
      // Written to a temporary file and renamed into place, as the shim writes it.
      fake("start", `echo "256 $(date +%s)000000" > ${join(task.init.dir, "exit.tmp")}; mv ${join(task.init.dir, "exit.tmp")} ${join(task.init.dir, "exit")}; exit 0`);
      manager.services.monitor.watch(task.init);
      try {
        await task.start();
        assert.deepEqual(
          published.map((p) => [p.topic, p.exitCode]),
          [["/tasks/start", undefined], ["/tasks/exit", 1]],
        );
        assert.equal(task.status(), Status.STOPPED);
      } finally {
        // Its inotify watcher would keep the test process alive.
        manager.services.monitor.forget(task.init);
        manager.tasks.delete(task.id);
      }
    });
  });

  describe("KillTask on an exec process", () => {
    let child: ChildProcess;
    let task: Task;
    let exec: TaskProcess;
    const service = containerRuntimeService({
      manager: async () => manager,
      readContainer: () => Promise.reject(new Error("not used")),
      tokens: {} as PageTokens,
    });
    const kill = async (signal: number) => service.killTask!(create(KillTaskRequestSchema, { containerId: "execs", execId: "e1", signal }), {} as HandlerContext);

    beforeEach(() => {
      child = spawn("sleep", ["1000"], { stdio: "ignore" });
      task = runningTask("execs");
      exec = new TaskProcess(task, "e1", task.bundle.execDir("e1"), ["sleep", "1000"], nowUs());
      mkdirSync(exec.dir, { recursive: true });
      exec.pid = child.pid!;
      task.execs.set("e1", exec);
      manager.tasks.set(task.id, task);
    });

    afterEach(() => {
      child.kill("SIGKILL");
      manager.tasks.delete("execs");
    });

    it("signals the process its shim started", async () => {
      exec.startTime = processStartTime(child.pid!);
      const exited = new Promise((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
      await kill(15);
      assert.equal(await exited, "SIGTERM");
    });

    it("answers FAILED_PRECONDITION, signalling nothing, when the pid names another process now", async () => {
      // The exec process was reaped and its pid reused: a process of another start time.
      exec.startTime = String(Number(processStartTime(child.pid!)) - 1);
      const error = await handlerRejection(kill(9));
      assert.equal(error.code, Code.FailedPrecondition);
      assert.equal(error.rawMessage, 'exec process "e1" is STOPPED: it has exited');
      assert.ok(processStartTime(child.pid!) !== undefined, "the process with that pid was not signalled");
    });

    it("answers FAILED_PRECONDITION when the process's start time is unknown", async () => {
      exec.startTime = undefined;
      const error = await handlerRejection(kill(9));
      assert.equal(error.code, Code.FailedPrecondition);
      assert.match(error.rawMessage, /^exec process "e1" cannot be signalled: its start time was not recorded/);
      assert.ok(processStartTime(child.pid!) !== undefined, "the process with that pid was not signalled");
    });
  });
});
