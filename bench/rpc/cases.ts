/**
 * The RPC cases: what load each peer is put under, and what is reported.
 */

/** One RPC case: one table in the report. */
export interface RpcCase {
  /** The name `--only` selects it by. */
  name: string;
  /** A one-line description for the table's title. */
  title: string;
  /** Unary Echo calls, or server-streaming Stream calls. */
  kind: "unary" | "stream";
  /** How many calls the client keeps in flight. */
  inFlight: number;
  /** The Echo payload, in bytes (unary). */
  payloadBytes: number;
  /** Messages per Stream call (stream). */
  streamCount: number;
  /** Bytes per streamed message (stream). */
  streamSize: number;
  /** The unit of the main value. */
  unit: "calls/s" | "messages/s";
  /** Whether latency percentiles are reported. */
  latency: boolean;
}

const none = { payloadBytes: 0, streamCount: 0, streamSize: 0 };

/** The cases, in the order they are run and printed. */
export const RPC_CASES: readonly RpcCase[] = [
  {
    ...none,
    name: "unary-1",
    title: "unary Echo, 16-byte payload, 1 call in flight (latency)",
    kind: "unary",
    inFlight: 1,
    payloadBytes: 16,
    unit: "calls/s",
    latency: true,
  },
  {
    ...none,
    name: "unary-64",
    title: "unary Echo, 16-byte payload, 64 calls in flight (throughput)",
    kind: "unary",
    inFlight: 64,
    payloadBytes: 16,
    unit: "calls/s",
    latency: true,
  },
  {
    ...none,
    name: "stream",
    title: "server streaming, 1,000 messages of 64 bytes per call, 1 call in flight",
    kind: "stream",
    inFlight: 1,
    streamCount: 1000,
    streamSize: 64,
    unit: "messages/s",
    latency: false,
  },
  {
    ...none,
    name: "payload-64k",
    title: "unary Echo, 64 KiB payload each way, 8 calls in flight",
    kind: "unary",
    inFlight: 8,
    payloadBytes: 64 * 1024,
    unit: "calls/s",
    latency: true,
  },
];
