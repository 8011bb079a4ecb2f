/**
 * One task: a runc container made from a container record, with its init
 * process and its exec processes. The task owns its state and its
 * transitions, as containerd's shim does (process/*_state.go):
 *
 *   CREATED --start--> RUNNING --pause--> PAUSING --> PAUSED --resume--> RUNNING
 *   any status --the init process's exit is recorded--> STOPPED --delete--> gone
 *
 * Its status is what it knows: its own transitions and its init process's
 * exit file, never a runc query. A call not allowed in the current status is
 * FAILED_PRECONDITION, decided in one place (require). Each transition
 * publishes its event after it happened, in order; calls that change the
 * task run one at a time (exclusive).
 */
import { AlreadyExistsError, FailedPreconditionError, NotFoundError, ResourceExhaustedError } from "@moby-core/sdk";
import type { Logger } from "@moby-core/sdk";
import { Status } from "@moby-core/container-runtime-api/v1";
import type { ExecProcessRequest } from "@moby-core/container-runtime-api/v1";
import { NO_IO } from "./bundle.js";
import type { Bundle, ProcessIo, TaskRecord } from "./bundle.js";
import { nowUs, sleep } from "./clock.js";
import { execProcessSpec } from "./exec-request.js";
import type { ExitMonitor } from "./exit-monitor.js";
import type { OomMonitor } from "./oom-monitor.js";
import { isAlive, killShimGroup, processStartTime, readExitFile, writeUnknownExit } from "./process-files.js";
import type { CreatedRecord, ExitRecord } from "./process-files.js";
import type { RestartState } from "./restart-policy.js";
import type { Runc } from "./runc.js";
import type { ShimLauncher } from "./shim-launcher.js";
import type { TaskCgroups } from "./task-cgroups.js";
import { STATUS_NAMES } from "./task-filter.js";
import type { TaskEvents } from "./task-events.js";
import { TaskProcess } from "./task-process.js";

/** The most exec processes of a task. */
export const MAX_EXECS = 32;

/** What a task works with: the runc driver, the shims, the events, the exit monitor. */
export interface TaskServices {
  /** The runc driver, the only code that runs runc. */
  readonly runc: Runc;
  /** Spawns and kills shims. */
  readonly shims: ShimLauncher;
  /** Publishes /tasks events. */
  readonly events: TaskEvents;
  /** Watches the processes' exit files. */
  readonly monitor: ExitMonitor;
  /** Finds the tasks' cgroups. */
  readonly cgroups: TaskCgroups;
  /** Publishes /tasks/oom. */
  readonly oom: OomMonitor;
  /** The component's logger. */
  readonly logger: Logger;
  /** Called once a task is deleted, to forget it. */
  removed(task: Task): void;
  /** Called once the exit of a task's init process is read (in each run of the runtime): its restart policy decides. */
  initExited(task: Task): void;
  /** Cancels a pending restart of task; tells whether one was pending. */
  cancelRestart(task: Task): boolean;
}

/** Where a task is in its lifecycle while its init process has not exited (STOPPED is known from the exit). */
export type TaskState = Status.CREATED | Status.RUNNING | Status.PAUSING | Status.PAUSED;

/** A status in messages: "RUNNING". */
export function statusName(status: Status): string {
  return status === Status.UNSPECIFIED ? "UNSPECIFIED" : STATUS_NAMES[status].toUpperCase();
}

function quote(text: string): string {
  return JSON.stringify(text);
}

