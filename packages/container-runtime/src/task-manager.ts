/**
 * The tasks on this node and their processes, kept on disk so that they
 * outlive the runtime component:
 *
 *   <stateDir>/runc/                     runc's state root (--root)
 *   <stateDir>/shim.pl                   the shim script (shim-script.ts)
 *   <stateDir>/tasks/<container_id>/     the task: its OCI bundle
 *     config.json                        the container's spec, byte for byte
 *     task.json                          created/started times, log bound
 *     init/                              the init process (process-files.ts)
 *     execs/<exec_id>/                   an exec process: exec.json, process.json
 *
 * Every process has a shim (shim-script.ts): a small detached perl process,
 * a child subreaper, that ran `runc create` or `runc exec --detach`, reaps
 * the process, keeps its output and writes its exit status to a file. The
 * manager watches those files (inotify, and a poll every second), wakes
 * waiters, and publishes /tasks/exit once per process (exit-published).
 * After a restart it scans the task directories and carries on where it
 * stopped; a process that exited meanwhile is found by its exit file.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, watch, writeFileSync } from "node:fs";
import type { FSWatcher } from "node:fs";
import { constants } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { AlreadyExistsError, FailedPreconditionError, ensurePrivateDirectory, isId } from "@moby-core/sdk";
import type { EventPublisher, Logger } from "@moby-core/sdk";
import { TaskExitSchema } from "@moby-core/events-api/v1";
import type { Prerequisites } from "./prerequisites.js";
import {
  exitStatusOf,
  groupMembers,
  isAlive,
  isDrained,
  killShimGroup,
  pidAlive,
  processStartTime,
  readCreatedFile,
  readExitFile,
  readJson,
  writeFileAtomic,
  writeUnknownExit,
} from "./process-files.js";
import type { CreatedRecord, ExitRecord, ShimRef } from "./process-files.js";
import { Runc } from "./runc.js";
import { SHIM_SCRIPT } from "./shim-script.js";

/** The default bound of each output stream of a process: 10 MiB. */
export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;
/** The most exec processes of a task. */
export const MAX_EXECS = 32;
/** How often the processes are checked besides inotify, in ms. */
const CHECK_EVERY_MS = 1000;
/** How long a shim gets to run runc create or runc exec, in ms. */
const CREATE_TIMEOUT_MS = 120_000;
/** How long a killed shim's process group gets to be gone, in ms. */
const GROUP_GONE_TIMEOUT_MS = 10_000;
/** The first and the longest wait before a lost shim's process is looked at again after runc failed, in ms. */
const LOST_RETRY_MIN_MS = 5000;
const LOST_RETRY_MAX_MS = 60_000;

/** Settings of a task manager; the defaults suit production, tests shorten them. */
export interface TaskManagerOptions {
  /** How long a shim gets to run runc create or runc exec, in ms (default 120 s). */
  createTimeoutMs?: number;
  /** How long one runc command may take before it is killed, in ms (default 60 s). */
  runcTimeoutMs?: number;
}

/** The microseconds since the epoch, now. */
export function nowUs(): number {
  return Date.now() * 1000;
}

/** A Timestamp from microseconds since the epoch. */
export function timestampFromUs(us: number): Timestamp {
  const seconds = Math.floor(us / 1_000_000);
  return create(TimestampSchema, { seconds: BigInt(seconds), nanos: Math.round(us - seconds * 1_000_000) * 1000 });
}

