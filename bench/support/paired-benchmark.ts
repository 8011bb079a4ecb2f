/**
 * Rounds for the component benchmarks: a component and the SDK echo server
 * it is compared with, each loaded by its own client runner, measured case
 * by case once per round in a rotating order; then per peer the median over
 * rounds, the spread, the paired ratio of the main value against the
 * baseline peer and, for latency cases, the paired ratios of p50 and p99.
 */
import type { BenchmarkResult, PeerResult } from "./results.js";
import { RoundSamples, roundOrder } from "./rounds.js";
import { median, pairedRatio, relativeSpread } from "./stats.js";

/** How long and how often each case is measured. */
export interface PairedSettings {
  /** Rounds: each peer is measured once per round and case. */
  rounds: number;
  /** The counted load of one measurement, in ms. */
  durationMs: number;
  /** The uncounted load before each measurement, in ms. */
  warmupMs: number;
  /** The uncounted load before a peer's first measurement of a case, in ms. */
  firstWarmupMs: number;
}

/** One case: one table. */
export interface PairedCase {
  /** The name `--only` selects it by. */
  name: string;
  /** A one-line description for the table's title. */
  title: string;
  /** The unit of the main value (higher is better). */
  unit: string;
  /** Whether to report the paired ratios of p50 and p99 latency against the baseline. */
  latencyRatios: boolean;
  /** The settings that shape the numbers, for the results file. */
  settings: Record<string, unknown>;
  /** Lines printed under the table. */
  notes?: string[];
}

/** One measurement of one peer: its main value and further values by name (p50Us, p99Us, clientCpuUs...). */
export interface Measurement {
  rate: number;
  extra: Record<string, number>;
}

/** What to run. */
export interface PairedRun<C extends PairedCase> {
  /** The peers, in the order of the table's rows. */
  peers: readonly string[];
  /** The peer the ratios are computed against. */
  baseline: string;
  /** Further peers every peer's main value is also compared with (a column each). */
  alsoAgainst?: readonly string[];
  cases: readonly C[];
  settings: PairedSettings;
  /** Measures peer under c once, after warmupMs of uncounted load. */
  measure(peer: string, c: C, timing: { warmupMs: number; durationMs: number }): Promise<Measurement>;
  /** Progress, one line per case and round. */
  log(line: string): void;
  /** What the settings of every result also hold (peers' descriptions...). */
  commonSettings?: Record<string, unknown>;
}

/** The samples of one case. */
interface CaseSamples {
  rate: RoundSamples<string>;
  extra: Map<string, RoundSamples<string>>;
  errors: Map<string, string[]>;
}

/** Runs every case over every peer, settings.rounds times, and summarises each case. */
export async function runPairedRounds<C extends PairedCase>(run: PairedRun<C>): Promise<BenchmarkResult[]> {
  const { peers, cases, settings } = run;
  const all = new Map<string, CaseSamples>();
  for (const c of cases) all.set(c.name, { rate: new RoundSamples(peers, settings.rounds), extra: new Map(), errors: new Map() });
  const warmed = new Set<string>();
  for (let round = 0; round < settings.rounds; round++) {
    for (const [index, c] of cases.entries()) {
      const samples = all.get(c.name)!;
      const line: string[] = [];
      for (const peer of roundOrder(peers, round + index)) {
        const key = `${peer}/${c.name}`;
        const warmupMs = warmed.has(key) ? settings.warmupMs : settings.firstWarmupMs;
        warmed.add(key);
        try {
          const m = await run.measure(peer, c, { warmupMs, durationMs: settings.durationMs });
          samples.rate.set(peer, round, m.rate);
          for (const [name, value] of Object.entries(m.extra)) {
            if (!samples.extra.has(name)) samples.extra.set(name, new RoundSamples(peers, settings.rounds));
            if (Number.isFinite(value)) samples.extra.get(name)!.set(peer, round, value);
          }
          line.push(`${peer} ${Math.round(m.rate)}`);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          samples.errors.set(peer, [...(samples.errors.get(peer) ?? []), message]);
          line.push(`${peer} FAILED`);
          run.log(`  ${peer} failed in round ${round + 1} of ${c.name}: ${message.split("\n")[0]}`);
        }
      }
      run.log(`round ${round + 1}/${settings.rounds}  ${c.name.padEnd(18)}  ${line.join("  ")} ${c.unit}`);
    }
  }
  return cases.map((c) => summarise(run, c, all.get(c.name)!));
}

/** Builds a case's result from its samples. */
function summarise<C extends PairedCase>(run: PairedRun<C>, c: C, samples: CaseSamples): BenchmarkResult {
  const peers: PeerResult[] = run.peers.map((peer) => {
    const measured = samples.rate.measured(peer);
    const extra: Record<string, number> = {};
    for (const [name, values] of samples.extra) {
      extra[name] = median(values.measured(peer));
      if (c.latencyRatios && name === "p99Us") {
        const p50 = samples.extra.get("p50Us");
        if (p50) extra["p50Ratio"] = pairedRatio(p50.of(peer), p50.of(run.baseline));
        extra["p99Ratio"] = pairedRatio(values.of(peer), values.of(run.baseline));
      }
    }
    return {
      peer,
      median: median(measured),
      spread: relativeSpread(measured),
      rounds: samples.rate.of(peer).map((v) => v ?? null),
      ratios: Object.fromEntries([run.baseline, ...(run.alsoAgainst ?? [])].map((other) => [other, pairedRatio(samples.rate.of(peer), samples.rate.of(other))])),
      extra,
      errors: samples.errors.get(peer) ?? [],
    };
  });
  return {
    name: c.name,
    title: c.title,
    unit: c.unit,
    higherIsBetter: true,
    rounds: run.settings.rounds,
    settings: { ...c.settings, durationMs: run.settings.durationMs, warmupMs: run.settings.warmupMs, ...run.commonSettings },
    ...(c.notes ? { notes: c.notes } : {}),
    peers,
  };
}

/** The results of cases that could not be measured at all (a server did not start): every peer failed with message. */
export function unmeasured(cases: readonly PairedCase[], peers: readonly string[], rounds: number, message: string): BenchmarkResult[] {
  return cases.map((c) => ({
    name: c.name,
    title: c.title,
    unit: c.unit,
    higherIsBetter: true,
    rounds,
    settings: c.settings,
    peers: peers.map((peer) => ({ peer, median: Number.NaN, spread: Number.NaN, rounds: [], ratios: {}, extra: {}, errors: [message] })),
  }));
}
