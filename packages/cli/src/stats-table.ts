/**
 * What `moby stats` prints from the runtime's TaskMetrics: per container
 * the CPU use between two samples (as docker's, 100% is one CPU busy), the
 * memory working set (use minus inactive page cache, as docker's) over the
 * limit (the node's memory when there is none), block I/O read and
 * written, and the number of processes; as a table or as JSON lines.
 */
import { totalmem } from "node:os";
import { toJson } from "@bufbuild/protobuf";
import type { TaskMetrics } from "@moby-core/container-runtime-api/v1";
import { TaskMetricsSchema } from "@moby-core/container-runtime-api/v1";
import { formatTable } from "./components-table.js";

/** One container's row of `moby stats`. */
export interface StatsRow {
  id: string;
  /** CPU use since the previous sample, in percent of one CPU; null without a previous sample. */
  cpuPercent: number | null;
  /** The working set, in bytes. */
  memoryUsage: number;
  /** The limit, in bytes (the node's memory when the container has none). */
  memoryLimit: number;
  memoryPercent: number;
  blockRead: number;
  blockWrite: number;
  pids: number;
}

/** The nanoseconds since the epoch of a sample. */
function sampleTimeNs(metrics: TaskMetrics): bigint {
  return (metrics.timestamp?.seconds ?? 0n) * 1_000_000_000n + BigInt(metrics.timestamp?.nanos ?? 0);
}

/** The row of a sample, with the CPU use since previous (a sample of the same container) when given. */
export function statsRow(metrics: TaskMetrics, previous?: TaskMetrics, nodeMemory = totalmem()): StatsRow {
  const usage = metrics.memory?.usage;
  const used = usage?.usage ?? 0n;
  const inactive = metrics.memory?.inactiveFile ?? 0n;
  const workingSet = Number(inactive < used ? used - inactive : used);
  const limit = usage?.limit !== undefined && usage.limit > 0n ? Number(usage.limit) : nodeMemory;
  let cpuPercent: number | null = null;
  if (previous !== undefined) {
    const elapsed = sampleTimeNs(metrics) - sampleTimeNs(previous);
    const cpu = (metrics.cpu?.usage?.total ?? 0n) - (previous.cpu?.usage?.total ?? 0n);
    cpuPercent = elapsed > 0n && cpu >= 0n ? (Number(cpu) / Number(elapsed)) * 100 : 0;
  }
  const io = metrics.io?.usage ?? [];
  return {
    id: metrics.containerId,
    cpuPercent,
    memoryUsage: workingSet,
    memoryLimit: limit,
    memoryPercent: limit > 0 ? (workingSet / limit) * 100 : 0,
    blockRead: io.reduce((sum, entry) => sum + Number(entry.rbytes), 0),
    blockWrite: io.reduce((sum, entry) => sum + Number(entry.wbytes), 0),
    pids: Number(metrics.pids?.current ?? 0n),
  };
}

/** Bytes in binary units as docker's memory column: "1.5MiB", "64MiB", "512B". */
export function binarySize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : Number(value.toFixed(2))}${units[unit]}`;
}

/** Bytes in decimal units as docker's I/O column: "0B", "4.1kB", "12.3MB". */
export function decimalSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : Number(value.toPrecision(3))}${units[unit]}`;
}

/** The columns of `moby stats`. */
export const STATS_HEADER = ["ID", "CPU %", "MEM USAGE / LIMIT", "MEM %", "BLOCK I/O", "PIDS"] as const;

/** The rows as `moby stats` prints them. */
export function formatStatsTable(rows: readonly StatsRow[]): string {
  return formatTable(
    STATS_HEADER,
    rows.map((row) => [
      row.id,
      row.cpuPercent === null ? "--" : `${row.cpuPercent.toFixed(2)}%`,
      `${binarySize(row.memoryUsage)} / ${binarySize(row.memoryLimit)}`,
      `${row.memoryPercent.toFixed(2)}%`,
      `${decimalSize(row.blockRead)} / ${decimalSize(row.blockWrite)}`,
      String(row.pids),
    ]),
  );
}

/** One line of `moby stats --json`: the row's figures and the whole sample (TaskMetrics as protobuf JSON). */
export function formatStatsJsonLine(row: StatsRow, metrics: TaskMetrics): string {
  return `${JSON.stringify({ ...row, metrics: toJson(TaskMetricsSchema, metrics) })}\n`;
}
