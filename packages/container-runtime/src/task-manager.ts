/**
 * The tasks of one state directory, kept on disk so that they outlive the
 * runtime component:
 *
 *   <stateDir>/runc/            runc's state root (--root), runc.ts
 *   <stateDir>/shim.pl          the shim script, shim-launcher.ts
 *   <stateDir>/tasks/<id>/      a task's bundle, bundle.ts
 *
 * The manager creates tasks, finds them by id, and finds them again after a
 * restart (task-recovery.ts); a task does the rest itself (task.ts).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { AlreadyExistsError, ensurePrivateDirectory } from "@moby-core/sdk";
import type { EventPublisher, Logger } from "@moby-core/sdk";
import { Status } from "@moby-core/container-runtime-api/v1";
import { Bundle, NO_IO } from "./bundle.js";
import type { ProcessIo } from "./bundle.js";
import { nowUs } from "./clock.js";
import { ExitMonitor } from "./exit-monitor.js";
import { Runc } from "./runc.js";
import { ShimLauncher } from "./shim-launcher.js";
import type { ReadyPrerequisites } from "./shim-launcher.js";
import { TaskEvents } from "./task-events.js";
import { recoverTasks } from "./task-recovery.js";
import { Task } from "./task.js";
import type { TaskServices } from "./task.js";

/** The default bound of each output stream of a process: 10 MiB. */
export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;

/** Settings of a task manager; the defaults suit production, tests shorten them. */
export interface TaskManagerOptions {
  /** How long a shim gets to run runc create or runc exec, in ms (default 120 s). */
  createTimeoutMs?: number;
  /** How long one runc command may take before it is killed, in ms (default 60 s). */
  runcTimeoutMs?: number;
}

/** Keeps the tasks of one state directory. */
export class TaskManager {
  /** The tasks by container id. */
  readonly tasks = new Map<string, Task>();
  /** Where the bundles are. */
  readonly tasksDir: string;
  /** What every task works with. */
  readonly services: TaskServices;
  private readonly creating = new Set<string>();

  constructor(
    /** The state directory. */
    readonly stateDir: string,
    tools: ReadyPrerequisites,
    publisher: EventPublisher,
    logger: Logger,
    options: TaskManagerOptions = {},
  ) {
    this.tasksDir = join(stateDir, "tasks");
    const runc = new Runc(tools.runc, join(stateDir, "runc"), options.runcTimeoutMs);
    const events = new TaskEvents(publisher, logger);
    this.services = {
      runc,
      shims: new ShimLauncher(stateDir, tools, runc.root, logger, options.createTimeoutMs),
      events,
      monitor: new ExitMonitor(runc, logger, () => this.tasks.values(), () => events.markPublished()),
      logger,
      removed: (task) => {
        if (this.tasks.get(task.id) === task) this.tasks.delete(task.id);
      },
    };
  }

  /** Prepares the state directory, finds every task again, and starts watching them. */
  async start(): Promise<void> {
    ensurePrivateDirectory(this.stateDir, "state directory");
    mkdirSync(this.tasksDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.services.runc.root, { recursive: true, mode: 0o700 });
    this.services.shims.install();
    for (const task of await recoverTasks(this.tasksDir, this.services)) {
      this.tasks.set(task.id, task);
      for (const process of task.processes()) this.services.monitor.watch(process);
    }
    this.services.logger.info({ tasks: this.tasks.size }, "tasks recovered");
    this.services.monitor.start();
  }

  /** Stops watching; the tasks and their shims keep running. */
  stop(): void {
    this.services.monitor.stop();
  }

  /** The task of a container, or undefined. */
  get(id: string): Task | undefined {
    return this.tasks.get(id);
  }

  /** Tells whether a task exists or is being created for id. */
  has(id: string): boolean {
    return this.tasks.has(id) || this.creating.has(id);
  }

  /** ALREADY_EXISTS when a task exists or is being created for id. */
  checkFree(id: string): void {
    if (this.has(id)) throw new AlreadyExistsError(`container ${JSON.stringify(id)} has a task already`);
  }

  /** The tasks, by id. */
  list(): Task[] {
    return [...this.tasks.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Writes the bundle and runs the init shim (runc create): a CREATED task, or nothing left behind. */
  async create(id: string, specJson: Uint8Array, maxSizeBytes: number, io: ProcessIo = NO_IO): Promise<Task> {
    this.checkFree(id);
    this.creating.add(id);
    try {
      const bundle = new Bundle(join(this.tasksDir, id), id);
      const record = { containerId: id, createdAtUs: nowUs(), maxSizeBytes, io };
      bundle.create(specJson, record);
      const task = new Task(this.services, bundle, record, Status.CREATED);
      try {
        await task.create();
      } catch (error) {
        await this.services.runc.delete(id).catch(() => {});
        bundle.remove();
        throw error;
      }
      this.tasks.set(id, task);
      return task;
    } finally {
      this.creating.delete(id);
    }
  }
}
