import { createClient } from "@connectrpc/connect";
import { dialSocket } from "@moby-core/sdk";
import { GrpcTransport } from "../../packages/sdk/dist/grpc/grpc-transport.js";
import { EchoService } from "../gen/bench/v1/echo_pb.js";
import { dialGrpcThin } from "../rpc/grpc-thin-peer.js";
import { runLoad } from "../rpc/load.js";
import type { EchoClient } from "../rpc/peers.js";

const sock = process.argv[2]!;
const variants: Record<string, () => EchoClient> = {
  full: () => { const c = dialSocket(sock).client(EchoService); return { echo: async (p) => (await c.echo({ payload: p })).payload, stream: async () => 0, close() {} }; },
  nopolicy: () => { const c = createClient(EchoService, new GrpcTransport({ socketPath: sock, readMaxBytes: 4 << 20, writeMaxBytes: 4 << 20 })); return { echo: async (p) => (await c.echo({ payload: p })).payload, stream: async () => 0, close() {} }; },
  transport: () => { const t = new GrpcTransport({ socketPath: sock, readMaxBytes: 4 << 20, writeMaxBytes: 4 << 20 }); const m = EchoService.method.echo; return { echo: async (p) => (await t.unary(m, undefined, undefined, undefined, { payload: p })).message.payload, stream: async () => 0, close() {} }; },
  thin: () => dialGrpcThin(sock),
};
const clients = Object.fromEntries(Object.entries(variants).map(([k, f]) => [k, f()]));
const results: Record<string, number[][]> = {};
const req = (ms: number) => ({ case: { kind: "unary" as const, inFlight: 64, payloadBytes: 16, streamCount: 0, streamSize: 0 }, warmupMs: 500, durationMs: ms, serverPid: 0 });
for (const k of Object.keys(clients)) await runLoad(clients[k]!, req(1000));
for (let round = 0; round < +(process.argv[3] ?? 4); round++) {
  for (const k of Object.keys(clients)) {
    const r = await runLoad(clients[k]!, req(3000));
    (results[k] ??= []).push([r.rate, r.clientCpuUs]);
  }
}
const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!;
for (const [k, v] of Object.entries(results)) console.log(k.padEnd(10), "rate", med(v.map((x) => x[0]!)).toFixed(0).padStart(6), "clientCpu µs", med(v.map((x) => x[1]!)).toFixed(1));
process.exit(0);