/** One task and its processes. */
export class Task {
  /** The init process. */
  readonly init: TaskProcess;
  /** The exec processes by exec id. */
  readonly execs = new Map<string, TaskProcess>();
  /** Deleted: every wait and log stream ends. */
  deleted = false;
  /** When a restart by its policy is due, in µs since the epoch; undefined when none is pending. */
  restartAtUs: number | undefined;
  private state: TaskState;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    /** The runtime's services. */
    readonly services: TaskServices,
    /** The task's files. */
    readonly bundle: Bundle,
    private readonly record: TaskRecord,
    state: TaskState,
  ) {
    this.state = state;
    this.init = new TaskProcess(this, "", bundle.initDir, [], undefined, false, record.io);
  }

  /** The container's id. */
  get id(): string {
    return this.record.containerId;
  }

  /** When the task was created, in µs since the epoch. */
  get createdAtUs(): number {
    return this.record.createdAtUs;
  }

  /** When the task was started, in µs since the epoch; undefined until then. */
  get startedAtUs(): number | undefined {
    return this.record.startedAtUs;
  }

  /** The bound of each output stream of each process, in bytes. */
  get maxSizeBytes(): number {
    return this.record.maxSizeBytes;
  }

  /** How the init process's input is wired. */
  get io(): ProcessIo {
    return this.record.io ?? NO_IO;
  }

  /** Whether the image store prepared the root filesystem; undefined for a task made by a runtime before this was recorded. */
  get imageRootfs(): boolean | undefined {
    return this.record.imageRootfs;
  }

  /** The restart policy and where it stands; undefined when the task is never restarted. */
  get restart(): RestartState | undefined {
    return this.record.restart;
  }

  /** Records a change of where the restart policy stands, in task.json too. */
  saveRestart(restart: RestartState): void {
    this.record.restart = restart;
    this.bundle.saveRecord(this.record);
  }

  /** The init process and the exec processes. */
  processes(): TaskProcess[] {
    return [this.init, ...this.execs.values()];
  }

  /** The task's status: STOPPED once its init process's exit is recorded, else its own state. */
  status(): Status {
    this.init.refresh();
    return this.init.exit !== undefined ? Status.STOPPED : this.state;
  }

  /** FAILED_PRECONDITION unless the task is in one of allowed; the one place a transition is refused. */
  private require(allowed: Status[], why: string): Status {
    const status = this.status();
    if (!allowed.includes(status)) {
      const not = allowed.length === 1 ? `, not ${statusName(allowed[0]!)}` : "";
      throw new FailedPreconditionError(`task ${quote(this.id)} is ${statusName(status)}${not}: ${why}`);
    }
    return status;
  }

  /** Runs fn after every earlier exclusive operation on this task. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  /** The process an exec id names: the init process for "", else an exec process or NOT_FOUND. */
  process(execId: string): TaskProcess {
    if (execId === "") return this.init;
    const process = this.execs.get(execId);
    if (process === undefined) throw new NotFoundError(`task ${quote(this.id)} has no exec process ${quote(execId)}`);
    return process;
  }

  /** Runs the init process's shim (runc create): the task becomes CREATED and publishes /tasks/create. */
  async create(): Promise<void> {
    const created = await this.services.shims.launch(this.init, "init", this.bundle.dir);
    if (!created.ok) throw new FailedPreconditionError(runcFailure("create", created));
    this.init.pid = created.pid;
    this.init.startTime = startTimeOf(this.init, created);
    this.services.events.created(this.id, this.bundle.dir, this.init.pid);
    this.services.monitor.watch(this.init);
  }

  /** CREATED -> RUNNING (runc start); publishes /tasks/start, and only then an exit that came meanwhile. */
  start(): Promise<void> {
    return this.exclusive(async () => {
      this.require([Status.CREATED], "only a created task can be started");
      // A program that exits at once must not be reported exited before it is reported started.
      this.init.holdExit();
      try {
        await this.services.runc.start(this.id);
        this.state = Status.RUNNING;
        this.record.startedAtUs = nowUs();
        this.bundle.saveRecord(this.record);
        this.services.events.started(this.id, this.init.pid);
      } finally {
        this.init.releaseExit();
      }
    });
  }

  /** RUNNING -> PAUSING -> PAUSED (runc pause); publishes /tasks/paused. Back to RUNNING when runc fails. */
  pause(): Promise<void> {
    return this.exclusive(async () => {
      this.require([Status.RUNNING], "only a running task can be paused");
      this.state = Status.PAUSING;
      try {
        await this.services.runc.pause(this.id);
      } catch (error) {
        this.state = Status.RUNNING;
        throw error;
      }
      this.state = Status.PAUSED;
      this.services.events.paused(this.id);
    });
  }

  /** PAUSED -> RUNNING (runc resume); publishes /tasks/resumed. */
  resume(): Promise<void> {
    return this.exclusive(async () => {
      this.require([Status.PAUSED], "only a paused task can be resumed");
      await this.services.runc.resume(this.id);
      this.state = Status.RUNNING;
      this.services.events.resumed(this.id);
    });
  }

  /**
   * Sends signal to the init process (all: to every process of the task) or
   * to an exec process; FAILED_PRECONDITION once the process has exited. A
   * client's signal to the init process stops the restart policy: a pending
   * restart is cancelled (and nothing is sent), and the exit it causes does
   * not restart the task.
   */
  async kill(execId: string, signal: number, all: boolean): Promise<void> {
    if (this.deleted) throw new NotFoundError(`no task for container ${quote(this.id)}`);
    const process = this.process(execId);
    process.refresh();
    if (execId === "" && this.restart !== undefined && !this.restart.stoppedByClient) {
      this.saveRestart({ ...this.restart, stoppedByClient: true });
      if (process.exit !== undefined && this.services.cancelRestart(this)) return;
    }
    if (process.exit !== undefined) {
      throw new FailedPreconditionError(`${execId === "" ? `task ${quote(this.id)}` : `exec process ${quote(execId)}`} is STOPPED: it has exited`);
    }
    if (execId !== "") {
      // Checks that the pid still names the exec process: its shim may
      // have reaped it, freeing the pid, before recording its exit.
      process.signal(signal);
      return;
    }
    try {
      await this.services.runc.kill(this.id, signal, all);
    } catch (error) {
      process.refresh();
      if (process.exit !== undefined) throw new FailedPreconditionError(`task ${quote(this.id)} is STOPPED: it has exited`);
      throw error;
    }
  }

  /** Resolves with how a process ended; NOT_FOUND when it is deleted first. Rejects when signal aborts. */
  async wait(execId: string, signal?: AbortSignal): Promise<ExitRecord> {
    const process = this.process(execId);
    const exit = await process.waitExit(signal);
    if (exit === undefined) {
      throw new NotFoundError(`${execId === "" ? `the task of ${quote(this.id)}` : `exec process ${quote(execId)}`} was deleted while waiting`);
    }
    return exit;
  }

  /**
   * Starts an exec process in the RUNNING task (runc exec --detach, under a
   * shim); publishes /tasks/exec-added and /tasks/exec-started, and only
   * then the process's exit.
   */
  exec(request: ExecProcessRequest): Promise<TaskProcess> {
    return this.exclusive(async () => {
      const { execId } = request;
      if (this.execs.has(execId)) throw new AlreadyExistsError(`task ${quote(this.id)} has an exec process ${quote(execId)} already`);
      if (this.execs.size >= MAX_EXECS) {
        throw new ResourceExhaustedError(`task ${quote(this.id)} has ${MAX_EXECS} exec processes, the most it can have: delete exited ones first`);
      }
      this.require([Status.RUNNING], "exec needs a running task");
      const startedAtUs = nowUs();
      const io = { stdin: request.stdin, terminal: request.terminal };
      const processPath = this.bundle.createExec({ execId, args: request.args, startedAtUs, io }, execProcessSpec(this.bundle.specProcess(), request, this.bundle.specRootfs()));
      const process = new TaskProcess(this, execId, this.bundle.execDir(execId), request.args, startedAtUs, true, io);
      try {
        const created = await this.services.shims.launch(process, "exec", processPath);
        if (!created.ok) throw new FailedPreconditionError(runcFailure("exec", created));
        process.pid = created.pid;
        process.startTime = startTimeOf(process, created);
      } catch (error) {
        await this.services.shims.kill(process);
        this.bundle.removeExec(execId);
        throw error;
      }
      this.execs.set(execId, process);
      this.services.events.execStarted(this.id, execId, process.pid);
      process.releaseExit();
      this.services.monitor.watch(process);
      return process;
    });
  }

  /** Deletes an exited exec process and its output; FAILED_PRECONDITION while it runs. Publishes nothing: /tasks/delete is the task's. */
  deleteExec(execId: string): Promise<{ process: TaskProcess; exit: ExitRecord }> {
    return this.exclusive(async () => {
      if (this.deleted) throw new NotFoundError(`no task for container ${quote(this.id)}`);
      const process = this.process(execId);
      process.refresh();
      const exit = process.exit;
      if (exit === undefined) throw new FailedPreconditionError(`exec process ${quote(execId)} is RUNNING: kill it and wait for it first`);
      if (isAlive(process.shim)) killShimGroup(process.shim);
      this.execs.delete(execId);
      this.forget(process);
      this.bundle.removeExec(execId);
      return { process, exit };
    });
  }

  /**
   * Deletes a task whose init process is not running (CREATED or STOPPED):
   * kills a CREATED one, deletes the runc container, removes the bundle;
   * publishes /tasks/delete. Returns how the init process ended.
   */
  delete(): Promise<ExitRecord> {
    return this.exclusive(async () => {
      if (this.deleted) throw new NotFoundError(`no task for container ${quote(this.id)}`);
      this.require([Status.CREATED, Status.STOPPED], "kill it and wait for it before deleting it");
      const { runc } = this.services;
      if (this.init.exit === undefined) {
        await runc.kill(this.id, 9).catch(() => {});
        await this.init.waitExit(undefined, 10_000);
        if (this.init.exit === undefined) {
          this.init.exit = readExitFile(this.init.dir) ?? writeUnknownExit(this.init.dir);
          this.init.announceExit();
        }
      }
      await runc.delete(this.id);
      // Exec processes still alive (a task without its own PID namespace) were
      // killed by runc delete; give their shims a moment to record it.
      const deadline = Date.now() + 2000;
      while (this.processes().some((p) => isAlive(p.shim)) && Date.now() < deadline) await sleep(20);
      for (const process of this.processes()) if (isAlive(process.shim)) killShimGroup(process.shim);
      const exit = this.init.exit!;
      this.deleted = true;
      this.services.removed(this);
      for (const process of this.processes()) this.forget(process);
      this.bundle.remove();
      this.services.events.deleted(this.id, this.init.pid, exit);
      return exit;
    });
  }

  private forget(process: TaskProcess): void {
    this.services.monitor.forget(process);
    process.markDeleted();
  }
}

/** The message of a failed runc create or exec. */
function runcFailure(command: string, created: Extract<CreatedRecord, { ok: false }>): string {
  const lines = created.message.split("\n").map((line) => line.trim()).filter((line) => line !== "");
  const text = lines.at(-1) ?? `exit status ${created.status}`;
  return text.startsWith("runc ") ? text : `runc ${command} failed: ${text}`;
}

/**
 * The start time of a created process: as its shim recorded it, or, from a
 * shim of an older runtime that did not, read now, but only while its shim
 * runs and has not recorded an exit (so the pid cannot have been reused).
 */
export function startTimeOf(process: TaskProcess, created: Extract<CreatedRecord, { ok: true }>): string | undefined {
  if (created.startTime !== undefined) return created.startTime;
  if (!isAlive(process.shim) || readExitFile(process.dir) !== undefined) return undefined;
  return processStartTime(created.pid);
}
