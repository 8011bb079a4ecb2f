import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ExpositionMerger } from "./exposition-merge.js";

const A = `# HELP jobs_total Jobs done.
# TYPE jobs_total counter
jobs_total{kind="x"} 3
jobs_total 1
# A comment, dropped.
# HELP latency_seconds Time taken.
# TYPE latency_seconds histogram
latency_seconds_bucket{le="1"} 1
latency_seconds_bucket{le="+Inf"} 2
latency_seconds_sum 2.5
latency_seconds_count 2
`;

const B = `# HELP jobs_total Jobs finished (worded differently).
# TYPE jobs_total counter
jobs_total{component="inner",path="a \\"quoted\\", {braced} \\\\ value"} 7 1700000000000
loose_metric 4
`;

describe("ExpositionMerger", () => {
  it("labels every sample with its component and writes each family's HELP and TYPE once", () => {
    const merger = new ExpositionMerger();
    merger.add("alpha", A);
    merger.add("beta", B);
    assert.equal(
      merger.text(),
      [
        "# HELP jobs_total Jobs done.",
        "# TYPE jobs_total counter",
        'jobs_total{component="alpha",kind="x"} 3',
        'jobs_total{component="alpha"} 1',
        'jobs_total{component="beta",exported_component="inner",path="a \\"quoted\\", {braced} \\\\ value"} 7 1700000000000',
        "# HELP latency_seconds Time taken.",
        "# TYPE latency_seconds histogram",
        'latency_seconds_bucket{component="alpha",le="1"} 1',
        'latency_seconds_bucket{component="alpha",le="+Inf"} 2',
        'latency_seconds_sum{component="alpha"} 2.5',
        'latency_seconds_count{component="alpha"} 2',
        'loose_metric{component="beta"} 4',
        "",
      ].join("\n"),
    );
  });

  it("adds nothing of a component whose text does not parse, naming the line", () => {
    const merger = new ExpositionMerger();
    merger.add("alpha", A);
    assert.throws(() => merger.add("bad", `# TYPE ok_total counter\nok_total 1\nbroken{kind="x} 1\n`), /line 3: the value of label kind is not closed/);
    assert.throws(() => merger.add("bad", "no_value{a=\"b\"}\n"), /line 1: sample no_value has no value/);
    assert.throws(() => merger.add("bad", "9starts_with_digit 1\n"), /is not a metric name/);
    assert.throws(() => merger.add("bad", "# TYPE jobs_total gauge\njobs_total 1\n"), /line 1: jobs_total is a gauge here but a counter in an earlier component/);
    assert.ok(!merger.text().includes("bad"), "nothing of the refused component is kept");
    assert.ok(!merger.text().includes("ok_total"));
  });
});
