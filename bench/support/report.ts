/**
 * The printed report: one table per benchmark with each peer's median, the
 * spread of its rounds, its ratios against the baselines and its extra
 * medians (latency percentiles).
 */
import type { BenchmarkResult } from "./results.js";
import { formatNumber, formatRatio, formatSpread, renderTable } from "./table.js";
import type { Column } from "./table.js";

/** The headers of extra values, by key. */
const EXTRA_HEADERS: Record<string, string> = {
  p50Us: "p50 µs",
  p99Us: "p99 µs",
  clientCpuUs: "client CPU µs",
  serverCpuUs: "server CPU µs",
  stopMs: "stop ms",
  publishRate: "publish/s",
  idleRssMiB: "idle RSS MiB",
  peakRssMiB: "peak RSS MiB",
  databaseMiB: "db MiB",
  walMiB: "wal MiB",
  createRate: "creates/s",
  exitSeenMs: "exit seen",
  relaunchMs: "relaunch",
  spawnMs: "spawn",
  nodeBootMs: "node boot",
  loadMs: "load",
  serveMs: "serve",
  firstCheckMs: "1st check",
  reportMs: "report",
};

/** How an extra value is printed: ratios as "1.23x", CPU times, ms and MiB with one decimal. */
function formatExtra(key: string, value: number | undefined): string {
  if (key.endsWith("Ratio")) return formatRatio(value);
  return formatNumber(value, key.endsWith("CpuUs") || key.endsWith("Ms") || key.endsWith("MiB") ? 1 : 0);
}

/** Renders one benchmark as a table. */
export function renderBenchmark(result: BenchmarkResult): string {
  const baselines = Object.keys(result.peers[0]?.ratios ?? {});
  const extras = Object.keys(result.peers[0]?.extra ?? {});
  const digits = result.unit === "ms" || result.unit === "MiB" ? 1 : 0;
  const columns: Column[] = [
    { header: "peer" },
    { header: result.unit, right: true },
    { header: "spread", right: true },
    ...baselines.map((b) => ({ header: `vs ${b}`, right: true })),
    // The latency ratios are against the run's (first) baseline.
    ...extras.map((e) => ({ header: e === "p50Ratio" || e === "p99Ratio" ? `${e.slice(0, 3)} vs ${baselines[0] ?? "baseline"}` : (EXTRA_HEADERS[e] ?? e), right: true })),
  ];
  const rows = result.peers.map((p) => [
    p.peer,
    formatNumber(p.median, digits),
    formatSpread(p.spread),
    ...baselines.map((b) => (b === p.peer ? "1.00x" : formatRatio(p.ratios[b]))),
    ...extras.map((e) => formatExtra(e, p.extra[e])),
  ]);
  const notes = [
    `median of ${result.rounds} rounds; spread: ± half the range of the rounds, relative to the median.`,
    result.higherIsBetter
      ? "vs X: median of the per-round ratios peer/X of the main value; above 1 is faster than X."
      : result.unit === "ms"
        ? "vs X: median of the per-round ratios peer/X of the time; above 1 is slower than X."
        : `vs X: median of the per-round ratios peer/X of the ${result.unit}; above 1 is more than X.`,
    ...(result.notes ?? []),
  ];
  for (const p of result.peers) {
    if (p.errors.length > 0) notes.push(`${p.peer}: ${p.errors.length} round(s) failed; first: ${p.errors[0]!.split("\n")[0]}`);
  }
  return renderTable(`${result.name}: ${result.title} (${result.unit})`, columns, rows, notes);
}
