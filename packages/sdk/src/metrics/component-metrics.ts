/**
 * ComponentMetrics: the one Prometheus registry of a component process.
 * Every component has, without code of its own, the gRPC server families
 * (see grpc-server-metrics.ts), Node's process and runtime metrics
 * (prom-client's defaults) and moby_component_info; the author adds its
 * own with counter(), gauge() and histogram(), which are prom-client's
 * metrics registered here. The whole is read through
 * moby.component.v1.ComponentService.GetMetrics.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { CounterConfiguration, GaugeConfiguration, HistogramConfiguration } from "prom-client";
import { GrpcServerMetrics } from "./grpc-server-metrics.js";

/** The content type of ComponentMetrics.exposition(): the Prometheus text format 0.0.4. */
export const PROMETHEUS_TEXT_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** The names the SDK's own families start with; an author's metric may not. */
const RESERVED_PREFIXES = ["grpc_server_", "moby_component_"];

/** What moby_component_info says of a component. */
export interface ComponentMetricsIdentity {
  /** The component's name, for example "container-store". */
  name: string;
  /** The implementation's version. */
  version: string;
  /** The build revision, or "" when unknown. */
  revision: string;
}

/** A metric's settings without the registry, which is always the component's. */
type Settings<C> = Omit<C, "registers">;

/** The metrics registry of one component process. */
export class ComponentMetrics {
  /** The prom-client registry holding the process, runtime, info and author's metrics. */
  readonly registry = new Registry();
  /** The gRPC server families, counted by the server engine. */
  readonly grpcServer = new GrpcServerMetrics();
  readonly #info: Gauge<"name" | "version" | "revision">;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.#info = new Gauge({
      name: "moby_component_info",
      help: "Which component this is: always 1, with its name, version and build revision as labels.",
      labelNames: ["name", "version", "revision"] as const,
      registers: [this.registry],
    });
  }

  /** Sets moby_component_info's labels; serveComponent calls it with the component's identity. */
  identify(identity: ComponentMetricsIdentity): void {
    this.#info.reset();
    this.#info.set({ name: identity.name, version: identity.version, revision: identity.revision }, 1);
  }

  /** A counter in the component's registry (prom-client's Counter: inc(), labels()). */
  counter<L extends string>(settings: Settings<CounterConfiguration<L>>): Counter<L> {
    return new Counter({ ...this.#checked(settings), registers: [this.registry] });
  }

  /** A gauge in the component's registry (prom-client's Gauge: set(), inc(), dec(), or a collect() that sets it when scraped). */
  gauge<L extends string>(settings: Settings<GaugeConfiguration<L>>): Gauge<L> {
    return new Gauge({ ...this.#checked(settings), registers: [this.registry] });
  }

  /** A histogram in the component's registry (prom-client's Histogram: observe(), startTimer()). */
  histogram<L extends string>(settings: Settings<HistogramConfiguration<L>>): Histogram<L> {
    return new Histogram({ ...this.#checked(settings), registers: [this.registry] });
  }

  /**
   * Wraps an asynchronous read (a backend's counts, a status call) so that
   * the collect() of every metric of one scrape shares one call: the metrics
   * are collected at once, and a read still pending is handed out again.
   */
  perScrape<T>(read: () => Promise<T>): () => Promise<T> {
    let pending: Promise<T> | undefined;
    return () =>
      (pending ??= read().finally(() => {
        pending = undefined;
      }));
  }

  /** Every metric of the component in the Prometheus text format (PROMETHEUS_TEXT_CONTENT_TYPE). */
  async exposition(): Promise<string> {
    return this.grpcServer.exposition() + (await this.registry.metrics());
  }

  #checked<S extends { name: string }>(settings: S): S {
    const reserved = RESERVED_PREFIXES.find((prefix) => settings.name.startsWith(prefix));
    if (reserved !== undefined) throw new Error(`metric ${settings.name}: names starting with "${reserved}" are the SDK's own`);
    return settings;
  }
}
