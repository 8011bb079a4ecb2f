import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SeriesMetric } from "@moby-core/dashboard-api/v1";
import { MetricSampler } from "./metric-sampler.js";

/** Scrapes that return the given texts in turn, as init's GetAssemblyMetrics would over time. */
function scrapes(...texts: string[]): () => Promise<string> {
  let next = 0;
  return () => Promise.resolve(texts[Math.min(next++, texts.length - 1)]!);
}

const calls = (n: number, component = "store") => `grpc_server_handled_total{grpc_code="OK",component="${component}"} ${n}\n`;

describe("MetricSampler", () => {
  it("keeps the newest samples of each series, oldest first, at the times they were taken", async () => {
    const sampler = new MetricSampler(scrapes(calls(0), calls(10), calls(30), calls(60)), 1000, 2);
    for (const t of [1000, 2000, 3000, 4000]) await sampler.sample(t);
    const [rate, errors] = sampler.series();
    assert.equal(rate?.metric, SeriesMetric.CALLS_PER_SECOND);
    assert.deepEqual(rate?.samples, [
      { timeMs: 3000, value: 20 },
      { timeMs: 4000, value: 30 },
    ]);
    assert.equal(errors?.metric, SeriesMetric.ERROR_RATIO);
    assert.deepEqual(sampler.series(1)[0]?.samples, [{ timeMs: 4000, value: 30 }]);
  });

  it("forgets a series that had no sample for a whole history (a removed container)", async () => {
    const sampler = new MetricSampler(scrapes('container_memory_usage_usage_bytes{container_id="c"} 5\n', ""), 1000, 3);
    await sampler.sample(1000);
    assert.deepEqual(sampler.series().map((s) => s.subject), ["c"]);
    await sampler.sample(2000);
    assert.deepEqual(sampler.series().map((s) => s.subject), ["c"]);
    await sampler.sample(5000);
    assert.deepEqual(sampler.series(), []);
  });

  it("fails a sample whose text does not parse, keeping what it had", async () => {
    const sampler = new MetricSampler(scrapes(calls(1), "not a sample line"), 1000, 3);
    await sampler.sample(1000);
    await assert.rejects(sampler.sample(2000), /metrics line 1/);
    assert.deepEqual(sampler.series(), []);
  });
});
