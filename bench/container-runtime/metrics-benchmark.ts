/**
 * runtime-metrics: one sample of a running container's resource use (CPU,
 * memory, pids, block I/O), taken one after another, through the runtime's
 * GetTaskMetrics (which reads the cgroup files itself) against `runc events
 * --stats` of the same container (what a runtime asking runc for each
 * sample would spawn), alternating round by round: ms per sample and the
 * runtime component's CPU time per sample. It measures the choice of
 * reading the cgroup files directly rather than running runc per sample.
 */
import { processCpuMicros } from "../support/process-cpu.js";
import type { JsonLineChild } from "../support/json-lines.js";
import type { BenchmarkResult, PeerResult } from "../support/results.js";
import { RoundSamples, roundOrder } from "../support/rounds.js";
import { median, pairedRatio, percentile, relativeSpread } from "../support/stats.js";
import type { MetricsPeer, MetricsResult, RuntimeLoadRequest, Started } from "./runtime-load.js";
import { SLEEP_ARGS } from "./runtime-scratch.js";

/** The benchmark's name. */
export const RUNTIME_METRICS = "runtime-metrics";

const PEERS: readonly MetricsPeer[] = ["stack", "runc-events"];
const BASELINE: MetricsPeer = "runc-events";

/** How many samples per peer and round, and rounds. */
export interface MetricsSettings {
  rounds: number;
  samples: number;
}

/** The rounds of runtime-metrics on one container started through the stack, stopped at the end. */
export async function metricsBenchmark(
  runner: JsonLineChild,
  runtimePid: number,
  runcRoot: string,
  runId: string,
  settings: MetricsSettings,
  common: Record<string, unknown>,
  log: (line: string) => void,
): Promise<BenchmarkResult> {
  const id = `${runId}-metrics`;
  const samples = new RoundSamples(PEERS, settings.rounds);
  const cpu = new RoundSamples(PEERS, settings.rounds);
  const pooled = new Map<MetricsPeer, number[]>(PEERS.map((p) => [p, []]));
  const errors = new Map<MetricsPeer, string[]>();
  try {
    await runner.request<Started[]>({ kind: "start", ids: [id] } satisfies RuntimeLoadRequest);
    for (let round = 0; round < settings.rounds; round++) {
      const line: string[] = [];
      for (const peer of roundOrder(PEERS, round)) {
        try {
          const cpuBefore = processCpuMicros(runtimePid) ?? Number.NaN;
          const result = await runner.request<MetricsResult>({ kind: "metrics", peer, id, runcRoot, warmup: 3, count: settings.samples } satisfies RuntimeLoadRequest);
          const cpuUs = ((processCpuMicros(runtimePid) ?? Number.NaN) - cpuBefore) / (settings.samples + 3);
          samples.set(peer, round, median(result.samplesMs));
          if (peer === "stack" && Number.isFinite(cpuUs)) cpu.set(peer, round, cpuUs / 1000);
          pooled.get(peer)!.push(...result.samplesMs);
          line.push(`${peer} ${median(result.samplesMs).toFixed(2)}`);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          errors.set(peer, [...(errors.get(peer) ?? []), message]);
          line.push(`${peer} FAILED`);
        }
      }
      log(`round ${round + 1}/${settings.rounds}  ${RUNTIME_METRICS.padEnd(18)}  ${line.join("  ")} ms/sample (median)`);
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    for (const peer of PEERS) errors.set(peer, [...(errors.get(peer) ?? []), message]);
    log(`  ${RUNTIME_METRICS} failed: ${message.split("\n")[0]}`);
  } finally {
    await runner.request({ kind: "stop", ids: [id] } satisfies RuntimeLoadRequest).catch(() => {});
  }
  const row = (peer: MetricsPeer): PeerResult => {
    const measured = samples.measured(peer);
    return {
      peer,
      median: median(measured),
      spread: relativeSpread(measured),
      rounds: samples.of(peer).map((v) => v ?? null),
      ratios: { [BASELINE]: pairedRatio(samples.of(peer), samples.of(BASELINE)) },
      extra: { p50Ms: percentile(pooled.get(peer)!, 50), p99Ms: percentile(pooled.get(peer)!, 99), runtimeCpuMs: median(cpu.measured(peer)) },
      errors: errors.get(peer) ?? [],
    };
  };
  return {
    name: RUNTIME_METRICS,
    title: `one sample of a running container's CPU, memory, pids and I/O (\`${SLEEP_ARGS.join(" ")}\`), ${settings.samples} one after another per round: GetTaskMetrics vs runc events --stats`,
    unit: "ms",
    higherIsBetter: false,
    rounds: settings.rounds,
    settings: { samples: settings.samples, warmup: 3, ...common, peers: { stack: "GetTaskMetrics over the runtime's unix socket: the runtime reads the task's cgroup files", "runc-events": "`runc --root <the runtime's root> events --stats <id>` spawned by the client process, its JSON parsed" } },
    notes: [
      `ms: per sample, the median of the round's ${settings.samples} samples, median over rounds; vs runc-events: median of the per-round ratios (below 1 is faster).`,
      "runtime CPU ms: the runtime component's own CPU time per sample (/proc/<pid>/stat, 10 ms ticks), warm-up included.",
    ],
    peers: PEERS.map(row),
  };
}
