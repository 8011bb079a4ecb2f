import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SeriesMetric } from "@moby-core/dashboard-api/v1";
import { increase, ratesBetween, totalsOf } from "./metric-rates.js";
import { parsePrometheusSamples } from "./prometheus-samples.js";

const scrape = (...lines: string[]) => totalsOf(parsePrometheusSamples(lines.join("\n")));

describe("metric rates", () => {
  it("sums calls and failures per component, and reads containers and events", () => {
    const totals = scrape(
      'grpc_server_handled_total{grpc_code="OK",grpc_method="A",component="store"} 10',
      'grpc_server_handled_total{grpc_code="NotFound",grpc_method="A",component="store"} 2',
      'grpc_server_handled_total{grpc_code="OK",grpc_method="B",component="store"} 5',
      'container_cpu_total_nanoseconds{container_id="c1",component="container-runtime"} 1000000000',
      'container_memory_usage_usage_bytes{container_id="c1",component="container-runtime"} 4096',
      'moby_events_published_total{component="events"} 7',
    );
    assert.deepEqual(totals.calls.get("store"), { calls: 17, errors: 2 });
    assert.equal(totals.cpuNs.get("c1"), 1e9);
    assert.equal(totals.memoryBytes.get("c1"), 4096);
    assert.equal(totals.eventsPublished, 7);
  });

  it("turns two scrapes into per-second rates and an error ratio", () => {
    const before = scrape(
      'grpc_server_handled_total{grpc_code="OK",component="store"} 10',
      'grpc_server_handled_total{grpc_code="Internal",component="store"} 0',
      'container_cpu_total_nanoseconds{container_id="c1"} 1000000000',
      "moby_events_published_total 7",
    );
    const now = scrape(
      'grpc_server_handled_total{grpc_code="OK",component="store"} 16',
      'grpc_server_handled_total{grpc_code="Internal",component="store"} 2',
      'container_cpu_total_nanoseconds{container_id="c1"} 2000000000',
      'container_memory_usage_usage_bytes{container_id="c1"} 100',
      "moby_events_published_total 11",
    );
    assert.deepEqual(ratesBetween(before, now, 2000), [
      { metric: SeriesMetric.CONTAINER_MEMORY_BYTES, subject: "c1", value: 100 },
      { metric: SeriesMetric.CALLS_PER_SECOND, subject: "store", value: 4 },
      { metric: SeriesMetric.ERROR_RATIO, subject: "store", value: 0.25 },
      { metric: SeriesMetric.CONTAINER_CPU_CORES, subject: "c1", value: 0.5 },
      { metric: SeriesMetric.EVENTS_PER_SECOND, subject: "events", value: 2 },
    ]);
  });

  it("gives only the gauges for a first scrape, and an error ratio of 0 without calls", () => {
    const now = scrape('grpc_server_handled_total{grpc_code="OK",component="a"} 3', 'container_memory_usage_usage_bytes{container_id="c"} 9');
    assert.deepEqual(ratesBetween(undefined, now, 0), [{ metric: SeriesMetric.CONTAINER_MEMORY_BYTES, subject: "c", value: 9 }]);
    const idle = ratesBetween(now, now, 1000).filter((p) => p.subject === "a");
    assert.deepEqual(idle.map((p) => p.value), [0, 0]);
  });

  it("counts a reset counter's whole new value as its increase (a restarted component)", () => {
    assert.equal(increase(100, 30), 30);
    assert.equal(increase(undefined, 30), 30);
    assert.equal(increase(10, 30), 20);
    const before = scrape('grpc_server_handled_total{grpc_code="OK",component="a"} 100', 'grpc_server_handled_total{grpc_code="Unknown",component="a"} 50');
    const after = scrape('grpc_server_handled_total{grpc_code="OK",component="a"} 3', 'grpc_server_handled_total{grpc_code="Unknown",component="a"} 1');
    assert.deepEqual(ratesBetween(before, after, 1000).map((p) => p.value), [4, 0.25]);
  });

  it("leaves out the CPU of a container first seen in this scrape", () => {
    const now = scrape('container_cpu_total_nanoseconds{container_id="new"} 5000000000');
    assert.deepEqual(ratesBetween(scrape(), now, 1000), []);
  });
});
