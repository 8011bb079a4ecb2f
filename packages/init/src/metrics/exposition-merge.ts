/**
 * Merges the Prometheus text of several components into one exposition,
 * as a Prometheus server relabels what it scrapes from several targets:
 * every sample gets a `component` label naming where it came from (a
 * `component` label a component set itself is kept as
 * `exported_component`, as Prometheus does with honor_labels off), and each
 * metric family appears once, with one HELP and one TYPE line (the first
 * seen) followed by the samples of every component.
 *
 * The text format (version 0.0.4) is read line by line: "# HELP name doc",
 * "# TYPE name type", other "#" comments, and samples
 * `name{label="value",...} value [timestamp]`, whose label values are
 * quoted strings with \\, \" and \n escapes.
 */

/** A metric family of the merged exposition. */
interface Family {
  help: string | undefined;
  type: string | undefined;
  samples: string[];
}

/** The suffixes of the sample names of a family of a type, besides its own name. */
const SUFFIXES: Record<string, readonly string[]> = {
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["_sum", "_count"],
};

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

/** The families of several components' expositions, merged. */
export class ExpositionMerger {
  readonly #families = new Map<string, Family>();

  /**
   * Adds the exposition of component, each sample labelled with it. All or
   * nothing: a line that does not parse, or a family whose TYPE differs from
   * what another component declared, throws naming it and adds nothing.
   */
  add(component: string, text: string): void {
    const staged = new Map<string, Family>();
    const familyOf = (name: string): Family => {
      let family = staged.get(name);
      if (family === undefined) {
        const known = this.#families.get(name);
        family = { help: known?.help, type: known?.type, samples: [] };
        staged.set(name, family);
      }
      return family;
    };
    const label = `component="${escapeLabelValue(component)}"`;
    let current: string | undefined;
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.trim() === "") continue;
      const where = `line ${i + 1}`;
      if (line.startsWith("#")) {
        const meta = /^#\s*(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
        if (meta === null) continue; // a comment
        const [, keyword, name, rest = ""] = meta;
        if (!METRIC_NAME.test(name!)) throw new Error(`${where}: ${JSON.stringify(name)} is not a metric name`);
        const family = familyOf(name!);
        current = name;
        if (keyword === "HELP") {
          family.help ??= rest;
          continue;
        }
        const type = rest.trim();
        if (!TYPES.has(type)) throw new Error(`${where}: ${JSON.stringify(type)} is not a metric type`);
        if (family.type !== undefined && family.type !== type) {
          throw new Error(`${where}: ${name} is a ${type} here but a ${family.type} in an earlier component`);
        }
        family.type = type;
        continue;
      }
      const sample = relabel(line, label, where);
      const owner = current !== undefined && belongsTo(sample.name, current, staged.get(current)?.type) ? current : sample.name;
      if (owner !== current) current = undefined;
      familyOf(owner).samples.push(sample.line);
    }
    for (const [name, family] of staged) {
      const known = this.#families.get(name);
      if (known === undefined) this.#families.set(name, family);
      else {
        known.help ??= family.help;
        known.type ??= family.type;
        known.samples.push(...family.samples);
      }
    }
  }

  /** The merged exposition in the text format, families in the order first seen. */
  text(): string {
    const out: string[] = [];
    for (const [name, family] of this.#families) {
      if (family.help !== undefined) out.push(`# HELP ${name} ${family.help}`);
      if (family.type !== undefined) out.push(`# TYPE ${name} ${family.type}`);
      out.push(...family.samples);
    }
    return out.length === 0 ? "" : `${out.join("\n")}\n`;
  }
}

/** Tells whether a sample name is one of the family's: its name, or its name with the suffixes of its type. */
function belongsTo(sampleName: string, family: string, type: string | undefined): boolean {
  if (sampleName === family) return true;
  const suffixes = SUFFIXES[type ?? ""] ?? [];
  return suffixes.some((suffix) => sampleName === family + suffix);
}

/** A sample line with label added first to its label set, and a component label of its own renamed exported_component. */
function relabel(line: string, label: string, where: string): { name: string; line: string } {
  let end = 0;
  while (end < line.length && line[end] !== "{" && line[end] !== " " && line[end] !== "\t") end++;
  const name = line.slice(0, end);
  if (!METRIC_NAME.test(name)) throw new Error(`${where}: ${JSON.stringify(name)} is not a metric name`);
  if (line[end] !== "{") {
    const rest = line.slice(end).trim();
    if (rest === "") throw new Error(`${where}: sample ${name} has no value`);
    return { name, line: `${name}{${label}} ${rest}` };
  }
  const labels: string[] = [];
  let at = end + 1;
  for (;;) {
    while (line[at] === " " || line[at] === "\t") at++;
    if (line[at] === "}") break;
    const nameStart = at;
    while (at < line.length && line[at] !== "=" && line[at] !== " " && line[at] !== "}") at++;
    let labelName = line.slice(nameStart, at);
    if (!LABEL_NAME.test(labelName)) throw new Error(`${where}: ${JSON.stringify(labelName)} is not a label name`);
    while (line[at] === " ") at++;
    if (line[at] !== "=" || line[at + 1] !== '"') throw new Error(`${where}: label ${labelName} has no quoted value`);
    const valueStart = at + 1;
    at += 2;
    while (at < line.length && line[at] !== '"') at += line[at] === "\\" ? 2 : 1;
    if (at >= line.length) throw new Error(`${where}: the value of label ${labelName} is not closed`);
    at++;
    if (labelName === "component") labelName = "exported_component";
    labels.push(`${labelName}=${line.slice(valueStart, at)}`);
    while (line[at] === " ") at++;
    if (line[at] === ",") at++;
    else if (line[at] !== "}") throw new Error(`${where}: expected "," or "}" after label ${labelName}`);
  }
  const rest = line.slice(at + 1).trim();
  if (rest === "") throw new Error(`${where}: sample ${name} has no value`);
  return { name, line: `${name}{${[label, ...labels].join(",")}} ${rest}` };
}

/** A label value escaped for the text format. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
