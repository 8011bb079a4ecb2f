/**
 * The messages of moby.container.runtime.v1 that describe tasks and
 * processes, made from what a task knows: no runc, no files.
 */
import { create } from "@bufbuild/protobuf";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { ProcessSchema, Status, TaskSchema } from "@moby-core/container-runtime-api/v1";
import type { Process, Task as TaskMessage } from "@moby-core/container-runtime-api/v1";
import { ExitStatusSchema } from "@moby-core/types-api/v1";
import type { ExitStatus } from "@moby-core/types-api/v1";
import { signalName, timestampFromUs } from "./clock.js";
import { exitStatusOf } from "./process-files.js";
import type { ExitRecord } from "./process-files.js";
import { RESTART_MODES } from "./restart-policy.js";
import type { TaskProcess } from "./task-process.js";
import type { Task } from "./task.js";

/** The ExitStatus message of an exit: code, signal name and when it was reaped. */
export function exitStatusView(exit: ExitRecord): ExitStatus {
  const { exitCode, signal } = exitStatusOf(exit.status);
  return create(ExitStatusSchema, { exitCode, signal: signal === 0 ? "" : signalName(signal), exitTime: timestampFromUs(exit.timeUs) });
}

/** The Process message of a process of a task in taskStatus. */
export function processView(process: TaskProcess, taskStatus: Status): Process {
  const status =
    process.exit !== undefined
      ? Status.STOPPED
      : taskStatus === Status.PAUSED || taskStatus === Status.PAUSING
        ? taskStatus
        : Status.RUNNING;
  return create(ProcessSchema, {
    execId: process.execId,
    pid: process.pid,
    status,
    args: process.args,
    ...(process.startedAtUs === undefined ? {} : { startedAt: timestampFromUs(process.startedAtUs) }),
    ...(process.exit === undefined ? {} : { exitStatus: exitStatusView(process.exit) }),
  });
}

/** The restart fields of a task's message: count, policy, and when a pending restart is due. */
function restartView(task: Task): Pick<MessageInitShape<typeof TaskSchema>, "restartCount" | "restartPolicy" | "restartTime"> {
  const restart = task.restart;
  if (restart === undefined) return {};
  return {
    restartCount: restart.count,
    restartPolicy: { mode: RESTART_MODES[restart.mode], maxRetries: restart.maxRetries },
    ...(task.restartAtUs === undefined ? {} : { restartTime: timestampFromUs(task.restartAtUs) }),
  };
}

/** The Task message of a task, in its status now (or in status, when the caller has it). */
export function taskView(task: Task, status: Status = task.status()): TaskMessage {
  const stopped = status === Status.STOPPED && task.init.exit !== undefined;
  const execs = [...task.execs.values()].sort((a, b) => (a.execId < b.execId ? -1 : 1));
  return create(TaskSchema, {
    containerId: task.id,
    pid: task.init.pid,
    status,
    createdAt: timestampFromUs(task.createdAtUs),
    bundle: task.bundle.dir,
    logConfig: { maxSizeBytes: BigInt(task.maxSizeBytes) },
    execs: execs.map((process) => processView(process, status)),
    ...(task.startedAtUs === undefined ? {} : { startedAt: timestampFromUs(task.startedAtUs) }),
    ...(stopped ? { exitStatus: exitStatusView(task.init.exit!) } : {}),
    ...restartView(task),
  });
}
