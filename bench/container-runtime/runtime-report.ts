/**
 * The tables of the container-runtime benchmarks. As bench/support/report.ts
 * renders the other groups, with this group's columns: times in ms with one
 * decimal, memory in KiB, and "-" where a value does not apply to a row.
 */
import type { BenchmarkResult } from "../support/results.js";
import { formatNumber, formatRatio, formatSpread, renderTable } from "../support/table.js";
import type { Column } from "../support/table.js";

/** The headers of the extra values, by key, in the order printed. */
const EXTRA_HEADERS: Record<string, string> = {
  overheadMs: "overhead ms",
  p50Ms: "p50 ms",
  p99Ms: "p99 ms",
  meanMs: "mean ms",
  recordMs: "record ms",
  createMs: "create ms",
  startMs: "start ms",
  waitMs: "wait ms",
  runMs: "run ms",
  deleteMs: "delete ms",
  runtimeCpuMs: "runtime CPU ms",
  pssKiB: "PSS KiB",
  ussKiB: "USS KiB",
  processes: "processes",
  beforeKiB: "before KiB",
  afterKiB: "after KiB",
};

function formatValue(key: string, value: number | undefined): string {
  if (key.endsWith("Ratio")) return formatRatio(value);
  return formatNumber(value, key.endsWith("Ms") ? 1 : 0);
}

/** Renders one benchmark of the group as a table. */
export function renderRuntimeBenchmark(result: BenchmarkResult): string {
  const baselines = Object.keys(result.peers[0]?.ratios ?? {});
  const keys = new Set(result.peers.flatMap((p) => Object.keys(p.extra)));
  const extras = [...Object.keys(EXTRA_HEADERS).filter((k) => keys.has(k)), ...[...keys].filter((k) => !(k in EXTRA_HEADERS))];
  const digits = result.unit === "ms" ? 1 : 0;
  const columns: Column[] = [
    { header: "peer" },
    { header: result.unit, right: true },
    ...(result.rounds > 1 ? [{ header: "spread", right: true }] : []),
    ...baselines.map((b) => ({ header: `vs ${b}`, right: true })),
    ...extras.map((e) => ({ header: EXTRA_HEADERS[e] ?? e, right: true })),
  ];
  const rows = result.peers.map((p) => [
    p.peer,
    formatNumber(p.median, digits),
    ...(result.rounds > 1 ? [formatSpread(p.spread)] : []),
    ...baselines.map((b) => (b === p.peer ? "1.00x" : formatRatio(p.ratios[b]))),
    ...extras.map((e) => formatValue(e, p.extra[e])),
  ]);
  const notes = [...(result.notes ?? [])];
  for (const p of result.peers) {
    if (p.errors.length > 0) notes.push(`${p.peer}: ${p.errors.length} round(s) failed; first: ${p.errors[0]!.split("\n")[0]}`);
  }
  return renderTable(`${result.name}: ${result.title} (${result.unit})`, columns, rows, notes);
}
