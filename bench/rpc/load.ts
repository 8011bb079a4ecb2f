/**
 * The load a client runner drives: keeps inFlight calls going for a while,
 * and counts calls (or streamed messages) and each call's latency.
 */
import { runClosedLoop } from "../support/call-load.js";
import type { Call } from "../support/call-load.js";
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

/** The case's call: one Echo or one Stream, checked; resolves with the messages received. */
function caseCall(client: EchoClient, request: LoadRequest): Call {
  const { kind, payloadBytes, streamCount, streamSize } = request.case;
  const payload = new Uint8Array(payloadBytes).fill(0x61);
  if (kind === "unary") {
    return async () => {
      const answer = await client.echo(payload);
      if (answer.byteLength !== payloadBytes) throw new Error(`echo answered ${answer.byteLength} bytes, sent ${payloadBytes}`);
      return 1;
    };
  }
  return async () => {
    const received = await client.stream(streamCount, streamSize);
    if (received !== streamCount) throw new Error(`stream sent ${received} messages, asked for ${streamCount}`);
    return received;
  };
}

/** Runs the warm-up, then the counted load, and reports the counted part. */
export async function runLoad(client: EchoClient, request: LoadRequest): Promise<LoadResult> {
  const { units, ...result } = await runClosedLoop(caseCall(client, request), {
    inFlight: request.case.inFlight,
    warmupMs: request.warmupMs,
    durationMs: request.durationMs,
    serverPid: request.serverPid,
  });
  return { ...result, messages: units };
}
