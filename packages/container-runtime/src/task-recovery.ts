/**
 * Finds the tasks of a state directory again after the runtime restarted:
 * each bundle whose creation finished, its init process and exec processes
 * whose runc command succeeded (waiting for a shim still at work), and each
 * task's state from one `runc list` for all of them. What did not finish is
 * removed; a process that exited meanwhile is found by its exit file.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { isId } from "@moby-core/sdk/list";
import { Status } from "@moby-core/container-runtime-api/v1";
import { Bundle } from "./bundle.js";
import type { TaskRecord } from "./bundle.js";
import { readJson } from "./process-files.js";
import type { ShimRef } from "./process-files.js";
import type { RuncState } from "./runc.js";
import { TaskProcess } from "./task-process.js";
import { Task, startTimeOf } from "./task.js";
import type { TaskServices, TaskState } from "./task.js";

/** The state of a recovered task whose init process has not exited, as runc last knew it. */
function stateOf(runcState: RuncState | undefined, record: TaskRecord): TaskState {
  switch (runcState?.status) {
    case "created":
      return Status.CREATED;
    case "running":
      return Status.RUNNING;
    case "pausing":
    case "paused":
      return Status.PAUSED;
  }
  // Stopped or unknown to runc: its exit file tells the rest.
  return record.startedAtUs === undefined ? Status.CREATED : Status.RUNNING;
}

/** Reads a process's shim and created files; false when its runc command never succeeded. */
async function recoverProcess(services: TaskServices, process: TaskProcess): Promise<boolean> {
  process.shim = readJson<ShimRef>(join(process.dir, "shim.json"));
  const created = await services.shims.awaitCreated(process);
  if (created === undefined || !created.ok) return false;
  process.pid = created.pid;
  process.startTime = startTimeOf(process, created);
  return true;
}

async function discard(services: TaskServices, bundle: Bundle): Promise<void> {
  await services.runc.delete(bundle.id).catch((error: unknown) => services.logger.warn({ err: error, container: bundle.id }, "runc delete failed"));
  bundle.remove();
}

/** Every task of tasksDir, found again; removes what did not finish. */
export async function recoverTasks(tasksDir: string, services: TaskServices): Promise<Task[]> {
  const { logger } = services;
  const names = readdirSync(tasksDir).sort();
  let states = new Map<string, RuncState>();
  if (names.length > 0) {
    try {
      states = await services.runc.list();
    } catch (error) {
      logger.warn({ err: error }, "runc list failed: the tasks' states are taken from their files");
    }
  }
  const tasks: Task[] = [];
  for (const name of names) {
    const dir = join(tasksDir, name);
    if (!isId(name)) {
      logger.warn({ dir }, "ignoring a directory that is not a task");
      continue;
    }
    const bundle = new Bundle(dir, name);
    const record = bundle.readRecord();
    if (record === undefined) {
      logger.warn({ container: name }, "removing a task whose creation did not finish");
      await discard(services, bundle);
      continue;
    }
    const task = new Task(services, bundle, record, stateOf(states.get(name), record));
    if (!(await recoverProcess(services, task.init))) {
      logger.warn({ container: name }, "removing a task whose runc create did not succeed");
      await discard(services, bundle);
      continue;
    }
    for (const exec of bundle.readExecs()) {
      const process = new TaskProcess(task, exec.execId, bundle.execDir(exec.execId), exec.args, exec.startedAtUs, false, exec.io);
      if (await recoverProcess(services, process)) task.execs.set(exec.execId, process);
      else bundle.removeExec(exec.execId);
    }
    tasks.push(task);
  }
  return tasks;
}
