/**
 * CPU time of another process, read from /proc/<pid>/stat (Linux): what a
 * server spent while a client measured it. On a shared, noisy machine the
 * CPU time per call moves far less than the throughput does.
 */
import { readFileSync } from "node:fs";

/** The kernel's clock ticks per second (USER_HZ), 100 on every common Linux. */
const TICKS_PER_SECOND = 100;

/** The user + system CPU time pid has used, in µs; undefined when it cannot be read (not Linux, gone). */
export function processCpuMicros(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command (in parentheses, may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1_000_000) / TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

/** The CPU time this process has used, user + system, in µs. */
export function ownCpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}
