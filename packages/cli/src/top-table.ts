/**
 * What `moby top ID` prints from ListTaskProcesses: one row per process as
 * `ps -ef` (docker top's default) shows them, UID PID PPID STIME TIME CMD,
 * with the exec id of an exec process's main process; or JSON.
 */
import { toJson } from "@bufbuild/protobuf";
import type { TaskProcessInfo } from "@moby-core/container-runtime-api/v1";
import { TaskProcessInfoSchema } from "@moby-core/container-runtime-api/v1";
import { formatTable } from "./components-table.js";

/** The columns of `moby top`. */
export const TOP_HEADER = ["UID", "PID", "PPID", "STIME", "TIME", "EXEC", "CMD"] as const;

/** CPU time as ps shows it: [DD-]HH:MM:SS. */
export function cpuTimeCell(nanoseconds: bigint): string {
  const total = Number(nanoseconds / 1_000_000_000n);
  const days = Math.floor(total / 86400);
  const pad = (n: number) => String(n).padStart(2, "0");
  const clock = `${pad(Math.floor((total % 86400) / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
  return days > 0 ? `${days}-${clock}` : clock;
}

/** A start time as ps's STIME: HH:MM today, else "Mon DD" (local time). */
export function startCell(started: Date, now: Date): string {
  if (started.toDateString() === now.toDateString()) return `${String(started.getHours()).padStart(2, "0")}:${String(started.getMinutes()).padStart(2, "0")}`;
  return `${started.toLocaleString("en-US", { month: "short" })}${String(started.getDate()).padStart(2, "0")}`;
}

/** The processes as `moby top` prints them. */
export function formatTopTable(processes: readonly TaskProcessInfo[], now: Date): string {
  return formatTable(
    TOP_HEADER,
    processes.map((p) => [
      String(p.uid),
      String(p.pid),
      String(p.ppid),
      p.startedAt === undefined ? "-" : startCell(new Date(Number(p.startedAt.seconds) * 1000), now),
      cpuTimeCell(p.cpuTime),
      p.execId === "" ? "-" : p.execId,
      p.args.join(" ").replace(/\s*[\r\n]+\s*/g, " "),
    ]),
  );
}

/** The processes as `moby top --json` prints them: an array of TaskProcessInfo in protobuf JSON. */
export function formatTopJson(processes: readonly TaskProcessInfo[]): string {
  return `${JSON.stringify(processes.map((p) => toJson(TaskProcessInfoSchema, p)), null, 2)}\n`;
}
