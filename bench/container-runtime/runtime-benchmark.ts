/**
 * The container-runtime benchmarks (issue 7):
 *
 * - runtime-lifecycle: a trivial container (`true` in a busybox rootfs) run
 *   to its end and removed, one after another, through the whole stack
 *   (CreateContainer in the store, CreateTask, StartTask, WaitTask,
 *   DeleteTask in the runtime, DeleteContainer) against `runc run` of the
 *   same bundle and `runc delete`, alternating round by round: the ms per
 *   container, their ratio and the overhead the stack adds.
 * - runtime-memory: K containers running `sleep 600` started through the
 *   stack: the memory of the per-container processes the runtime adds (the
 *   shims) per container, against the container's own process, and the
 *   runtime component's RSS before and after. Measured once per run.
 *
 * The container store and the container runtime (built, default config, no
 * events component) are child processes started once per run; one client
 * runner process (client-main.ts) makes the calls and runs runc for the
 * direct runs. Every container, shim and file is removed at the end, also
 * on failure and on exit.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { BenchChild, stopAll } from "../support/child-process.js";
import { JsonLineChild } from "../support/json-lines.js";
import { processCpuMicros } from "../support/process-cpu.js";
import type { BenchmarkResult, PeerResult } from "../support/results.js";
import { RoundSamples, roundOrder } from "../support/rounds.js";
import { sleep } from "../support/socket-probe.js";
import { median, pairedRatio, percentile, relativeSpread } from "../support/stats.js";
import { childrenOf, commandLine, parentPid, processMemory, startTime, statusKiB } from "./process-memory.js";
import type { ProcessMemory } from "./process-memory.js";
import type { LifecyclePeer, LifecycleResult, RuntimeLoadRequest, Started } from "./runtime-load.js";
import { RUNTIME_METRICS, metricsBenchmark } from "./metrics-benchmark.js";
import { RuntimeScratch, SLEEP_ARGS, TRUE_ARGS, findRunc, missingPrerequisite } from "./runtime-scratch.js";

/** The benchmarks of the group. */
export const RUNTIME_LIFECYCLE = "runtime-lifecycle";
export const RUNTIME_MEMORY = "runtime-memory";
export const RUNTIME_BENCHMARKS: readonly string[] = [RUNTIME_LIFECYCLE, RUNTIME_MEMORY, RUNTIME_METRICS];

/** How many containers and rounds. */
export interface RuntimeSettings {
  /** Rounds of the lifecycle: each peer runs its containers once per round. */
  rounds: number;
  /** Containers timed per peer and round, one after another. */
  containers: number;
  /** Containers run before each measurement, not timed. */
  warmup: number;
  /** Containers run before a peer's first measurement, not timed. */
  firstWarmup: number;
  /** Containers kept running for the memory measurement (K). */
  running: number;
  /** Samples timed per peer and round of runtime-metrics. */
  samples: number;
}

const PEERS: readonly LifecyclePeer[] = ["stack", "runc"];
const BASELINE: LifecyclePeer = "runc";

const PEER_DESCRIPTIONS: Record<LifecyclePeer, string> = {
  stack:
    "CreateContainer (container store) + CreateTask + StartTask + WaitTask + DeleteTask (container runtime) + DeleteContainer, from a client process over the components' unix sockets; the runtime runs `runc create` under its perl shim, `runc start`, `runc delete --force`",
  runc: "`runc --root <dir> run --keep --bundle <bundle> <id>` (create, start, wait for the exit) then `runc delete <id>`, spawned by the same client process",
};

/** How long the runtime may take to become SERVING, in ms. */
const READY_TIMEOUT_MS = 30_000;
/** A pause after the K containers started, before their memory is read, in ms. */
const SETTLE_MS = 500;

/** The first line of `runc --version`, for the results file. */
function runcVersion(runc: string): string {
  return (spawnSync(runc, ["--version"], { encoding: "utf8" }).stdout ?? "").split("\n")[0] ?? "unknown";
}

