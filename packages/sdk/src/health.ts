/**
 * grpc.health.v1.Health, served by every component: a status per registered
 * service plus the overall server (""), with Check, Watch and List.
 */
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  Health,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
  HealthListResponseSchema,
} from "@moby-core/grpc-health-api/v1";
import type { HealthCheckResponse } from "@moby-core/grpc-health-api/v1";
import { NotFoundError } from "./errors.js";
import { subscriptionStream } from "./subscription-stream.js";

export { HealthCheckResponse_ServingStatus as ServingStatus } from "@moby-core/grpc-health-api/v1";

/** The name under which the overall health of the server is kept. */
export const OVERALL = "";

/** The serving status of each service of a component, with change notification. */
export class HealthStatusBoard {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly reasons = new Map<string, string>();
  private readonly listeners = new Set<(service: string, status: ServingStatus) => void>();

  /**
   * Sets the status of a service ("" for the whole server) and tells every
   * watcher. With NOT_SERVING, reason says why, for people (GetInfo's
   * ServedService.not_serving_reason, one line, cut at 1024 bytes); any
   * other status clears it.
   */
  set(service: string, status: ServingStatus, reason = ""): void {
    const line = status === ServingStatus.NOT_SERVING ? oneLine(reason) : "";
    if (line === "") this.reasons.delete(service);
    else this.reasons.set(service, line);
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    for (const listener of this.listeners) listener(service, status);
  }

  /** Why a service is NOT_SERVING, as set with it; "" when it serves or no reason was given. */
  reason(service: string): string {
    return this.reasons.get(service) ?? "";
  }

  /** Sets every known service, and the server, to status; keeps the reasons already given. */
  setAll(status: ServingStatus): void {
    for (const service of this.statuses.keys()) this.set(service, status, this.reason(service));
  }

  /** The status of a service, or undefined when the service is not known. */
  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Every known service and its status. */
  entries(): [string, ServingStatus][] {
    return [...this.statuses];
  }

  /** Calls listener on every status change until the returned function is called. */
  subscribe(listener: (service: string, status: ServingStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The longest reason kept, in bytes. */
const MAX_REASON_BYTES = 1024;

/** text on one line (line breaks become spaces), at most MAX_REASON_BYTES bytes of UTF-8. */
function oneLine(text: string): string {
  let line = text.replace(/\s*[\r\n]+\s*/g, " ").trim();
  while (Buffer.byteLength(line, "utf8") > MAX_REASON_BYTES) line = line.slice(0, -1);
  return line;
}

/** The implementation of grpc.health.v1.Health over a status board. */
export function healthService(board: HealthStatusBoard): Partial<ServiceImpl<typeof Health>> {
  return {
    check(request) {
      const status = board.get(request.service);
      if (status === undefined) throw new NotFoundError(`unknown service ${JSON.stringify(request.service)}`);
      return { status };
    },
    async *watch(request, context) {
      yield* watchStatus(board, request.service, context.signal);
    },
    list() {
      const statuses: Record<string, HealthCheckResponse> = {};
      for (const [service, status] of board.entries()) {
        statuses[service] = create(HealthCheckResponseSchema, { status });
      }
      return create(HealthListResponseSchema, { statuses });
    },
  };
}

/** Yields the status of service now and on every change, until signal aborts. */
async function* watchStatus(board: HealthStatusBoard, service: string, signal: AbortSignal) {
  const changes = subscriptionStream<ServingStatus>(signal, (push) =>
    board.subscribe((changed, status) => {
      if (changed === service) push(status);
    }),
  );
  let last = board.get(service) ?? ServingStatus.SERVICE_UNKNOWN;
  yield create(HealthCheckResponseSchema, { status: last });
  for await (const status of changes) {
    if (status === last) continue;
    last = status;
    yield create(HealthCheckResponseSchema, { status });
  }
}
