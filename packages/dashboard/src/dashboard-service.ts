/**
 * moby.dashboard.v1.DashboardService: each RPC gathers what one part of the
 * page shows from the assembly's own APIs (assembly-clients.ts), or acts
 * through them. Requests are checked here, before any call, with
 * INVALID_ARGUMENT naming the field; the components' own errors pass through
 * with their codes.
 */
import { createRegistry, create, toJsonString } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import type { Any } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ServiceImpl } from "@connectrpc/connect";
import { ContainerRuntimeService } from "@moby-core/container-runtime-api/v1";
import type { Task } from "@moby-core/container-runtime-api/v1";
import { ContainerStoreService } from "@moby-core/container-store-api/v1";
import type { Container } from "@moby-core/container-store-api/v1";
import { DashboardService, SampleSchema, SeriesSchema } from "@moby-core/dashboard-api/v1";
import {
  EventsService,
  StartPosition,
  file_moby_events_v1_component_events,
  file_moby_events_v1_container_events,
  file_moby_events_v1_image_events,
  file_moby_events_v1_task_events,
} from "@moby-core/events-api/v1";
import type { Component } from "@moby-core/supervisor-api/v1";
import type { AssemblyClients } from "./assembly-clients.js";
import { summarizeContainers } from "./container-summary.js";
import type { MetricSampler } from "./metric-sampler.js";

/** Signal numbers of stop and kill. */
const SIGTERM = 15;
const SIGKILL = 9;
/** docker stop's default grace period, in seconds. */
const DEFAULT_STOP_SECONDS = 10;
/** The limits the proto states. */
const MAX_STOP_SECONDS = 3600;
const MAX_SIGNAL = 64;
const MAX_TAIL_LINES = 10_000;
const MAX_RECENT_EVENTS = 10_000;
/** The page size of the list calls. */
const PAGE_SIZE = 1_000;
/** The most pages a list follows before giving up (a server that keeps paging). */
const MAX_PAGES = 10_000;

/** The payload types of moby.events.v1: to show an event's payload as JSON, and for the JSON of the Connect protocol. */
export const PAYLOADS = createRegistry(
  file_moby_events_v1_container_events,
  file_moby_events_v1_task_events,
  file_moby_events_v1_component_events,
  file_moby_events_v1_image_events,
);

/** The RPCs that change the assembly: they need the token when one is required. */
export const MUTATING_METHODS: ReadonlySet<string> = new Set(
  [DashboardService.method.restartComponent, DashboardService.method.stopContainer, DashboardService.method.killContainer].map(
    (method) => `/${DashboardService.typeName}/${method.name}`,
  ),
);

function invalid(field: string, reason: string): ConnectError {
  return new ConnectError(`${field}: ${reason}`, Code.InvalidArgument);
}

function required(value: string, field: string): string {
  if (value === "") throw invalid(field, "is required");
  return value;
}

function atMost(value: number, max: number, field: string): number {
  if (value > max) throw invalid(field, `must be at most ${max}`);
  return value;
}

/** An event's payload as JSON, or "" when its type is not a moby.events.v1 payload. */
export function payloadJson(event: Any | undefined): string {
  if (event === undefined) return "";
  try {
    const message = anyUnpack(event, PAYLOADS);
    return message === undefined ? "" : toJsonString(PAYLOADS.getMessage(message.$typeName)!, message, { registry: PAYLOADS });
  } catch {
    return "";
  }
}

/** Follows next_page_token through a list until the last page. */
async function allPages<T>(page: (token: string) => Promise<{ items: T[]; next: string }>): Promise<T[]> {
  const items: T[] = [];
  let token = "";
  for (let pages = 0; pages < MAX_PAGES; pages++) {
    const { items: more, next } = await page(token);
    items.push(...more);
    if (next === "") return items;
    token = next;
  }
  throw new ConnectError(`a list kept returning pages after ${MAX_PAGES}`, Code.Internal);
}

/** Whether error is a ConnectError with code. */
function hasCode(error: unknown, code: Code): boolean {
  return error instanceof ConnectError && error.code === code;
}

