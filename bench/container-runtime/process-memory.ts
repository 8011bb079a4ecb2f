/**
 * The memory of another process (Linux): resident, proportional and unique
 * set sizes from /proc/<pid>/smaps_rollup, fields of /proc/<pid>/status,
 * and who its parent is.
 */
import { readFileSync, readdirSync } from "node:fs";

/** A process's memory in KiB: RSS counts shared pages in full, PSS divides them among their users, USS is what only it holds. */
export interface ProcessMemory {
  rssKiB: number;
  pssKiB: number;
  /** Private_Clean + Private_Dirty: what its exit would free. */
  ussKiB: number;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** The memory of pid from /proc/<pid>/smaps_rollup; undefined when it cannot be read (gone, kernel without it). */
export function processMemory(pid: number): ProcessMemory | undefined {
  const text = readText(`/proc/${pid}/smaps_rollup`);
  if (text === undefined) return undefined;
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? Number.NaN);
  const memory = { rssKiB: field("Rss"), pssKiB: field("Pss"), ussKiB: field("Private_Clean") + field("Private_Dirty") };
  return Number.isFinite(memory.rssKiB) ? memory : undefined;
}

/** A "<name>: <n> kB" field of /proc/<pid>/status (VmRSS, VmHWM, RssAnon...), in KiB; NaN when it cannot be read. */
export function statusKiB(pid: number, name: string): number {
  const text = readText(`/proc/${pid}/status`);
  const match = text === undefined ? null : new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text);
  return match ? Number(match[1]) : Number.NaN;
}

/** The fields of /proc/<pid>/stat after the command; undefined when pid is gone. */
function statFields(pid: number): string[] | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  return stat === undefined ? undefined : stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** The parent pid of pid; 0 when it is gone. */
export function parentPid(pid: number): number {
  return Number(statFields(pid)?.[1] ?? 0);
}

/** The start time of a live process (field 22 of stat), undefined when it is gone or a zombie: with the pid, names one process. */
export function startTime(pid: number): string | undefined {
  const fields = statFields(pid);
  if (fields === undefined || fields[0] === "Z" || fields[0] === "X") return undefined;
  return fields[19];
}

/** The command line of pid, its arguments joined by spaces; "" when it is gone. */
export function commandLine(pid: number): string {
  return (readText(`/proc/${pid}/cmdline`) ?? "").split("\0").join(" ").trim();
}

/** The pids of the live children of each of parents (by their parent pid, from /proc). */
export function childrenOf(parents: ReadonlySet<number>): Map<number, number[]> {
  const children = new Map<number, number[]>([...parents].map((p) => [p, []]));
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const parent = parentPid(pid);
    if (parents.has(parent) && startTime(pid) !== undefined) children.get(parent)!.push(pid);
  }
  return children;
}
