/**
 * The cgroup of each task, found from its init process (/proc/PID/cgroup)
 * while that process lives and kept for the task's life: after the init
 * process exits its cgroup stays until runc delete, so an OOM kill is still
 * read after the exit it caused. Samples (TaskMetrics) are read from it.
 */
import { create } from "@bufbuild/protobuf";
import { FailedPreconditionError } from "@moby-core/sdk";
import { Status, TaskMetricsSchema } from "@moby-core/container-runtime-api/v1";
import type { TaskMetrics } from "@moby-core/container-runtime-api/v1";
import { cgroupOfProcess, SYSTEM_ROOTS } from "./cgroups/cgroup.js";
import type { Cgroup, CgroupRoots } from "./cgroups/cgroup.js";
import { nowUs, timestampFromUs } from "./clock.js";
import type { Task } from "./task.js";

/** Finds and keeps the cgroups of tasks. */
export class TaskCgroups {
  private readonly found = new WeakMap<Task, Cgroup>();

  constructor(private readonly roots: CgroupRoots = SYSTEM_ROOTS) {}

  /** The cgroup found for task earlier, or now if its init process still runs; undefined when neither. */
  known(task: Task): Cgroup | undefined {
    const kept = this.found.get(task);
    if (kept !== undefined) return kept;
    if (task.init.exit !== undefined || task.init.pid === 0) return undefined;
    const cgroup = cgroupOfProcess(task.init.pid, this.roots);
    if (cgroup !== undefined) this.found.set(task, cgroup);
    return cgroup;
  }

  /** The cgroup of a task that is not STOPPED; FAILED_PRECONDITION otherwise, or when it cannot be found. */
  of(task: Task): Cgroup {
    const name = JSON.stringify(task.id);
    if (task.status() === Status.STOPPED) throw new FailedPreconditionError(`task ${name} is STOPPED: its processes have exited, so there is nothing to measure`);
    const cgroup = this.known(task);
    if (cgroup === undefined || !cgroup.exists()) {
      throw new FailedPreconditionError(`cannot find the cgroup of task ${name} (its init process ${task.init.pid} has no /proc/${task.init.pid}/cgroup)`);
    }
    return cgroup;
  }

  /** One sample of a task that is not STOPPED. */
  metrics(task: Task): TaskMetrics {
    const cgroup = this.of(task);
    const sample = cgroup.sample();
    return create(TaskMetricsSchema, { containerId: task.id, timestamp: timestampFromUs(nowUs()), cgroupVersion: cgroup.version, ...sample });
  }
}
