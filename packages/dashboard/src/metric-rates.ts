/**
 * From two scrapes of the assembly's metrics to the figures the charts
 * show: per component, gRPC calls completed per second and the share of
 * them that failed (grpc_server_handled_total, by its component and
 * grpc_code labels); per container, CPU cores used
 * (container_cpu_total_nanoseconds) and memory
 * (container_memory_usage_usage_bytes); and events stored per second
 * (moby_events_published_total). A counter lower than before was reset (its
 * process restarted): as Prometheus' rate() does, its whole new value
 * counts as the increase.
 */
import { SeriesMetric } from "@moby-core/dashboard-api/v1";
import type { PromSample } from "./prometheus-samples.js";

/** The counters and gauges of one scrape that the charts use. */
export interface ScrapeTotals {
  /** Per component: calls completed and those that did not end OK, since it started. */
  calls: Map<string, { calls: number; errors: number }>;
  /** Per container id: CPU time used, in ns. */
  cpuNs: Map<string, number>;
  /** Per container id: memory in use, in bytes. */
  memoryBytes: Map<string, number>;
  /** Events stored by the events component since it started; undefined without an events component. */
  eventsPublished: number | undefined;
}

/** One point of a series. */
export interface RatePoint {
  /** Which figure. */
  metric: SeriesMetric;
  /** Whose: a component name, a container id, or "events". */
  subject: string;
  /** The value in the metric's unit. */
  value: number;
}

/** The subject of the event-rate series. */
export const EVENTS_SUBJECT = "events";

/** The totals of one scrape's samples. */
export function totalsOf(samples: readonly PromSample[]): ScrapeTotals {
  const totals: ScrapeTotals = { calls: new Map(), cpuNs: new Map(), memoryBytes: new Map(), eventsPublished: undefined };
  for (const { name, labels, value } of samples) {
    if (!Number.isFinite(value)) continue;
    if (name === "grpc_server_handled_total" && labels.component !== undefined) {
      const entry = totals.calls.get(labels.component) ?? { calls: 0, errors: 0 };
      entry.calls += value;
      if (labels.grpc_code !== "OK") entry.errors += value;
      totals.calls.set(labels.component, entry);
    } else if (name === "container_cpu_total_nanoseconds" && labels.container_id !== undefined) {
      totals.cpuNs.set(labels.container_id, value);
    } else if (name === "container_memory_usage_usage_bytes" && labels.container_id !== undefined) {
      totals.memoryBytes.set(labels.container_id, value);
    } else if (name === "moby_events_published_total") {
      totals.eventsPublished = (totals.eventsPublished ?? 0) + value;
    }
  }
  return totals;
}

/** How much a counter grew from before to now; a counter lower than before was reset, and all of now counts. */
export function increase(before: number | undefined, now: number): number {
  return before === undefined || now < before ? now : now - before;
}

/**
 * The points of the scrape `now`, taken elapsedMs after `before` (undefined
 * for the first scrape: only the gauges then). The per-second figures are
 * increases over elapsed seconds.
 */
export function ratesBetween(before: ScrapeTotals | undefined, now: ScrapeTotals, elapsedMs: number): RatePoint[] {
  const points: RatePoint[] = [];
  for (const [container, bytes] of now.memoryBytes) points.push({ metric: SeriesMetric.CONTAINER_MEMORY_BYTES, subject: container, value: bytes });
  if (before === undefined || elapsedMs <= 0) return points;
  const seconds = elapsedMs / 1000;
  for (const [component, { calls, errors }] of now.calls) {
    const previous = before.calls.get(component);
    const reset = previous !== undefined && calls < previous.calls;
    const callsUp = increase(reset ? undefined : previous?.calls, calls);
    const errorsUp = increase(reset ? undefined : previous?.errors, errors);
    points.push({ metric: SeriesMetric.CALLS_PER_SECOND, subject: component, value: callsUp / seconds });
    points.push({ metric: SeriesMetric.ERROR_RATIO, subject: component, value: callsUp === 0 ? 0 : Math.min(1, errorsUp / callsUp) });
  }
  for (const [container, ns] of now.cpuNs) {
    const previous = before.cpuNs.get(container);
    if (previous === undefined) continue; // a new container: its CPU since it started is no rate over this interval
    points.push({ metric: SeriesMetric.CONTAINER_CPU_CORES, subject: container, value: increase(previous, ns) / 1e9 / seconds });
  }
  if (now.eventsPublished !== undefined) {
    points.push({ metric: SeriesMetric.EVENTS_PER_SECOND, subject: EVENTS_SUBJECT, value: increase(before.eventsPublished, now.eventsPublished) / seconds });
  }
  return points;
}