/** The DashboardService implementation over the assembly's clients and the sampler. */
export function dashboardService(clients: AssemblyClients, sampler: MetricSampler): ServiceImpl<typeof DashboardService> {
  const signalTask = (id: string, signal: number) =>
    clients.service(ContainerRuntimeService, (runtime) => runtime.killTask({ containerId: id, signal })).then(
      () => true,
      (error: unknown) => {
        if (hasCode(error, Code.FailedPrecondition)) return false; // it has exited already
        throw error;
      },
    );
  const exitedWithin = (id: string, ms: number | undefined) =>
    clients.service(ContainerRuntimeService, (runtime) =>
      runtime.waitTask({ containerId: id }, ms === undefined ? {} : { signal: AbortSignal.timeout(ms) }).then(
        () => true,
        (error: unknown) => {
          if (hasCode(error, Code.Canceled) || hasCode(error, Code.DeadlineExceeded)) return false;
          throw error;
        },
      ),
    );

  return {
    async listComponents() {
      const components = await clients.supervisor((supervisor) =>
        allPages<Component>(async (pageToken) => {
          const page = await supervisor.listComponents({ pageSize: PAGE_SIZE, pageToken });
          return { items: page.components, next: page.nextPageToken };
        }),
      );
      return { components };
    },

    async listContainers() {
      const [tasks, records] = await Promise.all([
        clients.service(ContainerRuntimeService, (runtime) =>
          allPages<Task>(async (pageToken) => {
            const page = await runtime.listTasks({ pageSize: PAGE_SIZE, pageToken });
            return { items: page.tasks, next: page.nextPageToken };
          }),
        ),
        clients.service(ContainerStoreService, (store) =>
          allPages<Container>(async (pageToken) => {
            const page = await store.listContainers({ pageSize: PAGE_SIZE, pageToken });
            return { items: page.containers, next: page.nextPageToken };
          }),
        ),
      ]);
      return { containers: summarizeContainers(tasks, records) };
    },

    async *watchEvents(request, context) {
      const recent = atMost(request.recent, MAX_RECENT_EVENTS, "recent");
      let start = { start: StartPosition.NOW, afterSequence: 0n };
      if (recent > 0) {
        const status = await clients.service(EventsService, (events) => events.getStatus({}));
        const back = status.latestSequence > BigInt(recent) ? status.latestSequence - BigInt(recent) : 0n;
        const oldest = status.oldestSequence > 0n ? status.oldestSequence - 1n : 0n;
        start = { start: StartPosition.AFTER_SEQUENCE, afterSequence: back > oldest ? back : oldest };
      }
      const follow = (from: typeof start) =>
        clients.stream(EventsService, (events) => events.subscribe({ filters: request.filters, ...from }, { signal: context.signal }));
      let stream = follow(start);
      for (let started = false; ; ) {
        try {
          for await (const message of stream) {
            started = true;
            if (message.envelope === undefined) continue;
            yield { event: message.envelope, eventJson: payloadJson(message.envelope.event) };
          }
          return;
        } catch (error) {
          // Retention dropped the first of the recent events between GetStatus and Subscribe: start at the oldest retained.
          if (started || start.start !== StartPosition.AFTER_SEQUENCE || !hasCode(error, Code.OutOfRange)) throw error;
          start = { start: StartPosition.OLDEST, afterSequence: 0n };
          stream = follow(start);
        }
      }
    },

    getSamples(request) {
      const limit = atMost(request.limit, sampler.capacity, "limit");
      return {
        intervalMs: sampler.intervalMs,
        series: sampler.series(limit).map((series) =>
          create(SeriesSchema, {
            metric: series.metric,
            subject: series.subject,
            samples: series.samples.map((sample) => create(SampleSchema, { timeMs: BigInt(sample.timeMs), value: sample.value })),
          }),
        ),
      };
    },

    async restartComponent(request) {
      const name = required(request.name, "name");
      const response = await clients.supervisor((supervisor) => supervisor.restartComponent({ name }));
      return response.component === undefined ? {} : { component: response.component };
    },

    async stopContainer(request) {
      const id = required(request.id, "id");
      const seconds = atMost(request.timeoutSeconds, MAX_STOP_SECONDS, "timeout_seconds") || DEFAULT_STOP_SECONDS;
      if (!(await signalTask(id, SIGTERM))) return {};
      if (await exitedWithin(id, seconds * 1000)) return {};
      await signalTask(id, SIGKILL);
      await exitedWithin(id, undefined);
      return {};
    },

    async killContainer(request) {
      const id = required(request.id, "id");
      const signal = atMost(request.signal, MAX_SIGNAL, "signal") || SIGKILL;
      await clients.service(ContainerRuntimeService, (runtime) => runtime.killTask({ containerId: id, signal }));
      return {};
    },

    async *followLogs(request, context) {
      const id = required(request.id, "id");
      const tail = atMost(request.tail, MAX_TAIL_LINES, "tail");
      const stream = clients.stream(ContainerRuntimeService, (runtime) =>
        runtime.readLogs({ containerId: id, follow: true, ...(tail === 0 ? {} : { tailLines: tail }) }, { signal: context.signal }),
      );
      for await (const chunk of stream) {
        yield { stream: chunk.stream, data: chunk.data, ...(chunk.timestamp === undefined ? {} : { timestamp: chunk.timestamp }) };
      }
    },
  };
}
