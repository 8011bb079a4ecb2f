/**
 * The process list of a task, as `docker top` shows it: the pids in the
 * task's cgroup (cgroup.procs, the same file `runc ps` reads, without a
 * spawn) and, for each, what /proc says: parent, user, state, start time,
 * CPU time, resident memory and command line. A process that exits while
 * being read is left out.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { TaskProcessInfoSchema } from "@moby-core/container-runtime-api/v1";
import type { TaskProcessInfo } from "@moby-core/container-runtime-api/v1";
import { timestampFromUs } from "./clock.js";
import type { Task } from "./task.js";
import type { Cgroup } from "./cgroups/cgroup.js";

/** The most processes listed. */
export const MAX_LISTED_PROCESSES = 32768;
/** Kernel clock ticks per second (USER_HZ): 100 on Linux, the unit of /proc/PID/stat's times. */
const TICKS_PER_SECOND = 100;

/** When the node booted, in µs since the epoch (btime of /proc/stat). */
function bootTimeUs(procRoot: string): number {
  const match = /^btime (\d+)$/m.exec(readFileSync(join(procRoot, "stat"), "utf8"));
  return match === null ? 0 : Number(match[1]) * 1_000_000;
}

/** What /proc/PID says about one process, or undefined once it is gone. */
export function readProcessInfo(pid: number, procRoot = "/proc", bootUs = bootTimeUs(procRoot)): Omit<TaskProcessInfo, "execId" | "$typeName"> | undefined {
  try {
    const dir = join(procRoot, String(pid));
    const stat = readFileSync(join(dir, "stat"), "utf8");
    // The command name is in parentheses and may hold spaces and ")": the fields follow the last ")".
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const status = readFileSync(join(dir, "status"), "utf8");
    const uid = /^Uid:\s+(\d+)/m.exec(status);
    const rssKb = /^VmRSS:\s+(\d+) kB/m.exec(status);
    const cmdline = readFileSync(join(dir, "cmdline"), "utf8").split("\0");
    if (cmdline.at(-1) === "") cmdline.pop();
    const ticks = BigInt(fields[11]!) + BigInt(fields[12]!);
    return {
      pid,
      ppid: Number(fields[1]),
      uid: uid === null ? 0 : Number(uid[1]),
      state: fields[0]!,
      startedAt: timestampFromUs(bootUs + (Number(fields[19]) / TICKS_PER_SECOND) * 1_000_000),
      cpuTime: (ticks * 1_000_000_000n) / BigInt(TICKS_PER_SECOND),
      rss: rssKb === null ? 0n : BigInt(rssKb[1]!) * 1024n,
      args: cmdline.length > 0 ? cmdline : [`[${comm}]`],
    };
  } catch {
    return undefined;
  }
}

/** The processes of a task's cgroup, ordered by pid, each exec process's main process named by its exec id. */
export function listTaskProcesses(task: Task, cgroup: Cgroup, procRoot = "/proc"): TaskProcessInfo[] {
  const execIds = new Map<number, string>();
  for (const exec of task.execs.values()) if (exec.exit === undefined && exec.stillRunning()) execIds.set(exec.pid, exec.execId);
  const bootUs = bootTimeUs(procRoot);
  const processes: TaskProcessInfo[] = [];
  for (const pid of cgroup.pids().slice(0, MAX_LISTED_PROCESSES)) {
    const info = readProcessInfo(pid, procRoot, bootUs);
    if (info !== undefined) processes.push(create(TaskProcessInfoSchema, { ...info, execId: execIds.get(pid) ?? "" }));
  }
  return processes;
}
