/**
 * How `moby ps` shows containers: the runtime's tasks joined with the
 * store's records by container id, as an aligned table for people or a JSON
 * array for scripts. Pure functions of the tasks, the records and the time.
 *
 * The JSON shape is an interface scripts rely on: one object per container,
 * ordered by id, with the fields of ContainerJson.
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { Status } from "@moby-core/container-runtime-api/v1";
import type { Task } from "@moby-core/container-runtime-api/v1";
import type { Container } from "@moby-core/container-store-api/v1";
import { commandOf, shortCommand } from "./container-spec.js";
import { formatTable } from "./components-table.js";
import { formatUptime } from "./uptime.js";

/** A container as `moby ps` lists it: its task, its record, or both. */
export interface ContainerRow {
  id: string;
  /** The runtime's task; undefined for a stored container without one. */
  task?: Task;
  /** The store's record; undefined for a task whose record was deleted. */
  container?: Container;
}

/** One container in `moby ps --json`. */
export interface ContainerJson {
  /** The container id. */
  id: string;
  /** The task's status: "created", "running", "paused", "pausing", "stopped" or "restarting" (stopped, with a restart pending); null when the container has no task. */
  status: string | null;
  /** The host pid of the task's init process (kept after it exited); null without a task. */
  pid: number | null;
  /** The exit code (0 to 255, 128 + the signal when a signal ended it); null unless stopped. */
  exitCode: number | null;
  /** The signal that ended the process, e.g. "SIGKILL"; null unless a signal ended it. */
  signal: string | null;
  /** The program and its arguments, from the record's spec; [] when unknown. */
  command: string[];
  /** The record's image ("" for none: moby create and run name a rootfs instead). */
  image: string;
  /** The record's labels. */
  labels: Record<string, string>;
  /** The record's runtime name ("runc"), "" without a record. */
  runtime: string;
  /** When the container was created (the record's time, else the task's; ISO 8601). */
  createdAt: string | null;
  /** When the task was started (ISO 8601), null if it was not. */
  startedAt: string | null;
  /** When the task's init process exited (ISO 8601), null unless stopped. */
  exitedAt: string | null;
  /** The exec ids of the task's exec processes not deleted yet. */
  execs: string[];
  /** How many times the runtime restarted the container by its restart policy (--restart); 0 without one. */
  restartCount: number;
}

/**
 * The rows of `moby ps`, ordered by id: every task, with its record when the
 * store has one; with all, also every record that has no task.
 */
export function joinContainers(tasks: readonly Task[], containers: readonly Container[], all: boolean): ContainerRow[] {
  const records = new Map(containers.map((c) => [c.id, c]));
  const rows = new Map<string, ContainerRow>();
  for (const task of tasks) {
    const container = records.get(task.containerId);
    rows.set(task.containerId, { id: task.containerId, task, ...(container === undefined ? {} : { container }) });
  }
  if (all) for (const container of containers) if (!rows.has(container.id)) rows.set(container.id, { id: container.id, container });
  return [...rows.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A task status as a word without the enum prefix: "running"; "-" for none. */
export function statusWord(status: Status | undefined): string {
  if (status === undefined || status === Status.UNSPECIFIED) return "-";
  return (Status[status] ?? String(status)).toLowerCase();
}

function isoTime(time: Timestamp | undefined): string | null {
  return time === undefined ? null : timestampDate(time).toISOString();
}

/** When the row's container was created: the record's time, else the task's. */
function createdTime(row: ContainerRow): Timestamp | undefined {
  return row.container?.createdAt ?? row.task?.createdAt;
}

/** The STATUS of a task: its status, or "restarting" while a restart by its policy is pending; "-" without a task. */
export function taskStatusWord(task: Task | undefined): string {
  if (task?.restartTime !== undefined) return "restarting";
  return statusWord(task?.status);
}

/** One row as the documented JSON object of `moby ps --json`. */
export function containerToJson(row: ContainerRow): ContainerJson {
  const task = row.task;
  const stopped = task?.status === Status.STOPPED;
  const exit = stopped ? task.exitStatus : undefined;
  return {
    id: row.id,
    status: task === undefined ? null : taskStatusWord(task),
    pid: task === undefined ? null : task.pid,
    exitCode: stopped ? (exit?.exitCode ?? 0) : null,
    signal: exit !== undefined && exit.signal !== "" ? exit.signal : null,
    command: commandOf(row.container),
    image: row.container?.image ?? "",
    labels: { ...(row.container?.labels ?? {}) },
    runtime: row.container?.runtime?.name ?? "",
    createdAt: isoTime(createdTime(row)),
    startedAt: isoTime(task?.startedAt),
    exitedAt: stopped ? isoTime(exit?.exitTime) : null,
    execs: (task?.execs ?? []).map((e) => e.execId),
    restartCount: task?.restartCount ?? 0,
  };
}

/** The rows as the JSON text of `moby ps --json`: an array, indented, with a final newline. */
export function formatContainersJson(rows: readonly ContainerRow[]): string {
  return `${JSON.stringify(rows.map(containerToJson), null, 2)}\n`;
}

/** The columns of `moby ps`. */
export const PS_HEADER = ["ID", "STATUS", "PID", "EXIT", "CREATED", "COMMAND"] as const;

/** The EXIT cell: the code, with the signal's name when a signal ended it ("137 (SIGKILL)"); "-" unless stopped. */
export function exitCell(task: Task | undefined): string {
  if (task?.status !== Status.STOPPED) return "-";
  const exit = task.exitStatus;
  if (exit === undefined) return "-";
  return exit.signal === "" ? String(exit.exitCode) : `${exit.exitCode} (${exit.signal})`;
}

/** How long ago time was at now, the short human way: "5s ago", "3m12s ago"; "-" without a time. */
export function agoCell(time: Timestamp | undefined, now: Date): string {
  if (time === undefined) return "-";
  return `${formatUptime((now.getTime() - timestampDate(time).getTime()) / 1_000)} ago`;
}

/**
 * The rows as the table of `moby ps`: ID, STATUS (the task's status, "-"
 * for a record without a task), PID ("-" unless the process may be alive:
 * created, running, paused), EXIT (the exit code, with the signal's name),
 * CREATED (how long ago) and COMMAND (the spec's args, shortened to 40
 * characters; "-" without a record).
 */
export function formatContainersTable(rows: readonly ContainerRow[], now: Date): string {
  const cells = rows.map((row) => {
    const task = row.task;
    const alive = task !== undefined && task.status !== Status.STOPPED && task.pid !== 0;
    return [
      row.id,
      taskStatusWord(task),
      alive ? String(task.pid) : "-",
      exitCell(task),
      agoCell(createdTime(row), now),
      shortCommand(commandOf(row.container)) || "-",
    ];
  });
  return formatTable(PS_HEADER, cells);
}