/** Results for benchmarks that could not be measured at all: every peer failed with message. */
function unmeasured(selected: readonly string[], message: string, rounds: number): BenchmarkResult[] {
  return selected.map((name) => ({
    name,
    title: name === RUNTIME_LIFECYCLE ? "container lifecycle through the stack vs runc directly" : name === RUNTIME_METRICS ? "a running container's metrics: GetTaskMetrics vs runc events --stats" : "memory per running container",
    unit: name === RUNTIME_MEMORY ? "KiB" : "ms",
    higherIsBetter: false,
    rounds: name === RUNTIME_MEMORY ? 1 : rounds,
    settings: {},
    peers: (name === RUNTIME_LIFECYCLE ? PEERS : name === RUNTIME_METRICS ? ["stack", "runc-events"] : ["shim"]).map((peer) => ({
      peer,
      median: Number.NaN,
      spread: Number.NaN,
      rounds: [],
      ratios: {},
      extra: {},
      errors: [message],
    })),
  }));
}

/** The samples of the lifecycle rounds. */
class LifecycleSamples {
  /** Per round: the median ms per container. */
  readonly median: RoundSamples<LifecyclePeer>;
  /** Per round: the mean ms per container (the round's time over its containers). */
  readonly mean: RoundSamples<LifecyclePeer>;
  /** Per round: the runtime component's CPU time per container (stack only). */
  readonly runtimeCpu: RoundSamples<LifecyclePeer>;
  /** Every timed container's ms, all rounds together. */
  readonly pooled = new Map<LifecyclePeer, number[]>(PEERS.map((p) => [p, []]));
  /** Every timed container's steps, all rounds together. */
  readonly steps = new Map<LifecyclePeer, Map<string, number[]>>(PEERS.map((p) => [p, new Map()]));
  readonly errors = new Map<LifecyclePeer, string[]>();

  constructor(rounds: number) {
    this.median = new RoundSamples(PEERS, rounds);
    this.mean = new RoundSamples(PEERS, rounds);
    this.runtimeCpu = new RoundSamples(PEERS, rounds);
  }

  add(peer: LifecyclePeer, round: number, result: LifecycleResult, cpuUsPerContainer: number): void {
    const ms = result.containers.map((c) => c.ms);
    this.median.set(peer, round, median(ms));
    this.mean.set(peer, round, result.elapsedMs / ms.length);
    if (Number.isFinite(cpuUsPerContainer)) this.runtimeCpu.set(peer, round, cpuUsPerContainer / 1000);
    this.pooled.get(peer)!.push(...ms);
    const steps = this.steps.get(peer)!;
    for (const c of result.containers) {
      for (const [name, value] of Object.entries(c.steps)) {
        if (!steps.has(name)) steps.set(name, []);
        steps.get(name)!.push(value);
      }
    }
  }

  fail(peer: LifecyclePeer, message: string): void {
    this.errors.set(peer, [...(this.errors.get(peer) ?? []), message]);
  }

  /** The table's row of peer. */
  row(peer: LifecyclePeer): PeerResult {
    const measured = this.median.measured(peer);
    const pooled = this.pooled.get(peer)!;
    const overhead = this.median.of(peer).map((v, i) => {
      const base = this.median.of(BASELINE)[i];
      return v === undefined || base === undefined ? undefined : v - base;
    });
    const extra: Record<string, number> = {
      overheadMs: peer === BASELINE ? Number.NaN : median(overhead.filter((v): v is number => v !== undefined)),
      p50Ms: percentile(pooled, 50),
      p99Ms: percentile(pooled, 99),
      meanMs: median(this.mean.measured(peer)),
    };
    for (const step of ["recordMs", "createMs", "startMs", "waitMs", "runMs", "deleteMs"]) {
      extra[step] = median(this.steps.get(peer)!.get(step) ?? []);
    }
    extra.runtimeCpuMs = median(this.runtimeCpu.measured(peer));
    return {
      peer,
      median: median(measured),
      spread: relativeSpread(measured),
      rounds: this.median.of(peer).map((v) => v ?? null),
      ratios: { [BASELINE]: pairedRatio(this.median.of(peer), this.median.of(BASELINE)) },
      extra,
      errors: this.errors.get(peer) ?? [],
    };
  }
}

