/**
 * A closed-loop load for the component benchmarks: keeps inFlight calls
 * going for a while (or until a number of calls is done), and counts them and
 * each call's latency, with the client's and the server's CPU time. The same
 * loop drives a component's calls and the SDK echo calls they are compared
 * with, so that only what is called differs.
 */
import { ownCpuMicros, processCpuMicros } from "./process-cpu.js";
import { percentile } from "./stats.js";

/** How long and how hard to load. */
export interface ClosedLoop {
  /** How many calls are kept in flight. */
  inFlight: number;
  /** Load run first and not counted, in ms. */
  warmupMs: number;
  /** Load counted, in ms. */
  durationMs: number;
  /** The server's process id, to read the CPU time it spends (Linux); 0 for none. */
  serverPid: number;
}

/** What one counted load found. */
export interface LoopResult {
  /** Calls completed in the counted period. */
  calls: number;
  /** Units counted (what call resolved with, summed): one per call, or per page, per message. */
  units: number;
  /** From the start to the last call's end, in ms. */
  elapsedMs: number;
  /** units per second. */
  rate: number;
  /** The median call latency, in µs. */
  p50Us: number;
  /** The 99th percentile call latency, in µs. */
  p99Us: number;
  /** The client process's CPU time per unit, in µs. */
  clientCpuUs: number;
  /** The server process's CPU time per unit, in µs (NaN where it cannot be read); 10 ms resolution overall. */
  serverCpuUs: number;
}

/** One call: resolves with the units it did (1 for a unary call); worker is the caller's slot, 0..inFlight-1. */
export type Call = (worker: number) => Promise<number>;

/** A function that reads pid's CPU time in µs, NaN when it cannot (pid 0, not Linux, gone). */
export function cpuReader(pid: number): () => number {
  return () => (pid > 0 ? processCpuMicros(pid) : undefined) ?? Number.NaN;
}

/**
 * Keeps inFlight calls going until limit.ms have passed, or until limit.calls
 * calls were started, and reports what was done.
 */
export async function closedLoop(call: Call, inFlight: number, serverPid: number, limit: { ms: number } | { calls: number }): Promise<LoopResult> {
  const serverCpu = cpuReader(serverPid);
  const latencies: number[] = [];
  let units = 0;
  let started = 0;
  const serverCpuBefore = serverCpu();
  const clientCpuBefore = ownCpuMicros();
  const start = performance.now();
  const more = "ms" in limit ? () => performance.now() < start + limit.ms : () => started < limit.calls;
  const worker = async (slot: number) => {
    while (more()) {
      started++;
      const began = performance.now();
      const done = await call(slot);
      latencies.push(performance.now() - began);
      units += done;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, (_, slot) => worker(slot)));
  const elapsedMs = performance.now() - start;
  const clientCpu = ownCpuMicros() - clientCpuBefore;
  const serverCpuUsed = serverCpu() - serverCpuBefore;
  latencies.sort((a, b) => a - b);
  return {
    calls: latencies.length,
    units,
    elapsedMs,
    rate: (units / elapsedMs) * 1000,
    p50Us: percentile(latencies, 50, true) * 1000,
    p99Us: percentile(latencies, 99, true) * 1000,
    clientCpuUs: clientCpu / units,
    serverCpuUs: serverCpuUsed / units,
  };
}

/** Runs the warm-up (uncounted), then the counted load, and reports the counted part. */
export async function runClosedLoop(call: Call, loop: ClosedLoop): Promise<LoopResult> {
  if (loop.warmupMs > 0) await closedLoop(call, loop.inFlight, 0, { ms: loop.warmupMs });
  return closedLoop(call, loop.inFlight, loop.serverPid, { ms: loop.durationMs });
}
