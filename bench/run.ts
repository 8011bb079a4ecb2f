/**
 * `npm run bench`: the benchmark suite. Measures, in one run, side by side
 * and alternating round by round: the RPC peers (raw node:http2, grpc-js,
 * connect-node, the SDK) on unary and streaming cases, moby-init's boot
 * and restart against bare Node processes, the events and container-store
 * components against the SDK's echo RPC, the container store on etcd against
 * a direct etcd3 client (and on SQLite beside it), and a container's lifecycle
 * through the container runtime against runc directly, with the memory per
 * running container. Prints one table
 * per benchmark and writes bench-results/<timestamp>.json and
 * bench-results/latest.json.
 *
 *   node --import tsx bench/run.ts [--quick] [--only <name>] [--rounds <n>] [--records <n>]
 *
 * See bench/README.md for how to read the output.
 */
import { loadavg } from "node:os";
import { relative } from "node:path";
import { RUNTIME_BENCHMARKS, runRuntimeBenchmarks } from "./container-runtime/runtime-benchmark.js";
import type { RuntimeSettings } from "./container-runtime/runtime-benchmark.js";
import { renderRuntimeBenchmark } from "./container-runtime/runtime-report.js";
import { BACKEND_CASES, runBackendBenchmarks } from "./container-store/backend-benchmark.js";
import { STORE_BENCHMARKS, STORE_CASES, STORE_MEMORY, runStoreBenchmarks } from "./container-store/store-benchmark.js";
import type { StoreSettings } from "./container-store/store-benchmark.js";
import { EVENTS_CASES, runEventsBenchmarks } from "./events/events-benchmark.js";
import { IMAGE_LIFECYCLE, runImageLifecycleBenchmark } from "./image-store/lifecycle-benchmark.js";
import type { ImageLifecycleSettings } from "./image-store/lifecycle-benchmark.js";
import { PULL_BENCHMARK, runPullBenchmark } from "./image-store/pull-benchmark.js";
import type { PullSettings } from "./image-store/pull-benchmark.js";
import { INIT_BENCHMARKS, runInitBenchmarks } from "./init/init-benchmark.js";
import { METRICS_SCRAPE, runMetricsScrapeBenchmark } from "./init/metrics-scrape-benchmark.js";
import type { ScrapeSettings } from "./init/metrics-scrape-benchmark.js";
import type { InitSettings } from "./init/init-benchmark.js";
import { RPC_CASES } from "./rpc/cases.js";
import { runRpcBenchmarks } from "./rpc/rpc-benchmark.js";
import type { RpcSettings } from "./rpc/rpc-benchmark.js";
import { USAGE, parseArgs } from "./support/args.js";
import type { BenchArgs } from "./support/args.js";
import { REPO_ROOT, stopEverything } from "./support/child-process.js";
import type { PairedSettings } from "./support/paired-benchmark.js";
import { renderBenchmark } from "./support/report.js";
import { describeMachine, gitRevision, writeResults } from "./support/results.js";
import type { BenchmarkResult, RunResults } from "./support/results.js";

/** The benchmarks by group, in the order they run. */
const GROUPS: Record<string, readonly string[]> = {
  rpc: RPC_CASES.map((c) => c.name),
  init: [...INIT_BENCHMARKS, METRICS_SCRAPE],
  events: EVENTS_CASES.map((c) => c.name),
  "container-store": STORE_BENCHMARKS,
  "store-backends": BACKEND_CASES.map((c) => c.name),
  "container-runtime": RUNTIME_BENCHMARKS,
  "image-store": [PULL_BENCHMARK, IMAGE_LIFECYCLE],
};

/** The settings of a full run and of a quick one. */
const MODES = {
  default: {
    rpc: { rounds: 7, durationMs: 1_000, warmupMs: 150, firstWarmupMs: 1_000 },
    init: { rounds: 5, components: 4 },
    scrape: { rounds: 5, components: 4, scrapes: 50 },
    events: { rounds: 5, durationMs: 600, warmupMs: 150, firstWarmupMs: 500 },
    store: { rounds: 5, durationMs: 600, warmupMs: 150, firstWarmupMs: 500, records: 100_000 },
    runtime: { rounds: 5, containers: 40, warmup: 1, firstWarmup: 3, running: 10, samples: 100 },
    pull: { rounds: 5, layers: 4, layerBytes: 16 * 1024 * 1024 },
    imageLifecycle: { rounds: 5, containers: 10 },
  },
  quick: {
    rpc: { rounds: 3, durationMs: 400, warmupMs: 100, firstWarmupMs: 300 },
    init: { rounds: 3, components: 4 },
    scrape: { rounds: 3, components: 4, scrapes: 20 },
    events: { rounds: 3, durationMs: 300, warmupMs: 100, firstWarmupMs: 200 },
    store: { rounds: 3, durationMs: 300, warmupMs: 100, firstWarmupMs: 200, records: 5_000 },
    runtime: { rounds: 3, containers: 10, warmup: 1, firstWarmup: 2, running: 10, samples: 30 },
    pull: { rounds: 3, layers: 4, layerBytes: 4 * 1024 * 1024 },
    imageLifecycle: { rounds: 3, containers: 5 },
  },
} satisfies Record<string, { rpc: RpcSettings; init: InitSettings; scrape: ScrapeSettings; events: PairedSettings; store: StoreSettings; runtime: RuntimeSettings; pull: PullSettings; imageLifecycle: ImageLifecycleSettings }>;