/** Runs the selected benchmarks of the group; log receives progress lines. */
export async function runRuntimeBenchmarks(selected: readonly string[], settings: RuntimeSettings, log: (line: string) => void): Promise<BenchmarkResult[]> {
  const missing = missingPrerequisite();
  if (missing !== undefined) {
    log(`  container-runtime group not measured: ${missing}`);
    return unmeasured(selected, `not measured: ${missing}`, settings.rounds);
  }
  const runc = findRunc()!;
  const scratch = new RuntimeScratch(runc);
  // On any exit (Ctrl-C included: run.ts exits after stopping the children) the containers and shims go too.
  const onExit = () => scratch.cleanupSync();
  process.on("exit", onExit);
  let store: BenchChild | undefined;
  let runtime: BenchChild | undefined;
  let runner: JsonLineChild | undefined;
  const runId = `b${process.pid.toString(36)}${Date.now().toString(36)}`;
  const common = {
    runc: runcVersion(runc),
    rootfs: "busybox-static: /bin/busybox and applet links",
    spec: "the default Linux spec of @moby-core/container-runtime/oci-spec-builder (pid, network, ipc, uts, mount namespaces; the standard mounts), the same config.json for both peers",
    events: "no events component: the components queue their events (bounded) and drop the oldest",
  };
  try {
    try {
      // No registry, no events component (a socket nothing listens on), everything in the scratch directory.
      const isolated = { MOBY_RUN_DIR: scratch.dir, MOBY_REGISTRY_ENDPOINT: "", MOBY_ENDPOINT_EVENTS: join(scratch.dir, "no-events.sock") };
      store = BenchChild.node("container-store", "packages/container-store/bin/moby-container-store.js", {
        env: { ...isolated, MOBY_SOCKET: scratch.storeSocket, MOBY_COMPONENT_NAME: "container-store", MOBY_COMPONENT_CONFIG: JSON.stringify({ database: scratch.database }) },
      });
      runtime = BenchChild.node("container-runtime", "packages/container-runtime/bin/moby-container-runtime.js", {
        env: {
          ...isolated,
          MOBY_SOCKET: scratch.runtimeSocket,
          MOBY_COMPONENT_NAME: "container-runtime",
          MOBY_ENDPOINT_CONTAINER_STORE: scratch.storeSocket,
          MOBY_COMPONENT_CONFIG: JSON.stringify({ runc }),
        },
      });
      await Promise.all([store.waitForSocket(scratch.storeSocket), runtime.waitForSocket(scratch.runtimeSocket)]);
      runner = new JsonLineChild("container-runtime client", "bench/container-runtime/client-main.ts", {
        tsx: true,
        args: [scratch.storeSocket, scratch.runtimeSocket, runc, scratch.runcRoot, scratch.trueBundle, scratch.sleepBundle],
      });
      await runner.request({ kind: "ready", timeoutMs: READY_TIMEOUT_MS } satisfies RuntimeLoadRequest);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`  container-runtime group not measured: ${message.split("\n")[0]}`);
      return unmeasured(selected, message, settings.rounds);
    }
    const runtimePid = runtime.pid;
    const results: BenchmarkResult[] = [];
    if (selected.includes(RUNTIME_LIFECYCLE)) results.push(await lifecycle(runner, runtimePid, runId, settings, common, log));
    if (selected.includes(RUNTIME_MEMORY)) results.push(await memory(runner, scratch, runtimePid, runId, settings, common, log));
    if (selected.includes(RUNTIME_METRICS)) {
      // The runtime's runc root: its state directory's, under the run directory (MOBY_RUN_DIR) it was given.
      const runcRoot = join(scratch.dir, "container-runtime", "runc");
      results.push(await metricsBenchmark(runner, runtimePid, runcRoot, runId, { rounds: settings.rounds, samples: settings.samples }, common, log));
    }
    return results;
  } finally {
    await runner?.close();
    await stopAll([runtime, store]);
    scratch.cleanupSync();
    process.off("exit", onExit);
  }
}