/** The name of a signal number, for example "SIGKILL". */
export function signalName(signal: number): string {
  const entry = Object.entries(constants.signals).find(([, value]) => value === signal);
  return entry?.[0] ?? `SIG${signal}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** task.json. */
interface TaskFile {
  version: 1;
  containerId: string;
  createdAtUs: number;
  startedAtUs?: number;
  maxSizeBytes: number;
}

/** exec.json. */
interface ExecFile {
  version: 1;
  execId: string;
  args: string[];
  startedAtUs: number;
}

/** The init process or one exec process of a task. */
export class TaskProcess {
  /** The host pid, once runc created the process. */
  pid = 0;
  /** The process's start time (field 22 of /proc/PID/stat), which tells it from a later process with the same pid; undefined when unknown. */
  startTime: string | undefined;
  /** How it ended, once it did. */
  exit: ExitRecord | undefined;
  /** The shim wrote all its output. */
  drained = false;
  shim: ShimRef | undefined;
  /** Deleted (alone or with its task): waits and log streams end. */
  deleted = false;
  /** Its /tasks/exit is queued for publishing (this run of the runtime). */
  exitQueued = false;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly task: Task,
    /** Empty for the init process. */
    readonly execId: string,
    readonly dir: string,
    readonly args: string[],
    readonly startedAtUs: number | undefined,
  ) {}

  /** Calls listener on every change (exit, drained, deletion) until the returned function is called. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** Resolves with the exit once known; undefined when the process is deleted first, or after timeoutMs. Rejects when signal aborts. */
  waitExit(signal?: AbortSignal, timeoutMs?: number): Promise<ExitRecord | undefined> {
    if (this.exit !== undefined || this.deleted) return Promise.resolve(this.exit);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (error?: unknown) => {
        unsubscribe();
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (error !== undefined) reject(error);
        else resolve(this.exit);
      };
      const unsubscribe = this.onChange(() => {
        if (this.exit !== undefined || this.deleted) finish();
      });
      const onAbort = () => finish(signal!.reason ?? new Error("aborted"));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeoutMs !== undefined) timer = setTimeout(() => finish(), timeoutMs);
    });
  }
}

/** One task: a runc container made from a container record, with its processes. */
export class Task {
  readonly init: TaskProcess;
  readonly execs = new Map<string, TaskProcess>();
  /** Deleted: every wait and log stream ends. */
  deleted = false;
  /** PauseTask is freezing it. */
  pausing = false;
  /** StartTask is starting it: its init's /tasks/exit waits for /tasks/start. */
  starting = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly id: string,
    /** The task directory, which is the OCI bundle. */
    readonly bundle: string,
    readonly createdAtUs: number,
    readonly maxSizeBytes: number,
    public startedAtUs: number | undefined,
  ) {
    this.init = new TaskProcess(this, "", join(bundle, "init"), [], undefined);
  }

  /** Runs fn after every earlier exclusive operation on this task. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  /** Writes task.json. */
  save(): void {
    const file: TaskFile = {
      version: 1,
      containerId: this.id,
      createdAtUs: this.createdAtUs,
      maxSizeBytes: this.maxSizeBytes,
      ...(this.startedAtUs === undefined ? {} : { startedAtUs: this.startedAtUs }),
    };
    writeFileAtomic(join(this.bundle, "task.json"), JSON.stringify(file));
  }

  /** The init process and the exec processes. */
  processes(): TaskProcess[] {
    return [this.init, ...this.execs.values()];
  }
}

/** The prerequisites, as found. */
export type ReadyPrerequisites = Extract<Prerequisites, { ready: true }>;

/** Keeps the tasks of one state directory. */
export class TaskManager {
  readonly tasks = new Map<string, Task>();
  readonly runc: Runc;
  readonly tasksDir: string;
  readonly shimPath: string;
  private readonly creating = new Set<string>();
  private readonly watchers = new Map<TaskProcess, FSWatcher>();
  private readonly lostChecks = new Set<TaskProcess>();
  /** Processes of lost shims whose check failed (runc did not answer): when to look again, and the wait before that. */
  private readonly lostRetries = new Map<TaskProcess, { at: number; delayMs: number }>();
  private readonly createTimeoutMs: number;
  /** Processes whose exit event is queued and not yet known to be sent. */
  private readonly unmarked = new Set<TaskProcess>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly stateDir: string,
    private readonly tools: ReadyPrerequisites,
    private readonly publisher: EventPublisher,
    private readonly logger: Logger,
    options: TaskManagerOptions = {},
  ) {
    this.runc = new Runc(tools.runc, join(stateDir, "runc"), options.runcTimeoutMs);
    this.createTimeoutMs = options.createTimeoutMs ?? CREATE_TIMEOUT_MS;
    this.tasksDir = join(stateDir, "tasks");
    this.shimPath = join(stateDir, "shim.pl");
  }

  /** Prepares the state directory, finds every task again, and starts watching them. */
  async start(): Promise<void> {
    ensurePrivateDirectory(this.stateDir, "state directory");
    mkdirSync(this.tasksDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.runc.root, { recursive: true, mode: 0o700 });
    const current = existsSync(this.shimPath) ? readFileSync(this.shimPath, "utf8") : undefined;
    if (current !== SHIM_SCRIPT) writeFileAtomic(this.shimPath, SHIM_SCRIPT);
    await this.recover();
    this.timer = setInterval(() => this.tick(), CHECK_EVERY_MS);
    this.timer.unref();
  }

  /** Stops watching; the tasks and their shims keep running. */
  stop(): void {
    clearInterval(this.timer);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  /** The task of a container, or undefined. */
  get(id: string): Task | undefined {
    return this.tasks.get(id);
  }

  /** Tells whether a task exists or is being created for id. */
  has(id: string): boolean {
    return this.tasks.has(id) || this.creating.has(id);
  }

  // --- creating ---------------------------------------------------------

  /** Writes the bundle and runs the init shim (runc create); the task is CREATED. */
  async createTask(id: string, json: Uint8Array, maxSizeBytes: number): Promise<Task> {
    if (this.has(id)) throw new AlreadyExistsError(`container ${JSON.stringify(id)} has a task already`);
    this.creating.add(id);
    const bundle = join(this.tasksDir, id);
    try {
      try {
        mkdirSync(bundle, { mode: 0o700 });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new AlreadyExistsError(`container ${JSON.stringify(id)} has a task already`);
        throw error;
      }
      try {
        writeFileSync(join(bundle, "config.json"), json, { mode: 0o600 });
        const task = new Task(id, bundle, nowUs(), maxSizeBytes, undefined);
        task.save();
        mkdirSync(task.init.dir);
        const created = await this.runShim(task.init, "init", bundle);
        if (!created.ok) throw new FailedPreconditionError(runcFailure("create", created));
        task.init.pid = created.pid;
        task.init.startTime = startTimeOf(task.init, created);
        this.tasks.set(id, task);
        this.watch(task.init);
        return task;
      } catch (error) {
        await this.runc.delete(id).catch(() => {});
        rmSync(bundle, { recursive: true, force: true });
        throw error;
      }
    } finally {
      this.creating.delete(id);
    }
  }

  /** Starts an exec process in task with the given OCI process (runc exec --detach, under a shim). */
  async execProcess(task: Task, execId: string, processJson: object, args: string[]): Promise<TaskProcess> {
    const dir = join(task.bundle, "execs", execId);
    mkdirSync(join(task.bundle, "execs"), { recursive: true });
    try {
      mkdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new AlreadyExistsError(`task ${JSON.stringify(task.id)} has an exec process ${JSON.stringify(execId)} already`);
      throw error;
    }
    const process = new TaskProcess(task, execId, dir, args, nowUs());
    try {
      writeFileSync(join(dir, "process.json"), JSON.stringify(processJson), { mode: 0o600 });
      const file: ExecFile = { version: 1, execId, args, startedAtUs: process.startedAtUs! };
      writeFileAtomic(join(dir, "exec.json"), JSON.stringify(file));
      const created = await this.runShim(process, "exec", join(dir, "process.json"));
      if (!created.ok) throw new FailedPreconditionError(runcFailure("exec", created));
      process.pid = created.pid;
      process.startTime = startTimeOf(process, created);
    } catch (error) {
      await this.killShim(process);
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    task.execs.set(execId, process);
    this.watch(process);
    return process;
  }

  /**
   * Spawns the shim of process and waits until its runc command is done.
   * When it fails or times out, the shim's process group (the shim, runc and
   * runc init) is gone by the time this returns, so that a runc delete the
   * caller runs next cannot be overtaken by a runc create still at work.
   */
  private async runShim(process: TaskProcess, mode: "init" | "exec", target: string): Promise<CreatedRecord> {
    const { task } = process;
    const log = openSync(join(process.dir, "shim.log"), "a", 0o600);
    let spawnError: Error | undefined;
    let exited = false;
    try {
      const args = [
        this.shimPath,
        mode,
        String(this.tools.syscalls.prctl),
        String(this.tools.syscalls.clockGettime),
        this.tools.runc,
        this.runc.root,
        task.id,
        process.dir,
        target,
        String(task.maxSizeBytes),
      ];
      const child = spawn(this.tools.perl, args, {
        detached: true,
        stdio: ["ignore", log, log],
        cwd: "/",
        env: { PATH: globalThis.process.env.PATH ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
      });
      child.once("error", (error) => {
        spawnError = error;
        exited = true;
      });
      child.once("exit", () => (exited = true));
      child.unref();
      if (child.pid !== undefined) {
        const startTime = processStartTime(child.pid);
        if (startTime !== undefined) {
          process.shim = { pid: child.pid, startTime };
          writeFileAtomic(join(process.dir, "shim.json"), JSON.stringify(process.shim));
        }
      }
    } finally {
      closeSync(log);
    }
    const command = mode === "init" ? "create" : "exec";
    const deadline = Date.now() + this.createTimeoutMs;
    for (let pause = 2; ; pause = Math.min(pause * 2, 25)) {
      const created = readCreatedFile(process.dir);
      if (created !== undefined) return created;
      if (exited) {
        await sleep(10);
        const late = readCreatedFile(process.dir);
        if (late !== undefined) return late;
        // A shim killed from outside may leave its runc running in its group.
        await this.killShim(process);
        const shimLog = readTail(join(process.dir, "shim.log"));
        return { ok: false, status: -1, message: `the shim stopped before runc ${command} finished: ${spawnError?.message ?? (shimLog || "no output")}` };
      }
      if (Date.now() > deadline) {
        await this.killShim(process);
        return { ok: false, status: -1, message: `runc ${command} did not finish within ${this.createTimeoutMs / 1000} s: it was killed` };
      }
      await sleep(pause);
    }
  }

  // --- deleting ---------------------------------------------------------

  /** Deletes a task whose init process is not running: kills a CREATED one, deletes the runc container, removes the bundle. */
  async deleteTask(task: Task): Promise<ExitRecord> {
    if (task.init.exit === undefined) {
      await this.runc.kill(task.id, 9).catch(() => {});
      await task.init.waitExit(undefined, 10_000);
      this.check(task.init);
      if (task.init.exit === undefined) task.init.exit = writeUnknownExit(task.init.dir);
    }
    await this.runc.delete(task.id);
    // Exec processes still alive (a task without its own PID namespace) were
    // killed by runc delete; give their shims a moment to record it.
    const deadline = Date.now() + 2000;
    while (task.processes().some((p) => isAlive(p.shim)) && Date.now() < deadline) await sleep(20);
    for (const process of task.processes()) if (isAlive(process.shim)) killShimGroup(process.shim);
    const exit = task.init.exit!;
    task.deleted = true;
    this.tasks.delete(task.id);
    for (const process of task.processes()) this.forget(process);
    rmSync(task.bundle, { recursive: true, force: true });
    return exit;
  }

  /** Deletes an exited exec process and its output. */
  deleteExec(task: Task, process: TaskProcess): void {
    if (isAlive(process.shim)) killShimGroup(process.shim);
    task.execs.delete(process.execId);
    this.forget(process);
    rmSync(process.dir, { recursive: true, force: true });
  }

  private forget(process: TaskProcess): void {
    process.deleted = true;
    this.unwatch(process);
    this.lostChecks.delete(process);
    this.lostRetries.delete(process);
    process.notify();
  }

  /**
   * Kills the shim of process with its process group (runc create or runc
   * exec with it) and waits until no process of the group is left, so that
   * nothing of it acts after the caller cleans up.
   */
  private async killShim(process: TaskProcess): Promise<void> {
    const shim = process.shim;
    if (!killShimGroup(shim)) return;
    const deadline = Date.now() + GROUP_GONE_TIMEOUT_MS;
    for (let members = groupMembers(shim!.pid); members.length > 0; members = groupMembers(shim!.pid)) {
      if (Date.now() > deadline) {
        this.logger.warn({ container: process.task.id, exec: process.execId || undefined, pids: members }, `the shim's processes were killed but are still there after ${GROUP_GONE_TIMEOUT_MS / 1000} s`);
        return;
      }
      await sleep(20);
    }
  }

  // --- signalling -------------------------------------------------------

  /**
   * Tells whether an exec process is still the process its shim started:
   * alive, not a zombie, with the start time recorded when it was created.
   * Its shim reaps it when it exits and writes the exit file only after
   * reading the rest of its output; in between the pid is free and may be
   * another process's.
   */
  execAlive(process: TaskProcess): boolean {
    if (process.startTime === undefined) return false;
    return isAlive({ pid: process.pid, startTime: process.startTime });
  }

  /**
   * Sends signal to an exec process, after checking that its pid still names
   * it (execAlive); FAILED_PRECONDITION when it has exited, so that whatever
   * reused its pid is never signalled.
   */
  signalExec(process: TaskProcess, signal: number): void {
    const name = `exec process ${JSON.stringify(process.execId)}`;
    if (process.startTime === undefined) {
      throw new FailedPreconditionError(`${name} cannot be signalled: its start time was not recorded (its shim was lost), so its pid ${process.pid} may be another process's by now`);
    }
    // Between this check and kill(2) the process would have to exit, be
    // reaped and have its pid reused: a window of microseconds (Node has no
    // pidfd_send_signal to close it).
    if (!this.execAlive(process)) throw new FailedPreconditionError(`${name} is STOPPED: it has exited`);
    try {
      globalThis.process.kill(process.pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ESRCH") throw new FailedPreconditionError(`${name} is STOPPED: it has exited`);
      throw new FailedPreconditionError(`cannot signal ${name} (pid ${process.pid}): ${(error as Error).message}`);
    }
  }

  // --- watching ---------------------------------------------------------

  private watch(process: TaskProcess): void {
    if (!this.watchers.has(process) && !(process.exit !== undefined && process.drained)) {
      try {
        const watcher = watch(process.dir, () => this.check(process));
        watcher.on("error", () => this.unwatch(process));
        this.watchers.set(process, watcher);
      } catch {
        // the poll covers it
      }
    }
    this.check(process);
  }

  private unwatch(process: TaskProcess): void {
    this.watchers.get(process)?.close();
    this.watchers.delete(process);
  }

  /** Reads the process's exit and drained files; wakes waiters and publishes the exit when new. */
  check(process: TaskProcess): void {
    if (process.deleted) return;
    let changed = false;
    if (process.exit === undefined) {
      const exit = readExitFile(process.dir);
      if (exit !== undefined) {
        process.exit = exit;
        changed = true;
        this.publishExit(process);
      }
    }
    if (!process.drained && isDrained(process.dir)) {
      process.drained = true;
      changed = true;
    }
    if (process.exit !== undefined && process.drained) this.unwatch(process);
    if (changed) process.notify();
  }

  /**
   * Publishes /tasks/exit for a process once, across restarts too: the
   * exit-published marker is written once the publisher's queue has drained
   * past the event, so an exit event queued when the runtime is killed is
   * published again after the restart rather than lost. Called again by
   * StartTask once /tasks/start is queued.
   */
  publishExit(process: TaskProcess): void {
    if (process.exit === undefined || process.exitQueued || existsSync(join(process.dir, "exit-published"))) return;
    // A program that exits at once must not be reported exited before it is reported started.
    if (process === process.task.init && process.task.starting) return;
    process.exitQueued = true;
    const { exitCode, signal } = exitStatusOf(process.exit.status);
    this.publisher.publish(
      "/tasks/exit",
      TaskExitSchema,
      create(TaskExitSchema, {
        containerId: process.task.id,
        execId: process.execId,
        pid: process.pid,
        exitCode,
        signal: signal === 0 ? "" : signalName(signal),
        exitedAt: timestampFromUs(process.exit.timeUs),
      }),
    );
    this.unmarked.add(process);
    void this.publisher.flush(5000).then(
      () => this.markPublished(),
      (error: unknown) => this.logger.warn({ err: error }, "cannot flush the event publisher"),
    );
  }

  /** Writes the exit-published markers of the exits the publisher has sent. */
  private markPublished(): void {
    if (this.unmarked.size === 0 || this.publisher.getStats().queued > 0) return;
    for (const process of this.unmarked) {
      this.unmarked.delete(process);
      if (process.deleted) continue;
      try {
        writeFileAtomic(join(process.dir, "exit-published"), "\n");
      } catch (error) {
        this.logger.warn({ err: error, container: process.task.id }, "cannot record that an exit was published");
      }
    }
  }

  /** The periodic check: exit files inotify missed, and shims that are gone. */
  private tick(): void {
    this.markPublished();
    const now = Date.now();
    for (const task of this.tasks.values()) {
      for (const process of task.processes()) {
        if (process.exit !== undefined && process.drained) continue;
        this.check(process);
        if ((process.exit === undefined || !process.drained) && process.shim !== undefined && !isAlive(process.shim)) {
          if ((this.lostRetries.get(process)?.at ?? 0) > now) continue;
          void this.shimLost(process);
        }
      }
    }
  }

  /**
   * A shim died without recording everything: records what can be known.
   * Never rejects: when that cannot be told (runc failed or did not answer)
   * or recorded (the disk is full), it logs why and looks again later, with
   * a growing wait.
   */
  private async shimLost(process: TaskProcess): Promise<void> {
    if (this.lostChecks.has(process)) return;
    this.lostChecks.add(process);
    try {
      await this.recordLost(process);
      this.lostRetries.delete(process);
    } catch (error) {
      if (!gone(process)) {
        const delayMs = Math.min(LOST_RETRY_MAX_MS, 2 * (this.lostRetries.get(process)?.delayMs ?? LOST_RETRY_MIN_MS / 2));
        this.lostRetries.set(process, { at: Date.now() + delayMs, delayMs });
        this.logger.warn(
          { err: error, container: process.task.id, exec: process.execId || undefined },
          `the shim of a process is gone and how the process ended cannot be told now: trying again in ${delayMs / 1000} s`,
        );
      }
    } finally {
      this.lostChecks.delete(process);
    }
  }

  /** The work of shimLost; throws when runc fails or a file cannot be written. */
  private async recordLost(process: TaskProcess): Promise<void> {
    if (gone(process)) return;
    this.check(process);
    if (process.exit === undefined) {
      // The process may outlive its shim; then its exit can no longer be
      // seen, only that it ended.
      if (process.execId === "") {
        // Only runc saying there is no such container, or that it stopped,
        // tells that the init process ended; a runc that fails or does not
        // answer tells nothing (it throws, and the check is tried again).
        const state = await this.runc.state(process.task.id);
        // Deleted while runc answered: its directory is gone, nothing to record.
        if (gone(process)) return;
        if (state !== undefined && state.status !== "stopped") return;
      } else if (process.startTime !== undefined ? this.execAlive(process) : pidAlive(process.pid)) {
        return;
      }
      this.check(process);
      if (process.exit === undefined) {
        this.logger.warn({ container: process.task.id, exec: process.execId || undefined }, "the shim of a process is gone: its exit status is unknown (255)");
        writeUnknownExit(process.dir);
      }
    } else if (!process.drained) {
      writeFileAtomic(join(process.dir, "drained"), "\n");
    }
    this.check(process);
  }

  // --- recovering -------------------------------------------------------

  /** Finds every task of the state directory again. */
  private async recover(): Promise<void> {
    for (const name of readdirSync(this.tasksDir).sort()) {
      const bundle = join(this.tasksDir, name);
      if (!isId(name)) {
        this.logger.warn({ dir: bundle }, "ignoring a directory that is not a task");
        continue;
      }
      const file = readJson<TaskFile>(join(bundle, "task.json"));
      if (file === undefined || file.containerId !== name) {
        this.logger.warn({ container: name }, "removing a task whose creation did not finish");
        await this.discard(name, bundle);
        continue;
      }
      const task = new Task(name, bundle, file.createdAtUs, file.maxSizeBytes, file.startedAtUs);
      if (!(await this.recoverProcess(task.init))) {
        this.logger.warn({ container: name }, "removing a task whose runc create did not succeed");
        await this.discard(name, bundle);
        continue;
      }
      const execsDir = join(bundle, "execs");
      for (const execId of existsSync(execsDir) ? readdirSync(execsDir).sort() : []) {
        const dir = join(execsDir, execId);
        const exec = readJson<ExecFile>(join(dir, "exec.json"));
        if (!isId(execId) || exec === undefined || exec.execId !== execId) {
          rmSync(dir, { recursive: true, force: true });
          continue;
        }
        const process = new TaskProcess(task, execId, dir, exec.args, exec.startedAtUs);
        if (await this.recoverProcess(process)) task.execs.set(execId, process);
        else rmSync(dir, { recursive: true, force: true });
      }
      this.tasks.set(name, task);
      for (const process of task.processes()) this.watch(process);
    }
    this.logger.info({ tasks: this.tasks.size }, "tasks recovered");
  }

  /** Reads a process's files; false when its runc command never succeeded. */
  private async recoverProcess(process: TaskProcess): Promise<boolean> {
    process.shim = readJson<ShimRef>(join(process.dir, "shim.json"));
    let created = readCreatedFile(process.dir);
    const deadline = Date.now() + this.createTimeoutMs;
    while (created === undefined && isAlive(process.shim) && Date.now() < deadline) {
      await sleep(50);
      created = readCreatedFile(process.dir);
    }
    // The caller runs runc delete next: the shim's runc must be gone first.
    if (created === undefined) await this.killShim(process);
    if (created === undefined || !created.ok) return false;
    process.pid = created.pid;
    process.startTime = startTimeOf(process, created);
    return true;
  }

  private async discard(id: string, bundle: string): Promise<void> {
    await this.runc.delete(id).catch((error: unknown) => this.logger.warn({ err: error, container: id }, "runc delete failed"));
    rmSync(bundle, { recursive: true, force: true });
  }
}

/** The message of a failed runc create or exec. */
function runcFailure(command: string, created: Extract<CreatedRecord, { ok: false }>): string {
  const lines = created.message.split("\n").map((line) => line.trim()).filter((line) => line !== "");
  const text = lines.at(-1) ?? `exit status ${created.status}`;
  return text.startsWith("runc ") ? text : `runc ${command} failed: ${text}`;
}

function readTail(path: string): string {
  try {
    return readFileSync(path, "utf8").trim().split("\n").slice(-3).join("; ");
  } catch {
    return "";
  }
}

/** Tells whether a process or its task was deleted (its directory is gone or going). */
function gone(process: TaskProcess): boolean {
  return process.deleted || process.task.deleted;
}

/**
 * The start time of a created process: as its shim recorded it, or, from a
 * shim of an older runtime that did not, read now, but only while its shim
 * runs and has not recorded an exit (so the pid cannot have been reused).
 */
function startTimeOf(process: TaskProcess, created: Extract<CreatedRecord, { ok: true }>): string | undefined {
  if (created.startTime !== undefined) return created.startTime;
  if (!isAlive(process.shim) || readExitFile(process.dir) !== undefined) return undefined;
  return processStartTime(created.pid);
}
