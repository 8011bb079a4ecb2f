/**
 * The results of one `npm run bench`, as written to
 * bench-results/<timestamp>.json and bench-results/latest.json for tracking
 * over time.
 */
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "./child-process.js";

/** One peer's result in one benchmark. */
export interface PeerResult {
  /** The peer's name, for example "grpc-js". */
  peer: string;
  /** The median over rounds of the benchmark's main value, in its unit. */
  median: number;
  /** (max - min) / median over rounds. */
  spread: number;
  /** The main value of each round, null where the round failed. */
  rounds: (number | null)[];
  /** Paired ratios (median of per-round ratios) against named baseline peers. */
  ratios: Record<string, number>;
  /** Further medians, for example latency percentiles: name to value. */
  extra: Record<string, number>;
  /** Errors of failed rounds. */
  errors: string[];
}

/** One benchmark: one table of the printed report. */
export interface BenchmarkResult {
  /** The name `--only` selects it by, for example "unary-64". */
  name: string;
  /** A one-line description. */
  title: string;
  /** The unit of the main value, for example "calls/s". */
  unit: string;
  /** Whether a larger main value is better (throughput) or worse (time). */
  higherIsBetter: boolean;
  /** How many rounds were measured: each peer once per round. */
  rounds: number;
  /** The settings that shape the numbers (sizes, concurrency, durations). */
  settings: Record<string, unknown>;
  /** Lines printed under the table (how the benchmark was set up), when any. */
  notes?: string[];
  /** One entry per peer. */
  peers: PeerResult[];
}

/** A whole run. */
export interface RunResults {
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  argv: string[];
  /** The checked-out commit, read from .git (without running git); null when unknown. Uncommitted changes are not noted. */
  revision: string | null;
  /** "quick" (--quick) or "default". */
  mode: "quick" | "default";
  machine: {
    node: string;
    platform: string;
    arch: string;
    cpus: number;
    cpuModel: string;
    totalMemoryMiB: number;
    loadAverageAtStart: number[];
    loadAverageAtEnd: number[];
  };
  benchmarks: BenchmarkResult[];
}

/** What is known of the machine; the load average tells how noisy it was. */
export function describeMachine(): Omit<RunResults["machine"], "loadAverageAtEnd"> {
  const list = cpus();
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: list.length,
    cpuModel: list[0]?.model ?? "unknown",
    totalMemoryMiB: Math.round(totalmem() / 2 ** 20),
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** The commit HEAD points at, read from the .git directory; null when it cannot be read. */
export function gitRevision(): string | null {
  try {
    const git = join(REPO_ROOT, ".git");
    const head = readFileSync(join(git, "HEAD"), "utf8").trim();
    if (!head.startsWith("ref: ")) return head;
    const ref = head.slice("ref: ".length);
    try {
      return readFileSync(join(git, ref), "utf8").trim();
    } catch {
      const packed = readFileSync(join(git, "packed-refs"), "utf8").split("\n").find((line) => line.endsWith(` ${ref}`));
      return packed?.split(" ")[0] ?? null;
    }
  } catch {
    return null;
  }
}

/** Writes results to bench-results/<timestamp>.json and bench-results/latest.json; returns the first path. */
export async function writeResults(results: RunResults): Promise<string> {
  const dir = join(REPO_ROOT, "bench-results");
  await mkdir(dir, { recursive: true });
  const stamp = results.startedAt.replace(/[:.]/g, "-");
  const text = JSON.stringify(results, null, 2) + "\n";
  const file = join(dir, `${stamp}.json`);
  await writeFile(file, text);
  await writeFile(join(dir, "latest.json"), text);
  return file;
}