/** The lifecycle rounds. */
async function lifecycle(
  runner: JsonLineChild,
  runtimePid: number,
  runId: string,
  settings: RuntimeSettings,
  common: Record<string, unknown>,
  log: (line: string) => void,
): Promise<BenchmarkResult> {
  const samples = new LifecycleSamples(settings.rounds);
  const warmed = new Set<LifecyclePeer>();
  for (let round = 0; round < settings.rounds; round++) {
    const line: string[] = [];
    for (const peer of roundOrder(PEERS, round)) {
      const warmup = warmed.has(peer) ? settings.warmup : settings.firstWarmup;
      warmed.add(peer);
      try {
        const cpuBefore = processCpuMicros(runtimePid) ?? Number.NaN;
        const result = await runner.request<LifecycleResult>({
          kind: "lifecycle",
          peer,
          prefix: `${runId}-${peer}${round}`,
          warmup,
          count: settings.containers,
        } satisfies RuntimeLoadRequest);
        // The runtime's CPU time over every container of the request, warm-up included; the direct runs do not use it.
        const cpuUs = peer === "stack" ? ((processCpuMicros(runtimePid) ?? Number.NaN) - cpuBefore) / (warmup + settings.containers) : Number.NaN;
        samples.add(peer, round, result, cpuUs);
        line.push(`${peer} ${samples.median.of(peer)[round]!.toFixed(1)}`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        samples.fail(peer, message);
        line.push(`${peer} FAILED`);
        log(`  ${peer} failed in round ${round + 1} of ${RUNTIME_LIFECYCLE}: ${message.split("\n")[0]}`);
      }
    }
    log(`round ${round + 1}/${settings.rounds}  ${RUNTIME_LIFECYCLE.padEnd(18)}  ${line.join("  ")} ms/container (median)`);
  }
  const n = settings.containers;
  return {
    name: RUNTIME_LIFECYCLE,
    title: `run \`${TRUE_ARGS.join(" ")}\` in a busybox rootfs to its exit and remove it, ${n} containers one after another per round: through the store and the runtime vs runc directly`,
    unit: "ms",
    higherIsBetter: false,
    rounds: settings.rounds,
    settings: {
      containers: n,
      warmup: settings.warmup,
      firstWarmup: settings.firstWarmup,
      args: TRUE_ARGS,
      ...common,
      peers: PEER_DESCRIPTIONS,
    },
    notes: [
      `ms: per container, from its first call (spawn) to its last one done; the median of the round's ${n} containers, median over rounds.`,
      "vs runc: median of the per-round ratios of those medians; above 1 is slower than runc directly. overhead ms: median of the per-round differences.",
      `p50/p99 ms: over every timed container of every round (${n * settings.rounds} per peer); mean ms: the round's time over its containers, median over rounds.`,
      "stack: record = CreateContainer + DeleteContainer (store), create = CreateTask (bundle, shim, runc create), start = StartTask (runc start),",
      "  wait = WaitTask (the shim's exit file seen), delete = DeleteTask (runc delete, bundle removed). runc: run = `runc run --keep`, delete = `runc delete`.",
      "runtime CPU ms: the runtime component's own CPU time per container (/proc/<pid>/stat, 10 ms ticks), not its shims' or runc's.",
      "No events component: both components queue their events and drop the oldest, as without one in an assembly.",
    ],
    peers: PEERS.map((peer) => samples.row(peer)),
  };
}

/** Sums the memory of processes; NaN fields when one cannot be read. */
function sumMemory(memories: (ProcessMemory | undefined)[]): ProcessMemory {
  const sum = { rssKiB: 0, pssKiB: 0, ussKiB: 0 };
  for (const m of memories) {
    sum.rssKiB += m?.rssKiB ?? Number.NaN;
    sum.pssKiB += m?.pssKiB ?? Number.NaN;
    sum.ussKiB += m?.ussKiB ?? Number.NaN;
  }
  return sum;
}

/** Starts K sleeping containers through the stack, reads the memory of their shims and processes and the runtime's, stops them. */
async function memory(
  runner: JsonLineChild,
  scratch: RuntimeScratch,
  runtimePid: number,
  runId: string,
  settings: RuntimeSettings,
  common: Record<string, unknown>,
  log: (line: string) => void,
): Promise<BenchmarkResult> {
  const k = settings.running;
  const title = `memory per running container, ${k} containers running \`${SLEEP_ARGS.join(" ")}\` started through the stack, measured once`;
  const ids = Array.from({ length: k }, (_, i) => `${runId}-mem-${i}`);
  const failed = (message: string): BenchmarkResult => ({
    ...unmeasured([RUNTIME_MEMORY], message, 1)[0]!,
    title,
  });
  const before = statusKiB(runtimePid, "VmRSS");
  log(`${RUNTIME_MEMORY}: starting ${k} containers running \`${SLEEP_ARGS.join(" ")}\`; runtime RSS ${(before / 1024).toFixed(1)} MiB`);
  let started: Started[] = [];
  try {
    started = await runner.request<Started[]>({ kind: "start", ids } satisfies RuntimeLoadRequest);
    await sleep(SETTLE_MS);
    const after = statusKiB(runtimePid, "VmRSS");
    // The shims: the pid and start time each task directory records, alive, named for its container.
    const live = scratch.shims().filter((s) => ids.includes(s.id) && startTime(s.pid) === s.startTime && commandLine(s.pid).includes(`moby-shim init ${s.id}`));
    if (live.length !== k) throw new Error(`found ${live.length} live shims for ${k} running containers`);
    const shimPids = new Set(live.map((s) => s.pid));
    const orphans = started.filter((c) => !shimPids.has(parentPid(c.pid)));
    if (orphans.length > 0) throw new Error(`${orphans.length} container processes are not children of their shims (first: ${orphans[0]!.id}, pid ${orphans[0]!.pid})`);
    // Each shim's only process is the container's init: runc create has exited, nothing else stays.
    const expected = new Set(started.map((c) => c.pid));
    const strays = [...childrenOf(shimPids).values()].flat().filter((pid) => !expected.has(pid));
    if (strays.length > 0) throw new Error(`the shims have ${strays.length} children besides the containers' processes: ${strays.map((p) => `${p} ${commandLine(p)}`).join(", ")}`);
    const shims = sumMemory(live.map((s) => processMemory(s.pid)));
    const containers = sumMemory(started.map((c) => processMemory(c.pid)));
    log(
      `${RUNTIME_MEMORY}: ${k} shims RSS ${(shims.rssKiB / k).toFixed(0)} KiB, PSS ${(shims.pssKiB / k).toFixed(0)} KiB each; containers RSS ${(containers.rssKiB / k).toFixed(0)} KiB each; runtime RSS ${(after / 1024).toFixed(1)} MiB`,
    );
    const per = (m: ProcessMemory) => ({ rss: m.rssKiB / k, pss: m.pssKiB / k, uss: m.ussKiB / k });
    const shim = per(shims);
    const container = per(containers);
    const delta = (after - before) / k;
    const baseline = "container";
    const row = (peer: string, rss: number, extra: Record<string, number>): PeerResult => ({
      peer,
      median: rss,
      spread: 0,
      rounds: [Number.isFinite(rss) ? rss : null],
      ratios: { [baseline]: rss / container.rss },
      extra,
      errors: [],
    });
    return {
      name: RUNTIME_MEMORY,
      title,
      unit: "KiB",
      higherIsBetter: false,
      rounds: 1,
      settings: {
        running: k,
        args: SLEEP_ARGS,
        ...common,
        shimPids: live.map((s) => s.pid),
        runtimeRssKiB: { before, after },
      },
      notes: [
        `KiB: per container: the sum over the ${k} containers divided by ${k}. RSS, PSS (shared pages divided among their users) and USS`,
        "  (Private_Clean + Private_Dirty: what its exit frees) from /proc/<pid>/smaps_rollup.",
        "shim: the per-container process the runtime adds (its perl shim, found by the pid and start time recorded in the task's directory;",
        "  checked: each one's only child is its container's init process, no runc process stays). Most of its RSS is perl's text, shared by every shim: PSS and USS are its cost.",
        "container: the container's own init process (busybox `sleep`, static), for context. vs container: RSS ratio.",
        `container-runtime: the component's VmRSS after the ${k} containers started minus before, divided by ${k}; before/after: its whole VmRSS.`,
      ],
      peers: [
        row("shim", shim.rss, { pssKiB: shim.pss, ussKiB: shim.uss, processes: live.length }),
        row("container", container.rss, { pssKiB: container.pss, ussKiB: container.uss, processes: started.length }),
        row("container-runtime", delta, { beforeKiB: before, afterKiB: after }),
      ],
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`  ${RUNTIME_MEMORY} failed: ${message.split("\n")[0]}`);
    return failed(message);
  } finally {
    // The containers of a failed start were removed by the runner; stop what started (runc delete -f at the end catches the rest).
    try {
      const stopped = await runner.request<{ stopped: number; errors: string[] }>({ kind: "stop", ids } satisfies RuntimeLoadRequest);
      if (stopped.errors.length > 0 && started.length > 0) log(`  ${RUNTIME_MEMORY}: stopping: ${stopped.errors[0]}`);
    } catch (error) {
      log(`  ${RUNTIME_MEMORY}: stopping the containers failed: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
    }
  }
}
