/**
 * The scratch directory of the container-runtime benchmarks and everything
 * in it: a busybox rootfs, the two bundles (a `true` container and a
 * `sleep 600` one, with the same default spec the runtime's `moby run`
 * builds), the run directory of the store and the runtime, runc's state
 * root for the direct runs; the shims the runtime started; and a cleanup
 * that removes every container of both runc roots, kills every shim left
 * and removes the directory, synchronously, so that it also runs on exit.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { ociSpecJson } from "@moby-core/container-runtime/oci-spec-builder";
import { DEFAULT_BUSYBOX, makeBusyboxRootfs } from "../../packages/container-runtime/src/busybox-rootfs.js";
import { startTime } from "./process-memory.js";

/** The program of the lifecycle containers. */
export const TRUE_ARGS = ["true"];
/** The program of the containers kept running for the memory measurement. */
export const SLEEP_ARGS = ["sleep", "600"];

/** The runc to use: $MOBY_RUNC (as the runtime reads it), else the first runc in PATH or the sbin directories; undefined when not executable. */
export function findRunc(): string | undefined {
  const executable = (path: string) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (process.env.MOBY_RUNC) return executable(process.env.MOBY_RUNC) ? process.env.MOBY_RUNC : undefined;
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/local/sbin", "/usr/sbin", "/sbin"].filter((d) => d !== "");
  return dirs.map((dir) => join(dir, "runc")).find(executable);
}

/** Why the group cannot run here, or undefined when it can (root, runc, busybox). */
export function missingPrerequisite(): string | undefined {
  if (process.platform !== "linux") return "needs Linux";
  if (process.getuid?.() !== 0) return "needs root (runc creates namespaces and cgroups)";
  if (findRunc() === undefined) return process.env.MOBY_RUNC ? `$MOBY_RUNC ${process.env.MOBY_RUNC} is not executable` : "needs runc (Debian: apt-get install runc)";
  if (!existsSync(DEFAULT_BUSYBOX)) return `needs ${DEFAULT_BUSYBOX} (Debian: apt-get install busybox-static)`;
  return undefined;
}

/** A shim the runtime recorded: its pid and start time, and the task it belongs to. */
export interface ShimRecord {
  id: string;
  pid: number;
  startTime: string;
}

/** The scratch directory and its layout. */
export class RuntimeScratch {
  readonly dir: string;
  readonly rootfs: string;
  readonly trueBundle: string;
  readonly sleepBundle: string;
  /** runc's state root of the direct runs. */
  readonly runcRoot: string;
  /** The runtime's state directory (its default: <run dir>/container-runtime). */
  readonly stateDir: string;
  readonly storeSocket: string;
  readonly runtimeSocket: string;
  readonly database: string;
  private removed = false;

  constructor(readonly runc: string) {
    this.dir = mkdtempSync(join(tmpdir(), "moby-bench-runtime-"));
    this.rootfs = makeBusyboxRootfs(join(this.dir, "rootfs"));
    this.trueBundle = this.bundle("bundle-true", TRUE_ARGS);
    this.sleepBundle = this.bundle("bundle-sleep", SLEEP_ARGS);
    this.runcRoot = join(this.dir, "runc-direct");
    mkdirSync(this.runcRoot, { mode: 0o700 });
    this.stateDir = join(this.dir, "container-runtime");
    this.storeSocket = join(this.dir, "store.sock");
    this.runtimeSocket = join(this.dir, "runtime.sock");
    this.database = join(this.dir, "state", "containers.db");
  }

  /** Writes <dir>/<name>/config.json: the default spec running args in the shared rootfs. */
  private bundle(name: string, args: string[]): string {
    const bundle = join(this.dir, name);
    mkdirSync(bundle);
    writeFileSync(join(bundle, "config.json"), ociSpecJson({ rootfs: this.rootfs, args }));
    return bundle;
  }

  /** The init shims the runtime recorded in its task directories, live or not. */
  shims(): ShimRecord[] {
    const tasks = join(this.stateDir, "tasks");
    const found: ShimRecord[] = [];
    let ids: string[] = [];
    try {
      ids = readdirSync(tasks);
    } catch {
      return found;
    }
    for (const id of ids) {
      const dirs = [join(tasks, id, "init")];
      try {
        dirs.push(...readdirSync(join(tasks, id, "execs")).map((e) => join(tasks, id, "execs", e)));
      } catch {
        // no execs
      }
      for (const dir of dirs) {
        try {
          const shim = JSON.parse(readFileSync(join(dir, "shim.json"), "utf8")) as { pid: number; startTime: string };
          found.push({ id, pid: shim.pid, startTime: shim.startTime });
        } catch {
          // none recorded
        }
      }
    }
    return found;
  }

  /**
   * Removes every container of both runc roots (runc delete --force kills
   * what still runs), kills every shim still alive and removes the
   * directory. Synchronous, for an exit handler; never throws; runs once.
   */
  cleanupSync(): void {
    if (this.removed) return;
    this.removed = true;
    for (const root of [join(this.stateDir, "runc"), this.runcRoot]) {
      if (!existsSync(root)) continue;
      const listed = spawnSync(this.runc, ["--root", root, "list", "-q"], { encoding: "utf8", timeout: 30_000 });
      for (const id of (listed.stdout ?? "").split("\n").map((l) => l.trim()).filter((l) => l !== "")) {
        spawnSync(this.runc, ["--root", root, "delete", "--force", id], { timeout: 30_000 });
      }
    }
    for (const shim of this.shims()) {
      if (startTime(shim.pid) === shim.startTime) {
        try {
          process.kill(shim.pid, "SIGKILL");
        } catch {
          // gone
        }
      }
    }
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch {
      // a mount left behind would keep it; nothing more to do here
    }
  }
}
