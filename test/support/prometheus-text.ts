/**
 * Reading Prometheus text the way Prometheus does: promtool (Debian's
 * prometheus package) checks it with Prometheus' own parser and linter, and
 * parse-prometheus-text-format turns it into families and samples for
 * assertions on values.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import parsePrometheusTextFormat from "parse-prometheus-text-format";

/** One sample of a parsed family: a counter's or gauge's value, or a histogram's buckets, count and sum. */
export interface ParsedSample {
  labels?: Record<string, string>;
  value?: string;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

/** One parsed metric family. */
export interface ParsedFamily {
  name: string;
  help: string;
  type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
  metrics: ParsedSample[];
}

/**
 * Checks text with `promtool check metrics`: a parse error (a second HELP
 * or TYPE line for a family, a bad label, a sample out of its family) fails;
 * the linter's style notes are returned, for the caller to judge.
 */
export function promtoolCheck(text: string): string[] {
  const result = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  assert.equal(result.error, undefined, `promtool did not run (apt-get install prometheus): ${String(result.error)}`);
  const output = `${result.stdout}${result.stderr}`;
  assert.ok(!/error while linting|text format parsing error/i.test(output), `promtool cannot parse the exposition:\n${output}`);
  assert.ok(result.status === 0 || result.status === 3, `promtool exited ${String(result.status)}:\n${output}`);
  return output.split("\n").filter((line) => line.trim() !== "");
}

/** Parses text into families by name. */
export function parseExposition(text: string): Map<string, ParsedFamily> {
  const families = parsePrometheusTextFormat(text) as ParsedFamily[];
  return new Map(families.map((family) => [family.name, family]));
}

/** The value of the sample of family whose labels include labels, as a number; undefined when there is none. */
export function sampleValue(families: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const sample = families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (sample === undefined) return undefined;
  return Number(sample.value ?? sample.count);
}
