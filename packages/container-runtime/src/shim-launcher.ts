/**
 * Starts shims: a small detached perl process per container process
 * (shim-script.ts), a child subreaper, that runs `runc create` or
 * `runc exec --detach`, reaps the process, keeps its output and writes its
 * exit status to a file. This module installs the script, spawns a shim and
 * waits until its runc command is done, and kills a shim's process group.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "@moby-core/sdk";
import { sleep } from "./clock.js";
import type { ProcessIo } from "./bundle.js";
import type { Prerequisites } from "./prerequisites.js";
import { groupMembers, isAlive, killShimGroup, processStartTime, readCreatedFile, writeFileAtomic } from "./process-files.js";
import type { CreatedRecord, ShimRef } from "./process-files.js";
import { SHIM_SCRIPT } from "./shim-script.js";

/** How long a shim gets to run runc create or runc exec by default, in ms. */
export const DEFAULT_CREATE_TIMEOUT_MS = 120_000;
/** How long a killed shim's process group gets to be gone, in ms. */
const GROUP_GONE_TIMEOUT_MS = 10_000;

/** The prerequisites, as found. */
export type ReadyPrerequisites = Extract<Prerequisites, { ready: true }>;

/** The process a shim is for: where its files go, and where its shim is recorded. */
export interface ShimTarget {
  /** The container's id. */
  readonly containerId: string;
  /** The exec id; empty for the init process. */
  readonly execId: string;
  /** The process's directory. */
  readonly dir: string;
  /** The bound of each output stream, in bytes. */
  readonly maxSizeBytes: number;
  /** The shim, once spawned (also in shim.json). */
  shim: ShimRef | undefined;
  /** How the process's input is wired: an open stdin, a terminal. */
  readonly io: ProcessIo;
}

/** Spawns and kills the shims of one state directory. */
export class ShimLauncher {
  /** The path of the installed shim script. */
  readonly scriptPath: string;

  constructor(
    stateDir: string,
    private readonly tools: ReadyPrerequisites,
    /** runc's state root (--root). */
    private readonly runcRoot: string,
    private readonly logger: Logger,
    /** How long a shim gets to run runc create or runc exec, in ms. */
    private readonly createTimeoutMs = DEFAULT_CREATE_TIMEOUT_MS,
  ) {
    this.scriptPath = join(stateDir, "shim.pl");
  }

  /** Writes the shim script unless the state directory has this version of it. */
  install(): void {
    const current = existsSync(this.scriptPath) ? readFileSync(this.scriptPath, "utf8") : undefined;
    if (current !== SHIM_SCRIPT) writeFileAtomic(this.scriptPath, SHIM_SCRIPT);
  }

  /**
   * Spawns the shim of target and waits until its runc command (create for
   * "init", exec for "exec", on the bundle or process.json at path) is
   * done. When it fails or times out, the shim's process group (the shim,
   * runc and runc init) is gone by the time this returns, so that a runc
   * delete the caller runs next cannot be overtaken by a runc create still
   * at work.
   */
  async launch(target: ShimTarget, mode: "init" | "exec", path: string): Promise<CreatedRecord> {
    const log = openSync(join(target.dir, "shim.log"), "a", 0o600);
    let spawnError: Error | undefined;
    let exited = false;
    try {
      const args = [
        this.scriptPath,
        mode,
        String(this.tools.syscalls.prctl),
        String(this.tools.syscalls.clockGettime),
        this.tools.runc,
        this.runcRoot,
        target.containerId,
        target.dir,
        path,
        String(target.maxSizeBytes),
        target.io.stdin ? "1" : "0",
        target.io.terminal ? "1" : "0",
        String(this.tools.syscalls.recvmsg),
        String(this.tools.syscalls.tiocswinsz),
      ];
      const child = spawn(this.tools.perl, args, {
        detached: true,
        stdio: ["ignore", log, log],
        cwd: "/",
        env: { PATH: process.env.PATH ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
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
          target.shim = { pid: child.pid, startTime };
          writeFileAtomic(join(target.dir, "shim.json"), JSON.stringify(target.shim));
        }
      }
    } finally {
      closeSync(log);
    }
    const command = mode === "init" ? "create" : "exec";
    const deadline = Date.now() + this.createTimeoutMs;
    for (let pause = 2; ; pause = Math.min(pause * 2, 25)) {
      const created = readCreatedFile(target.dir);
      if (created !== undefined) return created;
      if (exited) {
        await sleep(10);
        const late = readCreatedFile(target.dir);
        if (late !== undefined) return late;
        // A shim killed from outside may leave its runc running in its group.
        await this.kill(target);
        const shimLog = readTail(join(target.dir, "shim.log"));
        return { ok: false, status: -1, message: `the shim stopped before runc ${command} finished: ${spawnError?.message ?? (shimLog || "no output")}` };
      }
      if (Date.now() > deadline) {
        await this.kill(target);
        return { ok: false, status: -1, message: `runc ${command} did not finish within ${this.createTimeoutMs / 1000} s: it was killed` };
      }
      await sleep(pause);
    }
  }

  /**
   * Waits until a shim found after a restart has recorded how its runc
   * command went (at most the create timeout); kills its process group when
   * it never does. Returns the record, or undefined.
   */
  async awaitCreated(target: ShimTarget): Promise<CreatedRecord | undefined> {
    let created = readCreatedFile(target.dir);
    const deadline = Date.now() + this.createTimeoutMs;
    while (created === undefined && isAlive(target.shim) && Date.now() < deadline) {
      await sleep(50);
      created = readCreatedFile(target.dir);
    }
    // The caller runs runc delete next: the shim's runc must be gone first.
    if (created === undefined) await this.kill(target);
    return created;
  }

  /**
   * Kills the shim of target with its process group (runc create or runc
   * exec with it) and waits until no process of the group is left, so that
   * nothing of it acts after the caller cleans up.
   */
  async kill(target: ShimTarget): Promise<void> {
    const shim = target.shim;
    if (!killShimGroup(shim)) return;
    const deadline = Date.now() + GROUP_GONE_TIMEOUT_MS;
    for (let members = groupMembers(shim!.pid); members.length > 0; members = groupMembers(shim!.pid)) {
      if (Date.now() > deadline) {
        this.logger.warn({ container: target.containerId, exec: target.execId || undefined, pids: members }, `the shim's processes were killed but are still there after ${GROUP_GONE_TIMEOUT_MS / 1000} s`);
        return;
      }
      await sleep(20);
    }
  }
}

function readTail(path: string): string {
  try {
    return readFileSync(path, "utf8").trim().split("\n").slice(-3).join("; ");
  } catch {
    return "";
  }
}
