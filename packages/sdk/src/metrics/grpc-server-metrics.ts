/**
 * The gRPC server metrics every component exports, named and labelled as
 * go-grpc-prometheus names them, so dashboards and alerts written for
 * containerd, etcd or any Go gRPC server read ours unchanged.
 *
 * They are counted on the hot path of every call, so they are not
 * prom-client metrics: a prom-client child hashes its labels on every
 * inc(). Each method gets one MethodStats at startup with plain number
 * fields (and one per status code, made on the first call that ends with
 * it); a call only adds to numbers. The text is made when scraped. The
 * counters of every method are listed from the start (0); a grpc_code, and a
 * method's histogram, appear once a call ended with it.
 */
import type { DescMethod } from "@bufbuild/protobuf";

/** The buckets of grpc_server_handling_seconds, in seconds: Prometheus' DefBuckets, as go-grpc-prometheus uses. */
export const HANDLING_SECONDS_BUCKETS: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

/** The grpc_code label of each status code, by number, as Go's codes.Code.String() spells it. */
const CODE_NAMES = [
  "OK",
  "Canceled",
  "Unknown",
  "InvalidArgument",
  "DeadlineExceeded",
  "NotFound",
  "AlreadyExists",
  "PermissionDenied",
  "ResourceExhausted",
  "FailedPrecondition",
  "Aborted",
  "OutOfRange",
  "Unimplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
  "Unauthenticated",
] as const;

/** The grpc_type label of each method kind. */
const TYPE_NAMES: Record<DescMethod["methodKind"], string> = {
  unary: "unary",
  client_streaming: "client_stream",
  server_streaming: "server_stream",
  bidi_streaming: "bidi_stream",
};

/** The counts of one method: what the server engine adds to as calls start, exchange messages and end. */
export class MethodStats {
  /** The label set shared by every sample of the method: grpc_type, grpc_service, grpc_method. */
  readonly labels: string;
  /** Calls started (grpc_server_started_total). */
  started = 0;
  /** Request messages read (grpc_server_msg_received_total). */
  received = 0;
  /** Response messages sent (grpc_server_msg_sent_total). */
  sent = 0;
  /** Calls ended, by status code number (grpc_server_handled_total); a code's slot exists once a call ended with it. */
  readonly handled: (number | undefined)[] = [];
  /** Calls ended per bucket of HANDLING_SECONDS_BUCKETS (not cumulative), and past the last in the final slot. */
  readonly buckets = new Float64Array(HANDLING_SECONDS_BUCKETS.length + 1);
  /** The sum of the handling times, in seconds. */
  handlingSeconds = 0;

  constructor(serviceName: string, method: DescMethod) {
    this.labels = `grpc_method="${method.name}",grpc_service="${serviceName}",grpc_type="${TYPE_NAMES[method.methodKind]}"`;
  }

  /** Counts a call that ended with status code (0 for OK) after seconds. */
  ended(code: number, seconds: number): void {
    this.handled[code] = (this.handled[code] ?? 0) + 1;
    let i = 0;
    while (i < HANDLING_SECONDS_BUCKETS.length && seconds > HANDLING_SECONDS_BUCKETS[i]!) i++;
    this.buckets[i]!++;
    this.handlingSeconds += seconds;
  }
}

/** The gRPC server metrics of one server: a MethodStats per method, and their exposition. */
export class GrpcServerMetrics {
  readonly #methods: MethodStats[] = [];

  /** The stats of a method, made once when the server registers its route. */
  method(serviceName: string, method: DescMethod): MethodStats {
    const stats = new MethodStats(serviceName, method);
    this.#methods.push(stats);
    return stats;
  }

  /** The metrics in the Prometheus text format (version 0.0.4), one family after another. */
  exposition(): string {
    const methods = this.#methods;
    const lines: string[] = [];
    family(lines, "grpc_server_started_total", "counter", "Total number of RPCs started on the server.");
    for (const m of methods) lines.push(`grpc_server_started_total{${m.labels}} ${m.started}`);
    family(lines, "grpc_server_handled_total", "counter", "Total number of RPCs completed on the server, regardless of success or failure.");
    for (const m of methods) {
      for (let code = 0; code < m.handled.length; code++) {
        const count = m.handled[code];
        if (count !== undefined) lines.push(`grpc_server_handled_total{grpc_code="${CODE_NAMES[code] ?? String(code)}",${m.labels}} ${count}`);
      }
    }
    family(lines, "grpc_server_msg_received_total", "counter", "Total number of RPC stream messages received on the server.");
    for (const m of methods) lines.push(`grpc_server_msg_received_total{${m.labels}} ${m.received}`);
    family(lines, "grpc_server_msg_sent_total", "counter", "Total number of gRPC stream messages sent by the server.");
    for (const m of methods) lines.push(`grpc_server_msg_sent_total{${m.labels}} ${m.sent}`);
    family(lines, "grpc_server_handling_seconds", "histogram", "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.");
    // A method's histogram appears with its first call: 14 lines per method would be most of the text.
    for (const m of methods) {
      if (m.handled.length === 0) continue;
      let cumulative = 0;
      for (let i = 0; i < HANDLING_SECONDS_BUCKETS.length; i++) {
        cumulative += m.buckets[i]!;
        lines.push(`grpc_server_handling_seconds_bucket{${m.labels},le="${HANDLING_SECONDS_BUCKETS[i]}"} ${cumulative}`);
      }
      cumulative += m.buckets[HANDLING_SECONDS_BUCKETS.length]!;
      lines.push(`grpc_server_handling_seconds_bucket{${m.labels},le="+Inf"} ${cumulative}`);
      lines.push(`grpc_server_handling_seconds_sum{${m.labels}} ${m.handlingSeconds}`);
      lines.push(`grpc_server_handling_seconds_count{${m.labels}} ${cumulative}`);
    }
    return `${lines.join("\n")}\n`;
  }
}

function family(lines: string[], name: string, type: string, help: string): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
}
