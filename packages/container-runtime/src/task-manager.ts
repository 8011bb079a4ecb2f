/**
 * The tasks of one state directory, kept on disk so that they outlive the
 * runtime component:
 *
 *   <stateDir>/runc/            runc's state root (--root), runc.ts
 *   <stateDir>/shim.pl          the shim script, shim-launcher.ts
 *   <stateDir>/tasks/<id>/      a task's bundle, bundle.ts
 *
 * The manager creates tasks, finds them by id, finds them again after a
 * restart (task-recovery.ts) and makes them again when their restart policy
 * says so (task-restarter.ts); a task does the rest itself (task.ts).
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
import { OomMonitor } from "./oom-monitor.js";
import { Runc } from "./runc.js";
import { ShimLauncher } from "./shim-launcher.js";
import type { ReadyPrerequisites } from "./shim-launcher.js";
import { TaskCgroups } from "./task-cgroups.js";
import { TaskEvents } from "./task-events.js";
import type { RestartState } from "./restart-policy.js";
import { recoverTasks } from "./task-recovery.js";
import { TaskRestarter } from "./task-restarter.js";
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

/** What a task is created with besides its spec: how its init process's input is wired, its restart policy. */
export interface TaskOptions {
  /** An open stdin, a terminal; default neither. */
  io?: ProcessIo;
  /** The restart policy; default none. */
  restart?: RestartState;
  /** Whether the image store prepared the root filesystem; default not. */
  imageRootfs?: boolean;
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
  private readonly recreating = new Set<Task>();
  private readonly restarter: TaskRestarter;

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
    const restarter = new TaskRestarter(this, logger);
    this.restarter = restarter;
    const cgroups = new TaskCgroups();
    this.services = {
      runc,
      shims: new ShimLauncher(stateDir, tools, runc.root, logger, options.createTimeoutMs),
      events,
      monitor: new ExitMonitor(runc, logger, () => this.tasks.values(), () => events.markPublished()),
      cgroups,
      oom: new OomMonitor(cgroups, events, () => this.tasks.values(), logger),
      logger,
      removed: (task) => {
        restarter.cancel(task);
        // A task being made again stays listed (restarting) until the next one replaces it.
        if (this.tasks.get(task.id) === task && !this.recreating.has(task)) this.tasks.delete(task.id);
      },
      initExited: (task) => restarter.exited(task),
      cancelRestart: (task) => restarter.cancel(task),
    };
  }

  /** Prepares the state directory, finds every task again, and starts watching them. */
  async start(): Promise<void> {
    ensurePrivateDirectory(this.stateDir, "state directory");
    mkdirSync(this.tasksDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.services.runc.root, { recursive: true, mode: 0o700 });
    this.services.shims.install();
    const recovered = await recoverTasks(this.tasksDir, this.services);
    // Exits that happened while the component was down, and restarts that were pending, are decided now.
    this.restarter.recovering = true;
    for (const task of recovered) {
      this.tasks.set(task.id, task);
      this.services.oom.watch(task, false);
      for (const process of task.processes()) this.services.monitor.watch(process);
      task.init.refresh();
    }
    this.restarter.recovering = false;
    this.services.logger.info({ tasks: this.tasks.size }, "tasks recovered");
    this.services.monitor.start();
    this.services.oom.start();
  }

  /** Stops watching and cancels pending restarts; the tasks and their shims keep running. */
  stop(): void {
    this.restarter.stop();
    this.services.monitor.stop();
    this.services.oom.stop();
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
  async create(id: string, specJson: Uint8Array, maxSizeBytes: number, options: TaskOptions = {}): Promise<Task> {
    this.checkFree(id);
    return this.make(id, specJson, maxSizeBytes, options);
  }

  /** Makes a task for a free id, or for the id of a task being made again. */
  private async make(id: string, specJson: Uint8Array, maxSizeBytes: number, options: TaskOptions): Promise<Task> {
    this.creating.add(id);
    try {
      const bundle = new Bundle(join(this.tasksDir, id), id);
      const record = { containerId: id, createdAtUs: nowUs(), maxSizeBytes, io: options.io ?? NO_IO, imageRootfs: options.imageRootfs ?? false, ...(options.restart === undefined ? {} : { restart: options.restart }) };
      bundle.create(specJson, record);
      const task = new Task(this.services, bundle, record, Status.CREATED);
      try {
        await task.create();
        this.services.oom.watch(task, true);
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

  /**
   * Makes a STOPPED task again from its bundle by its restart policy:
   * deletes it, creates and starts the next one. Until the next one exists
   * the deleted task stays listed, so the container is never without a task
   * in between; when the next one cannot be made, it is gone.
   */
  async recreate(task: Task): Promise<Task> {
    const specJson = task.bundle.readSpecJson();
    const restart = task.restart!;
    this.recreating.add(task);
    try {
      await task.delete();
      const next = await this.make(task.id, specJson, task.maxSizeBytes, { io: task.io, ...(task.imageRootfs === undefined ? {} : { imageRootfs: task.imageRootfs }), restart: { ...restart, count: restart.count + 1, stoppedByClient: false } });
      await next.start();
      return next;
    } finally {
      this.recreating.delete(task);
      if (this.tasks.get(task.id) === task) this.tasks.delete(task.id);
    }
  }
}
