/**
 * The dashboard's sampler: every interval it scrapes the assembly's metrics
 * (init's GetAssemblyMetrics, which asks every component) and keeps, per
 * series, a ring of the newest samples (metric-rates.ts says what they
 * are), so that a page opened now shows the last minutes at once.
 */
import { SeriesMetric } from "@moby-core/dashboard-api/v1";
import type { Logger } from "@moby-core/sdk";
import { parsePrometheusSamples } from "./prometheus-samples.js";
import { RingBuffer } from "./ring-buffer.js";
import { ratesBetween, totalsOf } from "./metric-rates.js";
import type { ScrapeTotals } from "./metric-rates.js";

/** One kept sample. */
export interface KeptSample {
  /** When it was taken, in ms since the epoch. */
  timeMs: number;
  /** Its value. */
  value: number;
}

/** One kept series. */
export interface KeptSeries {
  /** Which figure. */
  metric: SeriesMetric;
  /** Whose. */
  subject: string;
  /** Its samples, oldest first. */
  samples: KeptSample[];
}

/** Samples the assembly's metrics on a timer and keeps a ring per series. */
export class MetricSampler {
  readonly #series = new Map<string, { metric: SeriesMetric; subject: string; ring: RingBuffer<KeptSample> }>();
  #previous: { totals: ScrapeTotals; timeMs: number } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  /**
   * scrape returns the assembly's metrics as Prometheus text; intervalMs is
   * the time between scrapes, capacity the samples kept per series.
   */
  constructor(
    private readonly scrape: () => Promise<string>,
    readonly intervalMs: number,
    readonly capacity: number,
    private readonly logger?: Logger,
  ) {}

  /** Takes one sample now, at nowMs: scrapes, computes the points, keeps them, forgets series silent for a whole history. */
  async sample(nowMs = Date.now()): Promise<void> {
    const totals = totalsOf(parsePrometheusSamples(await this.scrape()));
    const elapsed = this.#previous === undefined ? 0 : nowMs - this.#previous.timeMs;
    for (const point of ratesBetween(this.#previous?.totals, totals, elapsed)) {
      const key = `${point.metric}/${point.subject}`;
      let series = this.#series.get(key);
      if (series === undefined) {
        series = { metric: point.metric, subject: point.subject, ring: new RingBuffer(this.capacity) };
        this.#series.set(key, series);
      }
      series.ring.push({ timeMs: nowMs, value: point.value });
    }
    this.#previous = { totals, timeMs: nowMs };
    const horizon = nowMs - this.capacity * this.intervalMs;
    for (const [key, series] of this.#series) if ((series.ring.newest()?.timeMs ?? 0) < horizon) this.#series.delete(key);
  }

  /** Every series, ordered by metric then subject, with its newest `limit` samples (0: all kept). */
  series(limit = 0): KeptSeries[] {
    return [...this.#series.values()]
      .sort((a, b) => a.metric - b.metric || (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0))
      .map(({ metric, subject, ring }) => ({ metric, subject, samples: ring.toArray(limit) }));
  }

  /** Samples every interval from now on; a failed scrape is logged and skipped (the charts show a gap). */
  start(): void {
    const tick = (): void => {
      this.#running = this.sample().catch((error: unknown) => {
        this.logger?.warn({ err: error }, "sampling the assembly's metrics failed; trying again next interval");
      });
      void this.#running.finally(() => {
        if (this.#timer !== undefined) this.#timer = setTimeout(tick, this.intervalMs);
      });
    };
    this.#timer = setTimeout(tick, 0);
  }

  /** Stops sampling and waits for a scrape under way. */
  async stop(): Promise<void> {
    const timer = this.#timer;
    this.#timer = undefined;
    clearTimeout(timer);
    await this.#running;
  }
}
