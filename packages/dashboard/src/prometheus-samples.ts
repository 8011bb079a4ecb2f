/**
 * The samples of a Prometheus text exposition (format 0.0.4), as init's
 * GetAssemblyMetrics returns it: one sample per line,
 * `name{label="value",...} value [timestamp]`; comments (HELP, TYPE) and
 * blank lines carry no sample.
 */

/** One sample line. */
export interface PromSample {
  /** The metric name, for example grpc_server_handled_total. */
  name: string;
  /** The labels, unescaped. */
  labels: Record<string, string>;
  /** The value (NaN and ±Inf as in the text). */
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** Parses the value text of a sample: a float, NaN, +Inf or -Inf. */
function parseValue(text: string, line: number): number {
  if (text === "NaN") return Number.NaN;
  if (text === "+Inf" || text === "Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  const value = Number(text);
  if (text === "" || Number.isNaN(value)) throw new Error(`metrics line ${line}: ${JSON.stringify(text)} is not a sample value`);
  return value;
}

/** Reads `{a="x",b="y"}` from the start of rest; returns the labels and what follows the "}". */
function parseLabels(rest: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let at = 1;
  for (;;) {
    while (rest[at] === " " || rest[at] === ",") at++;
    if (rest[at] === "}") return { labels, rest: rest.slice(at + 1) };
    const name = LABEL_NAME.exec(rest.slice(at))?.[0];
    if (name === undefined || rest[at + name.length] !== "=" || rest[at + name.length + 1] !== '"') {
      throw new Error(`metrics line ${line}: a label is not name="value"`);
    }
    at += name.length + 2;
    let value = "";
    for (;;) {
      const c = rest[at];
      if (c === undefined) throw new Error(`metrics line ${line}: the value of label ${name} is not closed`);
      at++;
      if (c === '"') break;
      if (c === "\\") {
        const next = rest[at++];
        value += next === "n" ? "\n" : (next ?? "");
      } else value += c;
    }
    labels[name] = value;
  }
}

/** Every sample of text, in order; throws naming the line for a line that is not a sample. */
export function parsePrometheusSamples(text: string): PromSample[] {
  const samples: PromSample[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const name = NAME.exec(line)?.[0];
    if (name === undefined) throw new Error(`metrics line ${i + 1}: no metric name`);
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith("{")) ({ labels, rest } = parseLabels(rest, i + 1));
    const [value = ""] = rest.trim().split(/\s+/);
    samples.push({ name, labels, value: parseValue(value, i + 1) });
  }
  return samples;
}
