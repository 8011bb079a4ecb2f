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
  private readonly listeners = new Set<(service: string, status: ServingStatus) => void>();

  /** Sets the status of a service ("" for the whole server) and tells every watcher. */
  set(service: string, status: ServingStatus): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    for (const listener of this.listeners) listener(service, status);
  }

  /** Sets every known service, and the server, to status. */
  setAll(status: ServingStatus): void {
    for (const service of this.statuses.keys()) this.set(service, status);
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
