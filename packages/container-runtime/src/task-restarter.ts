/**
 * Restarts tasks by their restart policy (restart-policy.ts): when a task's
 * init process exits, it decides, waits the policy's delay, and has the
 * manager make the task again from its bundle (delete, create, start), so the
 * events are those of any task: /tasks/delete, /tasks/create, /tasks/start.
 * A pending restart is cancelled by DeleteTask, by a client's KillTask and by
 * the component stopping; after the component restarts, every task found
 * again is decided once more (recovering).
 */
import type { Logger } from "@moby-core/sdk";
import { nowUs } from "./clock.js";
import { exitStatusOf } from "./process-files.js";
import { restartDelayMs, shouldRestart } from "./restart-policy.js";
import type { Task } from "./task.js";

/** What the restarter needs from the task manager. */
export interface Recreator {
  /** Makes the task again from its bundle: deletes it, creates and starts the new one. */
  recreate(task: Task): Promise<Task>;
}

/** Schedules and runs the restarts of one runtime's tasks. */
export class TaskRestarter {
  private readonly timers = new Map<Task, NodeJS.Timeout>();
  /** True while the tasks found again at start are decided: "always" then restarts a task a client stopped. */
  recovering = false;
  private stopped = false;

  constructor(
    private readonly manager: Recreator,
    private readonly logger: Logger,
  ) {}

  /** The init process of task exited: schedules its restart when its policy says so. */
  exited(task: Task): void {
    const restart = task.restart;
    const exit = task.init.exit;
    if (this.stopped || restart === undefined || exit === undefined || task.deleted || this.timers.has(task)) return;
    if (!shouldRestart(restart, exitStatusOf(exit.status).exitCode, this.recovering)) return;
    const ranMs = task.startedAtUs === undefined ? 0 : Math.max(0, (exit.timeUs - task.startedAtUs) / 1000);
    const delayMs = restartDelayMs(restart, ranMs);
    task.saveRestart({ ...restart, lastDelayMs: delayMs, stoppedByClient: false });
    task.restartAtUs = nowUs() + delayMs * 1000;
    this.logger.info({ container: task.id, restarts: restart.count, delayMs }, "restarting by the container's restart policy");
    this.timers.set(
      task,
      setTimeout(() => void this.restart(task), delayMs),
    );
  }

  /** Cancels a pending restart of task; tells whether one was pending. */
  cancel(task: Task): boolean {
    const timer = this.timers.get(task);
    if (timer === undefined) return false;
    clearTimeout(timer);
    this.timers.delete(task);
    task.restartAtUs = undefined;
    return true;
  }

  /** Cancels every pending restart: the component stops (the tasks keep their policy for the next run). */
  stop(): void {
    this.stopped = true;
    for (const task of [...this.timers.keys()]) this.cancel(task);
  }

  private async restart(task: Task): Promise<void> {
    // restartAtUs stays set: the task shows as restarting until the next one replaces it.
    this.timers.delete(task);
    if (this.stopped || task.deleted) return;
    try {
      const next = await this.manager.recreate(task);
      this.logger.info({ container: next.id, pid: next.init.pid, restarts: next.restart?.count }, "restarted");
    } catch (error) {
      this.logger.warn({ err: error, container: task.id }, "cannot restart the container: it has no task now");
    }
  }
}
