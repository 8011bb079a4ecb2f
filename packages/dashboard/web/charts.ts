/**
 * The charts over time, drawn with uPlot: one chart per figure (calls per
 * second and error ratio per component, CPU and memory per container, the
 * event rate), one line per component or container. Every series is sampled
 * at the same instants, so their times are aligned into one x axis; a series
 * missing at an instant has a gap there.
 */
import uPlot from "uplot";
import { SeriesMetric } from "@moby-core/dashboard-api/v1";
import type { Series } from "@moby-core/dashboard-api/v1";

/** The charts, in order: the figure, its title and how a value reads. */
const CHARTS: { metric: SeriesMetric; title: string; format: (value: number) => string }[] = [
  { metric: SeriesMetric.CALLS_PER_SECOND, title: "calls/s per component", format: (v) => v.toFixed(1) },
  { metric: SeriesMetric.ERROR_RATIO, title: "error ratio per component", format: (v) => `${(v * 100).toFixed(0)}%` },
  { metric: SeriesMetric.CONTAINER_CPU_CORES, title: "container CPU (cores)", format: (v) => v.toFixed(2) },
  { metric: SeriesMetric.CONTAINER_MEMORY_BYTES, title: "container memory", format: (v) => `${(v / 1048576).toFixed(1)} MiB` },
  { metric: SeriesMetric.EVENTS_PER_SECOND, title: "events/s", format: (v) => v.toFixed(1) },
];

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];

/** Aligned data of series: one x axis (seconds) and one y array per series, null where a series has no sample. */
export function alignSeries(series: readonly Series[]): uPlot.AlignedData {
  const times = [...new Set(series.flatMap((s) => s.samples.map((p) => Number(p.timeMs))))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const ys = series.map((s) => {
    const y: (number | null)[] = new Array<number | null>(times.length).fill(null);
    for (const p of s.samples) y[index.get(Number(p.timeMs))!] = p.value;
    return y;
  });
  return [times.map((t) => t / 1000), ...ys];
}

/** One chart: its uPlot, rebuilt when its set of lines changes. */
class Chart {
  #plot: uPlot | undefined;
  #subjects = "";
  readonly element: HTMLElement;

  constructor(
    readonly title: string,
    readonly format: (value: number) => string,
  ) {
    this.element = document.createElement("figure");
    this.element.className = "chart";
  }

  update(series: readonly Series[]): void {
    const subjects = series.map((s) => s.subject).join("\n");
    const data = alignSeries(series);
    if (this.#plot !== undefined && subjects === this.#subjects) {
      this.#plot.setData(data);
      return;
    }
    this.#plot?.destroy();
    this.#subjects = subjects;
    this.element.dataset.lines = String(series.length);
    this.#plot = new uPlot(
      {
        title: this.title,
        width: 440,
        height: 200,
        series: [{}, ...series.map((s, i) => ({ label: s.subject.slice(0, 20), stroke: COLORS[i % COLORS.length]!, width: 1.5, value: (_: uPlot, v: number | null) => (v === null ? "-" : this.format(v)) }))],
        axes: [{}, { values: (_: uPlot, ticks: number[]) => ticks.map(this.format), size: 70 }],
        scales: { x: { time: true } },
      },
      data,
      this.element,
    );
  }
}

/** The charts in container: update() redraws them from the server's series. */
export class Charts {
  readonly #charts = new Map<SeriesMetric, Chart>();

  constructor(container: HTMLElement) {
    for (const { metric, title, format } of CHARTS) {
      const chart = new Chart(title, format);
      chart.element.dataset.metric = SeriesMetric[metric]!.toLowerCase();
      container.append(chart.element);
      this.#charts.set(metric, chart);
    }
  }

  /** Redraws every chart with its series (a chart without any shows an empty plot). */
  update(series: readonly Series[]): void {
    for (const [metric, chart] of this.#charts) chart.update(series.filter((s) => s.metric === metric));
  }
}
