/**
 * The assembly's metrics: init's own, and each running component's, asked
 * at the time of the scrape through moby.component.v1 GetMetrics, all at
 * once, merged into one exposition with a `component` label. A component
 * that does not answer in time, or answers with an error or with text that
 * does not parse, is left out without failing the scrape: its
 * moby_component_up is 0 and moby_component_scrape_error says why.
 * The connection to each component is kept from one scrape to the next
 * (per process: a restarted component gets a new one), and dropped after a
 * failure, so a scrape costs a call, not a handshake, per component.
 */
import { ComponentService } from "@moby-core/component-api/v1";
import { Code, ConnectError, dialSocket } from "@moby-core/sdk";
import type { ComponentMetrics, Connection } from "@moby-core/sdk";
import { ComponentState } from "@moby-core/supervisor-api/v1";
import type { Logger } from "pino";
import type { ComponentRunner } from "../supervisor/component-runner.js";
import { INIT_NAME } from "../manifest/manifest.js";
import { ExpositionMerger } from "./exposition-merge.js";

/** How long one component has to answer a scrape, in ms. */
export const COMPONENT_SCRAPE_TIMEOUT_MS = 2000;


/** Why a component's metrics are missing from a scrape: the error label of moby_component_scrape_error. */
export type ScrapeError = "not_running" | "timeout" | "unavailable" | "unimplemented" | "invalid_exposition" | "error";

/** What the scrape of one component gave. */
interface ScrapeResult {
  component: string;
  text: string | undefined;
  error: ScrapeError | undefined;
  seconds: number;
}

/** Gathers the metrics of init and of the components it supervises. */
export class AssemblyMetrics {
  /** The connection kept to each component's process, by component name. */
  readonly #connections = new Map<string, { pid: number; connection: Connection }>();

  constructor(
    private readonly own: ComponentMetrics,
    private readonly runners: () => readonly ComponentRunner[],
    private readonly logger: Logger,
  ) {}

  /** The assembly's exposition in the Prometheus text format (version 0.0.4). */
  async gather(): Promise<string> {
    const ownStart = performance.now();
    const ownText = await this.own.exposition();
    const results = await Promise.all(this.runners().map((runner) => this.#scrape(runner)));
    const merger = new ExpositionMerger();
    merger.add(INIT_NAME, ownText);
    merger.add(INIT_NAME, scrapeReport(undefined, (performance.now() - ownStart) / 1000));
    for (const result of results) {
      let error = result.error;
      if (result.text !== undefined) {
        try {
          merger.add(result.component, result.text);
        } catch (cause) {
          error = "invalid_exposition";
          this.logger.warn({ component: result.component, err: cause }, `component ${result.component}: its metrics do not parse; left out of the scrape`);
        }
      }
      merger.add(result.component, scrapeReport(error, result.seconds));
    }
    return merger.text();
  }

  /** Closes the connections kept to the components. */
  close(): void {
    for (const { connection } of this.#connections.values()) connection.close();
    this.#connections.clear();
  }

  /** Asks one component for its metrics, within COMPONENT_SCRAPE_TIMEOUT_MS. */
  async #scrape(runner: ComponentRunner): Promise<ScrapeResult> {
    const component = runner.spec.name;
    const start = performance.now();
    const done = (text: string | undefined, error: ScrapeError | undefined): ScrapeResult => ({
      component,
      text,
      error,
      seconds: (performance.now() - start) / 1000,
    });
    let kept = this.#connections.get(component);
    if (kept !== undefined && (kept.pid !== runner.pid || runner.state !== ComponentState.RUNNING)) {
      kept.connection.close();
      this.#connections.delete(component);
      kept = undefined;
    }
    if (runner.state !== ComponentState.RUNNING || runner.pid === 0) return done(undefined, "not_running");
    if (kept === undefined) {
      kept = { pid: runner.pid, connection: dialSocket(runner.spec.socket, { retry: false, timeoutMs: COMPONENT_SCRAPE_TIMEOUT_MS, connections: 1 }) };
      this.#connections.set(component, kept);
    }
    try {
      const { text } = await kept.connection.client(ComponentService).getMetrics({});
      return done(text, undefined);
    } catch (error) {
      // A connection that failed a call is not trusted with the next: the next scrape dials anew.
      if (this.#connections.get(component) === kept) this.#connections.delete(component);
      kept.connection.close();
      return done(undefined, scrapeError(ConnectError.from(error).code));
    }
  }
}

function scrapeError(code: Code): ScrapeError {
  switch (code) {
    case Code.DeadlineExceeded:
      return "timeout";
    case Code.Unavailable:
      return "unavailable";
    case Code.Unimplemented:
      return "unimplemented";
    default:
      return "error";
  }
}

/** The families init reports about the scrape of one component; the merger labels them with it. */
function scrapeReport(error: ScrapeError | undefined, seconds: number): string {
  return [
    "# HELP moby_component_up 1 if the component answered this scrape with metrics, else 0.",
    "# TYPE moby_component_up gauge",
    `moby_component_up ${error === undefined ? 1 : 0}`,
    "# HELP moby_component_scrape_duration_seconds How long the component took to answer this scrape, in seconds.",
    "# TYPE moby_component_scrape_duration_seconds gauge",
    `moby_component_scrape_duration_seconds ${seconds}`,
    "# HELP moby_component_scrape_error 1 with why the component's metrics are missing from this scrape: not_running, timeout, unavailable, unimplemented, invalid_exposition or error.",
    "# TYPE moby_component_scrape_error gauge",
    ...(error === undefined ? [] : [`moby_component_scrape_error{error="${error}"} 1`]),
    "",
  ].join("\n");
}
