/**
 * The load a client runner drives: keeps inFlight calls going for a while,
 * and counts calls (or streamed messages) and each call's latency.
 */
import { ownCpuMicros, processCpuMicros } from "../support/process-cpu.js";
import { percentile } from "../support/stats.js";
import type { RpcCase } from "./cases.js";
import type { EchoClient } from "./peers.js";

/** What the orchestrator asks a client runner to do once. */
export interface LoadRequest {
  case: Pick<RpcCase, "kind" | "inFlight" | "payloadBytes" | "streamCount" | "streamSize">;
  /** Load run first and not counted, in ms. */
  warmupMs: number;
  /** Load counted, in ms. */
  durationMs: number;
  /** The server's process id, to read the CPU time it spends (Linux); 0 for none. */
  serverPid: number;
}

/** What one measurement found. */
export interface LoadResult {
  /** Calls completed in the counted period. */
  calls: number;
  /** Messages received: one per unary call, count per Stream call. */
  messages: number;
  /** How long the counted load took, from start to the last call's end, in ms. */
  elapsedMs: number;
  /** messages per second. */
  rate: number;
  /** The median call latency, in µs. */
  p50Us: number;
  /** The 99th percentile call latency, in µs. */
  p99Us: number;
  /** The client process's CPU time per message, in µs. */
  clientCpuUs: number;
  /** The server process's CPU time per message, in µs (NaN where it cannot be read); 10 ms resolution overall. */
  serverCpuUs: number;
}

/** Keeps the case's calls in flight for ms milliseconds and reports what was done. */
async function drive(client: EchoClient, request: LoadRequest, ms: number): Promise<LoadResult> {
  const serverCpu = () => (request.serverPid > 0 ? processCpuMicros(request.serverPid) : undefined) ?? Number.NaN;
  const { kind, inFlight, payloadBytes, streamCount, streamSize } = request.case;
  const payload = new Uint8Array(payloadBytes).fill(0x61);
  const call =
    kind === "unary"
      ? async () => {
          const answer = await client.echo(payload);
          if (answer.byteLength !== payloadBytes) throw new Error(`echo answered ${answer.byteLength} bytes, sent ${payloadBytes}`);
          return 1;
        }
      : async () => {
          const received = await client.stream(streamCount, streamSize);
          if (received !== streamCount) throw new Error(`stream sent ${received} messages, asked for ${streamCount}`);
          return received;
        };
  const latencies: number[] = [];
  let messages = 0;
  const serverCpuBefore = serverCpu();
  const clientCpuBefore = ownCpuMicros();
  const start = performance.now();
  const end = start + ms;
  const worker = async () => {
    while (performance.now() < end) {
      const began = performance.now();
      const received = await call();
      latencies.push(performance.now() - began);
      messages += received;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsedMs = performance.now() - start;
  const clientCpu = ownCpuMicros() - clientCpuBefore;
  const serverCpuUsed = serverCpu() - serverCpuBefore;
  latencies.sort((a, b) => a - b);
  return {
    calls: latencies.length,
    messages,
    elapsedMs,
    rate: (messages / elapsedMs) * 1000,
    p50Us: percentile(latencies, 50, true) * 1000,
    p99Us: percentile(latencies, 99, true) * 1000,
    clientCpuUs: clientCpu / messages,
    serverCpuUs: serverCpuUsed / messages,
  };
}

/** Runs the warm-up, then the counted load, and reports the counted part. */
export async function runLoad(client: EchoClient, request: LoadRequest): Promise<LoadResult> {
  if (request.warmupMs > 0) await drive(client, request, request.warmupMs);
  return drive(client, request, request.durationMs);
}
