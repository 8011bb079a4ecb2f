import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ComponentService } from "@moby-core/component-api/v1";
import { Health } from "@moby-core/grpc-health-api/v1";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { GrpcServerMetrics } from "./grpc-server-metrics.js";

describe("GrpcServerMetrics", () => {
  it("writes go-grpc-prometheus' labels and a cumulative handling-time histogram", () => {
    const metrics = new GrpcServerMetrics();
    const stats = metrics.method(Health.typeName, Health.method.watch);
    stats.started += 4;
    stats.ended(0, 0.001);
    stats.ended(0, 0.2);
    stats.ended(1, 3);
    stats.ended(14, 60);
    const families = parsePrometheusTextFormat(metrics.exposition()) as { name: string; type: string; metrics: Record<string, unknown>[] }[];
    const byName = new Map(families.map((f) => [f.name, f]));
    assert.deepEqual(byName.get("grpc_server_started_total")?.metrics, [
      { labels: { grpc_method: "Watch", grpc_service: "grpc.health.v1.Health", grpc_type: "server_stream" }, value: "4" },
    ]);
    const handled = byName.get("grpc_server_handled_total")!.metrics.map((m) => [(m.labels as Record<string, string>).grpc_code, m.value]);
    assert.deepEqual(handled, [
      ["OK", "2"],
      ["Canceled", "1"],
      ["Unavailable", "1"],
    ]);
    assert.equal(byName.get("grpc_server_handling_seconds")?.type, "HISTOGRAM");
    // The parser above folds labelled histograms together: their lines are checked as written.
    const labels = 'grpc_method="Watch",grpc_service="grpc.health.v1.Health",grpc_type="server_stream"';
    const lines = metrics.exposition().split("\n").filter((line) => line.startsWith("grpc_server_handling_seconds_"));
    const cumulative = [["0.005", 1], ["0.01", 1], ["0.025", 1], ["0.05", 1], ["0.1", 1], ["0.25", 2], ["0.5", 2], ["1", 2], ["2.5", 2], ["5", 3], ["10", 3], ["+Inf", 4]] as const;
    assert.deepEqual(lines, [
      ...cumulative.map(([le, count]) => `grpc_server_handling_seconds_bucket{${labels},le="${le}"} ${count}`),
      `grpc_server_handling_seconds_sum{${labels}} ${0.001 + 0.2 + 3 + 60}`,
      `grpc_server_handling_seconds_count{${labels}} 4`,
    ]);
  });

  it("lists every method from the start, before any call", () => {
    const metrics = new GrpcServerMetrics();
    for (const method of ComponentService.methods) metrics.method(ComponentService.typeName, method);
    const text = metrics.exposition();
    for (const method of ComponentService.methods) {
      assert.ok(text.includes(`grpc_server_started_total{grpc_method="${method.name}",grpc_service="moby.component.v1.ComponentService",grpc_type="unary"} 0`));
    }
    assert.ok(!text.includes("grpc_server_handled_total{"), "no code is listed before a call ends with it");
    assert.ok(!text.includes("grpc_server_handling_seconds_bucket{"), "no histogram is listed before a call ends");
    assert.ok(text.includes("# TYPE grpc_server_handling_seconds histogram"), "the family is declared all the same");
  });
});
