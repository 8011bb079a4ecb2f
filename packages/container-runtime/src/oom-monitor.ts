/**
 * Publishes /tasks/oom when the kernel's OOM killer kills a process of a
 * task: it compares the OOM kill counter of each task's cgroup (v1
 * memory.oom_control oom_kill, v2 memory.events oom_kill) with the last
 * count it published. It checks every task that is not STOPPED once a
 * second, and a task right before any of its processes' /tasks/exit is
 * published (task-process.ts), so an exit caused by an OOM kill comes after
 * its /tasks/oom, as containerd orders them. A counter read is one small
 * file; v1's eventfd notification (memory.oom_control with
 * cgroup.event_control) cannot be armed from Node.
 *
 * Counting starts at 0 for a task created in this run of the runtime, and
 * at the count found for a task found again after a restart: an OOM kill
 * while the runtime was down is not published afterwards.
 */
import type { Logger } from "@moby-core/sdk";
import { Status } from "@moby-core/container-runtime-api/v1";
import type { TaskCgroups } from "./task-cgroups.js";
import type { TaskEvents } from "./task-events.js";
import type { Task } from "./task.js";

/** How often running tasks are checked, in ms. */
export const OOM_POLL_MS = 1000;

/** Watches the OOM kill counters of tasks. */
export class OomMonitor {
  private readonly published = new WeakMap<Task, bigint>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly cgroups: TaskCgroups,
    private readonly events: TaskEvents,
    private readonly tasks: () => Iterable<Task>,
    private readonly logger: Logger,
  ) {}

  /** Starts counting for task: from 0 when it was just created, else from its cgroup's count now. */
  watch(task: Task, created: boolean): void {
    const cgroup = this.cgroups.known(task);
    this.published.set(task, created || cgroup === undefined ? 0n : cgroup.oomKills());
  }

  /** Publishes /tasks/oom when task's cgroup counts more OOM kills than were published. */
  check(task: Task): void {
    if (task.deleted) return;
    const last = this.published.get(task);
    const cgroup = this.cgroups.known(task);
    if (last === undefined || cgroup === undefined) return;
    try {
      const count = cgroup.oomKills();
      if (count <= last) return;
      this.published.set(task, count);
      this.events.oom(task.id, count);
    } catch (error) {
      this.logger.warn({ err: error, container: task.id }, "cannot read the OOM kill counter");
    }
  }

  /** Checks every task that is not STOPPED once every OOM_POLL_MS. */
  start(): void {
    this.timer = setInterval(() => {
      for (const task of this.tasks()) if (task.status() !== Status.STOPPED) this.check(task);
    }, OOM_POLL_MS);
    this.timer.unref();
  }

  /** Stops the checks. */
  stop(): void {
    clearInterval(this.timer);
  }
}