/** The benchmark names selected by --only (all when empty); throws on an unknown name. */
function select(only: readonly string[]): Set<string> {
  const all = Object.values(GROUPS).flat();
  if (only.length === 0) return new Set(all);
  const chosen = new Set<string>();
  for (const name of only) {
    const group = GROUPS[name];
    if (group) group.forEach((b) => chosen.add(b));
    else if (all.includes(name)) chosen.add(name);
    else throw new Error(`--only: no benchmark or group ${JSON.stringify(name)}; known: ${[...Object.keys(GROUPS), ...all].join(", ")}`);
  }
  return chosen;
}

/** Progress goes to stderr, so that stdout holds only the report. */
function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function main(args: BenchArgs, selected: Set<string>): Promise<void> {
  const mode = args.quick ? MODES.quick : MODES.default;
  const rpcSettings: RpcSettings = { ...mode.rpc, rounds: args.rounds ?? mode.rpc.rounds };
  const initSettings: InitSettings = { ...mode.init, rounds: args.rounds ?? mode.init.rounds };
  const eventsSettings: PairedSettings = { ...mode.events, rounds: args.rounds ?? mode.events.rounds };
  const storeSettings: StoreSettings = { ...mode.store, rounds: args.rounds ?? mode.store.rounds, records: args.records ?? mode.store.records };
  const runtimeSettings: RuntimeSettings = { ...mode.runtime, rounds: args.rounds ?? mode.runtime.rounds };
  const startedAt = new Date();
  const machine = describeMachine();
  log(`moby-core bench: ${[...selected].join(", ")}; ${args.quick ? "quick" : "default"} mode; node ${machine.node}, ${machine.cpus} CPUs, load ${machine.loadAverageAtStart.join(" ")}`);

  const results: BenchmarkResult[] = [];
  const rpcCases = RPC_CASES.filter((c) => selected.has(c.name));
  if (rpcCases.length > 0) results.push(...(await runRpcBenchmarks(rpcCases, rpcSettings, log)));
  if (INIT_BENCHMARKS.some((b) => selected.has(b))) {
    results.push(...(await runInitBenchmarks(initSettings, log)).filter((r) => selected.has(r.name)));
  }
  if (selected.has(METRICS_SCRAPE)) results.push(await runMetricsScrapeBenchmark({ ...mode.scrape, rounds: args.rounds ?? mode.scrape.rounds }, log));
  const eventsCases = EVENTS_CASES.filter((c) => selected.has(c.name));
  if (eventsCases.length > 0) results.push(...(await runEventsBenchmarks(eventsCases, eventsSettings, log)));
  const storeCases = STORE_CASES.filter((c) => selected.has(c.name));
  if (storeCases.length > 0 || selected.has(STORE_MEMORY)) {
    results.push(...(await runStoreBenchmarks({ memory: selected.has(STORE_MEMORY), cases: storeCases }, storeSettings, log)));
  }
  const backendCases = BACKEND_CASES.filter((c) => selected.has(c.name));
  if (backendCases.length > 0) results.push(...(await runBackendBenchmarks(backendCases, storeSettings, log)));
  const runtimeBenchmarks = RUNTIME_BENCHMARKS.filter((b) => selected.has(b));
  if (runtimeBenchmarks.length > 0) results.push(...(await runRuntimeBenchmarks(runtimeBenchmarks, runtimeSettings, log)));
  if (selected.has(PULL_BENCHMARK)) results.push(await runPullBenchmark({ ...mode.pull, rounds: args.rounds ?? mode.pull.rounds }, log));
  if (selected.has(IMAGE_LIFECYCLE)) results.push(await runImageLifecycleBenchmark({ ...mode.imageLifecycle, rounds: args.rounds ?? mode.imageLifecycle.rounds }, log));
  for (const result of results) {
    const render = RUNTIME_BENCHMARKS.includes(result.name) ? renderRuntimeBenchmark : renderBenchmark;
    process.stdout.write(`\n${render(result)}\n`);
  }

  const finishedAt = new Date();
  const run: RunResults = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSeconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 100) / 10,
    argv: process.argv.slice(2),
    revision: gitRevision(),
    mode: args.quick ? "quick" : "default",
    machine: { ...machine, loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100) },
    benchmarks: results,
  };
  const file = await writeResults(run);
  process.stdout.write(`\n${run.durationSeconds} s; results in ${relative(REPO_ROOT, file)} and bench-results/latest.json\n`);
  if (results.some((r) => r.peers.some((p) => p.errors.length > 0))) process.exitCode = 1;
}

let args: BenchArgs;
let selected: Set<string>;
try {
  args = parseArgs(process.argv.slice(2));
  selected = select(args.only);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
} else if (args.list) {
  for (const [group, names] of Object.entries(GROUPS)) process.stdout.write(`${group}: ${names.join(", ")}\n`);
} else {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      log(`\n${signal}: stopping the benchmark's processes`);
      void stopEverything().then(() => process.exit(130));
    });
  }
  try {
    await main(args, selected);
  } catch (error) {
    log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    await stopEverything();
    process.exitCode = 1;
  }
}
