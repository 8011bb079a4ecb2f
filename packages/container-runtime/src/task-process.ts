/**
 * One process of a task, the init process or an exec process: its pid, its
 * shim, and how it ended once it did, known from the files its shim writes
 * (process-files.ts). It publishes its own /tasks/exit, once, and never
 * before its start was published: the exit is held while the task starts
 * (init) or until /tasks/exec-started is out (exec), and released after.
 */
import { FailedPreconditionError } from "@moby-core/sdk";
import { isAlive, isDrained, readExitFile } from "./process-files.js";
import type { ExitRecord, ShimRef } from "./process-files.js";
import { NO_IO } from "./bundle.js";
import type { ProcessIo } from "./bundle.js";
import type { ShimTarget } from "./shim-launcher.js";
import type { ExitingProcess } from "./task-events.js";
import type { Task } from "./task.js";

/** The init process or one exec process of a task. */
export class TaskProcess implements ShimTarget, ExitingProcess {
  /** The host pid, once runc created the process. */
  pid = 0;
  /** The process's start time (field 22 of /proc/PID/stat), which tells it from a later process with the same pid; undefined when unknown. */
  startTime: string | undefined;
  /** How it ended, once it did. */
  exit: ExitRecord | undefined;
  /** The shim wrote all its output. */
  drained = false;
  /** The shim, once spawned. */
  shim: ShimRef | undefined;
  /** Deleted (alone or with its task): waits and log streams end. */
  deleted = false;
  /** Its /tasks/exit must wait: its start is not published yet. */
  private exitHeld: boolean;
  /** Its /tasks/exit is queued for publishing (this run of the runtime), or was published in an earlier one. */
  private exitAnnounced = false;
  private readonly listeners = new Set<() => void>();

  constructor(
    /** The task the process belongs to. */
    readonly task: Task,
    /** Empty for the init process. */
    readonly execId: string,
    /** The process's directory (bundle.ts). */
    readonly dir: string,
    /** The program and its arguments (empty for the init process: they are the spec's). */
    readonly args: string[],
    /** When an exec process was started, in µs since the epoch; undefined for the init process. */
    readonly startedAtUs: number | undefined,
    /** Hold the exit event until releaseExit(): a new exec process, whose start is not published yet. */
    holdExit = false,
    /** How its input is wired: an open stdin, a terminal. */
    readonly io: ProcessIo = NO_IO,
  ) {
    this.exitHeld = holdExit;
  }

  /** The container's id. */
  get containerId(): string {
    return this.task.id;
  }

  /** The bound of each output stream, in bytes. */
  get maxSizeBytes(): number {
    return this.task.maxSizeBytes;
  }

  /** Its exit is known and its output drained: nothing more will change. */
  get settled(): boolean {
    return this.exit !== undefined && this.drained;
  }

  /** Calls listener on every change (exit, drained, deletion) until the returned function is called. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** Reads the exit and drained files its shim writes; wakes waiters and publishes the exit when new. */
  refresh(): void {
    if (this.deleted) return;
    let changed = false;
    if (this.exit === undefined) {
      const exit = readExitFile(this.dir);
      if (exit !== undefined) {
        this.exit = exit;
        changed = true;
        // The restart decision comes with the exit, even while its event is held.
        if (this.execId === "") this.task.services.initExited(this.task);
        this.announceExit();
      }
    }
    if (!this.drained && isDrained(this.dir)) {
      this.drained = true;
      changed = true;
    }
    if (changed) this.notify();
  }

  /** Holds /tasks/exit until releaseExit(): the process's start is being published. */
  holdExit(): void {
    this.exitHeld = true;
  }

  /** Its start is published (or will never be): publishes its exit if it is known. */
  releaseExit(): void {
    this.exitHeld = false;
    this.announceExit();
  }

  /** Publishes /tasks/exit once, across restarts too, and never while it is held. */
  announceExit(): void {
    if (this.exit === undefined || this.exitHeld || this.exitAnnounced) return;
    const events = this.task.services.events;
    this.exitAnnounced = true;
    if (events.exitPublished(this.dir)) return;
    // An OOM kill that caused this exit is published before it.
    this.task.services.oom.check(this.task);
    events.exited(this, this.exit);
  }

  /** Marks the process deleted: waits and log streams end. */
  markDeleted(): void {
    this.deleted = true;
    this.notify();
  }

  /** Resolves with the exit once known; undefined when the process is deleted first, or after timeoutMs. Rejects when signal aborts. */
  waitExit(signal?: AbortSignal, timeoutMs?: number): Promise<ExitRecord | undefined> {
    this.refresh();
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

  /**
   * Tells whether an exec process is still the process its shim started:
   * alive, not a zombie, with the start time recorded when it was created.
   * Its shim reaps it when it exits and writes the exit file only after
   * reading the rest of its output; in between the pid is free and may be
   * another process's.
   */
  stillRunning(): boolean {
    if (this.startTime === undefined) return false;
    return isAlive({ pid: this.pid, startTime: this.startTime });
  }

  /**
   * Sends signal to an exec process, after checking that its pid still names
   * it (stillRunning); FAILED_PRECONDITION when it has exited, so that
   * whatever reused its pid is never signalled.
   */
  signal(signal: number): void {
    const name = `exec process ${JSON.stringify(this.execId)}`;
    if (this.startTime === undefined) {
      throw new FailedPreconditionError(`${name} cannot be signalled: its start time was not recorded (its shim was lost), so its pid ${this.pid} may be another process's by now`);
    }
    // Between this check and kill(2) the process would have to exit, be
    // reaped and have its pid reused: a window of microseconds (Node has no
    // pidfd_send_signal to close it).
    if (!this.stillRunning()) throw new FailedPreconditionError(`${name} is STOPPED: it has exited`);
    try {
      process.kill(this.pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ESRCH") throw new FailedPreconditionError(`${name} is STOPPED: it has exited`);
      throw new FailedPreconditionError(`cannot signal ${name} (pid ${this.pid}): ${(error as Error).message}`);
    }
  }
}
