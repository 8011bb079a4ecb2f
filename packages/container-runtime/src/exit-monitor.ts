/**
 * Watches the processes of every task for what their shims record: inotify
 * on each process's directory, and a poll every second for what inotify
 * missed and for shims that died without recording everything (killed from
 * outside, the machine's OOM killer). For those it records what can still be
 * known: an exit of unknown status (255) once the process is gone, or that
 * the output is drained.
 */
import { watch } from "node:fs";
import type { FSWatcher } from "node:fs";
import { join } from "node:path";
import type { Logger } from "@moby-core/sdk";
import { isAlive, pidAlive, writeFileAtomic, writeUnknownExit } from "./process-files.js";
import type { Runc } from "./runc.js";
import type { TaskProcess } from "./task-process.js";
import type { Task } from "./task.js";

/** How often the processes are checked besides inotify, in ms. */
const CHECK_EVERY_MS = 1000;
/** The first and the longest wait before a lost shim's process is looked at again after runc failed, in ms. */
const LOST_RETRY_MIN_MS = 5000;
const LOST_RETRY_MAX_MS = 60_000;

/** Watches the processes of a set of tasks. */
export class ExitMonitor {
  private readonly watchers = new Map<TaskProcess, FSWatcher>();
  private readonly lostChecks = new Set<TaskProcess>();
  /** Processes of lost shims whose check failed (runc did not answer): when to look again, and the wait before that. */
  private readonly lostRetries = new Map<TaskProcess, { at: number; delayMs: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly runc: Runc,
    private readonly logger: Logger,
    /** The tasks to look at on each poll. */
    private readonly tasks: () => Iterable<Task>,
    /** Runs on each poll before the processes are looked at. */
    private readonly onTick: () => void = () => {},
  ) {}

  /** Starts the poll. */
  start(): void {
    this.timer = setInterval(() => this.tick(), CHECK_EVERY_MS);
    this.timer.unref();
  }

  /** Stops the poll and every watcher. */
  stop(): void {
    clearInterval(this.timer);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  /** Watches a process's directory until it is settled, and looks at it now. */
  watch(process: TaskProcess): void {
    if (!this.watchers.has(process) && !process.settled) {
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

  /** Stops watching a deleted process. */
  forget(process: TaskProcess): void {
    this.unwatch(process);
    this.lostChecks.delete(process);
    this.lostRetries.delete(process);
  }

  private check(process: TaskProcess): void {
    process.refresh();
    if (process.settled) this.unwatch(process);
  }

  private unwatch(process: TaskProcess): void {
    this.watchers.get(process)?.close();
    this.watchers.delete(process);
  }

  /** The periodic check: exit files inotify missed, and shims that are gone. */
  private tick(): void {
    this.onTick();
    const now = Date.now();
    for (const task of this.tasks()) {
      for (const process of task.processes()) {
        if (process.settled) continue;
        this.check(process);
        if (!process.settled && process.shim !== undefined && !isAlive(process.shim)) {
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
  async shimLost(process: TaskProcess): Promise<void> {
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
      } else if (process.startTime !== undefined ? process.stillRunning() : pidAlive(process.pid)) {
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
}

/** Tells whether a process or its task was deleted (its directory is gone or going). */
function gone(process: TaskProcess): boolean {
  return process.deleted || process.task.deleted;
}
