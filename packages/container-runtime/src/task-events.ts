/**
 * The /tasks events of the runtime: one method per event (each payload
 * message declares its topic in the contract), and the bookkeeping that
 * publishes a process's exit once across restarts
 * (the exit-published marker is written in the process's directory once the
 * publisher has sent the event, so an exit queued when the runtime is killed
 * is published again after the restart rather than lost). Which event comes
 * when is the task's and the process's business (task.ts, task-process.ts).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import type { EventPublisher, Logger } from "@moby-core/sdk";
import {
  TaskCreateSchema,
  TaskDeleteSchema,
  TaskExecAddedSchema,
  TaskExecStartedSchema,
  TaskExitSchema,
  TaskOOMSchema,
  TaskPausedSchema,
  TaskResumedSchema,
  TaskStartSchema,
} from "@moby-core/events-api/v1";
import { writeFileAtomic } from "./process-files.js";
import type { ExitRecord } from "./process-files.js";
import { exitStatusView } from "./task-view.js";

/** The marker of a process whose /tasks/exit was sent. */
const EXIT_PUBLISHED = "exit-published";

/** A process whose exit is published: its task, ids, pid and directory. */
export interface ExitingProcess {
  readonly containerId: string;
  readonly execId: string;
  readonly pid: number;
  readonly dir: string;
  /** Deleted: no marker is written any more. */
  readonly deleted: boolean;
}

/** Publishes the /tasks events of one runtime. */
export class TaskEvents {
  /** Processes whose exit event is queued and not yet known to be sent. */
  private readonly unmarked = new Set<ExitingProcess>();

  constructor(
    private readonly publisher: EventPublisher,
    private readonly logger: Logger,
  ) {}

  /** /tasks/create: runc created the task's init process. */
  created(containerId: string, bundle: string, pid: number): void {
    this.publisher.publish(TaskCreateSchema, create(TaskCreateSchema, { containerId, bundle, pid }));
  }

  /** /tasks/start: the task's program runs. */
  started(containerId: string, pid: number): void {
    this.publisher.publish(TaskStartSchema, create(TaskStartSchema, { containerId, pid }));
  }

  /** /tasks/paused. */
  paused(containerId: string): void {
    this.publisher.publish(TaskPausedSchema, create(TaskPausedSchema, { containerId }));
  }

  /** /tasks/resumed. */
  resumed(containerId: string): void {
    this.publisher.publish(TaskResumedSchema, create(TaskResumedSchema, { containerId }));
  }

  /** /tasks/exec-added then /tasks/exec-started: an exec process runs. */
  execStarted(containerId: string, execId: string, pid: number): void {
    this.publisher.publish(TaskExecAddedSchema, create(TaskExecAddedSchema, { containerId, execId }));
    this.publisher.publish(TaskExecStartedSchema, create(TaskExecStartedSchema, { containerId, execId, pid }));
  }

  /** The processes whose exit was seen in this run (init processes, exec processes), and the OOM events published: for the metrics. */
  readonly counts = { initExits: 0, execExits: 0, ooms: 0 };

  /** /tasks/oom: the kernel's OOM killer killed a process of the task, the count-th so far. */
  oom(containerId: string, oomKillCount: bigint): void {
    this.counts.ooms++;
    this.publisher.publish(TaskOOMSchema, create(TaskOOMSchema, { containerId, oomKillCount }));
  }

  /** /tasks/delete: the task (its init process) is gone, with how its init process ended. */
  deleted(containerId: string, pid: number, exit: ExitRecord): void {
    this.publisher.publish(TaskDeleteSchema, create(TaskDeleteSchema, { containerId, pid, exitStatus: exitStatusView(exit) }));
  }

  /** Tells whether the exit of the process in dir was published, in this run or an earlier one. */
  exitPublished(dir: string): boolean {
    return existsSync(join(dir, EXIT_PUBLISHED));
  }

  /** /tasks/exit of a process; the marker follows once the publisher has sent it. */
  exited(process: ExitingProcess, exit: ExitRecord): void {
    if (process.execId === "") this.counts.initExits++;
    else this.counts.execExits++;
    this.publisher.publish(
      TaskExitSchema,
      create(TaskExitSchema, { containerId: process.containerId, execId: process.execId, pid: process.pid, exitStatus: exitStatusView(exit) }),
    );
    this.unmarked.add(process);
    void this.publisher.flush(5000).then(
      () => this.markPublished(),
      (error: unknown) => this.logger.warn({ err: error }, "cannot flush the event publisher"),
    );
  }

  /** Writes the exit-published markers of the exits the publisher has sent. */
  markPublished(): void {
    if (this.unmarked.size === 0 || this.publisher.getStats().queued > 0) return;
    for (const process of this.unmarked) {
      this.unmarked.delete(process);
      if (process.deleted) continue;
      try {
        writeFileAtomic(join(process.dir, EXIT_PUBLISHED), "\n");
      } catch (error) {
        this.logger.warn({ err: error, container: process.containerId }, "cannot record that an exit was published");
      }
    }
  }
}
