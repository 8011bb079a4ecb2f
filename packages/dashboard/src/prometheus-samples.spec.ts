import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePrometheusSamples } from "./prometheus-samples.js";

describe("parsePrometheusSamples", () => {
  it("reads names, unescaped labels and values, skipping comments and blank lines", () => {
    const text = [
      "# HELP grpc_server_handled_total Total number of RPCs completed.",
      "# TYPE grpc_server_handled_total counter",
      'grpc_server_handled_total{grpc_code="OK",grpc_method="Get",component="events"} 12',
      "",
      'odd{a="x\\"y\\\\z\\n",b="",} 1.5e3 1712345678000',
      "up 1",
      "gauge_nan NaN",
      "gauge_inf +Inf",
    ].join("\n");
    assert.deepEqual(parsePrometheusSamples(text), [
      { name: "grpc_server_handled_total", labels: { grpc_code: "OK", grpc_method: "Get", component: "events" }, value: 12 },
      { name: "odd", labels: { a: 'x"y\\z\n', b: "" }, value: 1500 },
      { name: "up", labels: {}, value: 1 },
      { name: "gauge_nan", labels: {}, value: Number.NaN },
      { name: "gauge_inf", labels: {}, value: Number.POSITIVE_INFINITY },
    ]);
  });

  it("names the line that is not a sample", () => {
    assert.throws(() => parsePrometheusSamples("up 1\n{x} 2"), /metrics line 2: no metric name/);
    assert.throws(() => parsePrometheusSamples('a{b="c} 1'), /metrics line 1: the value of label b is not closed/);
    assert.throws(() => parsePrometheusSamples("a{b=c} 1"), /metrics line 1: a label is not name="value"/);
    assert.throws(() => parsePrometheusSamples("a one"), /metrics line 1: "one" is not a sample value/);
  });
});
