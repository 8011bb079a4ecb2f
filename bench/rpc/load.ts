/**
 * The load a client runner drives: keeps inFlight calls going for a while,
 * and counts calls (or streamed messages) and each call's latency.
 */
import { runClosedLoop } from "../support/call-load.js";
import type { Call, LoopResult } from "../support/call-load.js";
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

/** What one measurement found: the closed loop's result, its units being the messages received (one per unary call, count per Stream call). */
export type LoadResult = Omit<LoopResult, "units"> & {
  /** Messages received: one per unary call, count per Stream call. */
  messages: number;
};

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
