/**
 * The subset of Go's text/template that docker's `--format` users write:
 * actions `{{.Field.Sub}}` and `{{.}}`, function calls and pipelines
 * (`{{json .}}`, `{{join .Names ", "}}`, `{{.Image | upper}}`), string and
 * number literals, `{{if}}`/`{{else}}`/`{{end}}`, `{{range}}`/`{{end}}`,
 * comparisons and logic as functions (eq, ne, not, and, or),
 * `{{-` / `-}}` trimming, and docker's own rules: `\t` and `\n` written
 * as two characters mean a tab and a newline, and a `table ` prefix prints
 * a header row and aligns the tab-separated columns.
 *
 * Values print as Go prints them: a list as [a b], a map as map[k:v], a
 * missing value as <no value>. A bad template is a TemplateError naming the
 * column where it went wrong; a field an object does not have is one too,
 * naming the fields it has.
 */

/** A template that failed to parse or to run; message names the column (1-based) of the fault. */
export class TemplateError extends Error {
  constructor(
    /** The column in the template text (after the table prefix), 1-based. */
    readonly column: number,
    /** What was wrong there. */
    readonly reason: string,
  ) {
    super(`template: at column ${column}: ${reason}`);
    this.name = "TemplateError";
  }
}

/** A value a template reads: what JSON can hold. */
export type TemplateValue = string | number | boolean | null | undefined | readonly TemplateValue[] | { readonly [key: string]: TemplateValue };

type Argument =
  | { kind: "field"; path: string[]; column: number }
  | { kind: "string"; value: string; column: number }
  | { kind: "number"; value: number; column: number };

interface Command {
  /** The function called, or undefined when the command is one argument (a field or literal). */
  name?: string;
  args: Argument[];
  column: number;
}

type Node =
  | { kind: "text"; text: string }
  | { kind: "action"; pipeline: Command[]; column: number }
  | { kind: "if"; pipeline: Command[]; column: number; then: Node[]; otherwise: Node[] }
  | { kind: "range"; pipeline: Command[]; column: number; body: Node[]; otherwise: Node[] };

/** The functions a template may call: docker's formatter functions. */
const FUNCTIONS: Record<string, { arity: [number, number]; call: (column: number, ...args: TemplateValue[]) => TemplateValue }> = {
  json: { arity: [1, 1], call: (_c, value) => JSON.stringify(value ?? null) },
  join: {
    arity: [2, 2],
    call: (column, list, separator) => {
      if (!Array.isArray(list)) throw new TemplateError(column, `join: the first argument is ${describe(list)}, not a list`);
      return (list as TemplateValue[]).map(printValue).join(printValue(separator));
    },
  },
  split: { arity: [2, 2], call: (_c, text, separator) => printValue(text).split(printValue(separator)) },
  upper: { arity: [1, 1], call: (_c, text) => printValue(text).toUpperCase() },
  lower: { arity: [1, 1], call: (_c, text) => printValue(text).toLowerCase() },
  title: { arity: [1, 1], call: (_c, text) => printValue(text).replace(/\b\w/g, (letter) => letter.toUpperCase()) },
  truncate: {
    arity: [2, 2],
    call: (column, text, length) => {
      if (typeof length !== "number") throw new TemplateError(column, `truncate: the length is ${describe(length)}, not a number`);
      return [...printValue(text)].slice(0, length).join("");
    },
  },
  len: {
    arity: [1, 1],
    call: (column, value) => {
      if (typeof value === "string" || Array.isArray(value)) return value.length;
      if (value !== null && typeof value === "object") return Object.keys(value).length;
      throw new TemplateError(column, `len: ${describe(value)} has no length`);
    },
  },
  println: { arity: [0, 99], call: (_c, ...values) => `${values.map(printValue).join(" ")}\n` },
  eq: { arity: [2, 99], call: (column, first, ...others) => others.some((other) => comparable(column, first) === comparable(column, other)) },
  ne: { arity: [2, 2], call: (column, first, second) => comparable(column, first) !== comparable(column, second) },
  not: { arity: [1, 1], call: (_c, value) => !truthy(value) },
  and: { arity: [2, 99], call: (_c, ...values) => values.find((value) => !truthy(value)) ?? values[values.length - 1] },
  or: { arity: [2, 99], call: (_c, ...values) => values.find((value) => truthy(value)) ?? values[values.length - 1] },
};

/** A value eq and ne compare: a string, number, boolean or null; a TemplateError for a list or map, as Go's. */
function comparable(column: number, value: TemplateValue): string | number | boolean | null | undefined {
  if (value !== null && typeof value === "object") throw new TemplateError(column, `cannot compare ${describe(value)}: eq and ne take strings, numbers and booleans`);
  return value;
}

/** How a value is called in an error message. */
function describe(value: TemplateValue): string {
  if (value === undefined) return "<no value>";
  if (Array.isArray(value)) return "a list";
  if (value === null) return "null";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}

/** A value printed the way Go's fmt prints it in a template. */
export function printValue(value: TemplateValue): string {
  if (value === undefined) return "<no value>";
  if (value === null) return "<nil>";
  if (Array.isArray(value)) return `[${(value as TemplateValue[]).map(printValue).join(" ")}]`;
  if (typeof value === "object") {
    const record = value as { readonly [key: string]: TemplateValue };
    return `map[${Object.keys(record)
      .sort()
      .map((key) => `${key}:${printValue(record[key])}`)
      .join(" ")}]`;
  }
  return String(value);
}

/** Go's truth: false, 0, "", an empty list or map and a missing value are false. */
function truthy(value: TemplateValue): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.keys(value).length > 0;
  return true;
}

/** Reads the words of one action: fields, literals, function names and pipes. */
function lexAction(source: string, start: number): { words: (Argument | { kind: "name"; name: string; column: number } | { kind: "pipe"; column: number })[] } {
  const words: (Argument | { kind: "name"; name: string; column: number } | { kind: "pipe"; column: number })[] = [];
  let at = 0;
  while (at < source.length) {
    const char = source[at]!;
    const column = start + at + 1;
    if (/\s/.test(char)) {
      at++;
    } else if (char === "|") {
      words.push({ kind: "pipe", column });
      at++;
    } else if (char === ".") {
      const match = /^\.((?:[A-Za-z_][A-Za-z0-9_]*)(?:\.[A-Za-z_][A-Za-z0-9_]*)*)?/.exec(source.slice(at))!;
      const path = match[1] === undefined ? [] : match[1].split(".");
      const next = source[at + match[0].length];
      if (next !== undefined && !/[\s|)]/.test(next)) throw new TemplateError(start + at + match[0].length + 1, `unexpected ${JSON.stringify(next)} in a field name`);
      words.push({ kind: "field", path, column });
      at += match[0].length;
    } else if (char === '"' || char === "`") {
      const end = char === "`" ? source.indexOf("`", at + 1) : findQuoteEnd(source, at + 1);
      if (end < 0) throw new TemplateError(column, "unterminated string");
      const raw = source.slice(at, end + 1);
      let value: string;
      try {
        value = char === "`" ? raw.slice(1, -1) : (JSON.parse(raw) as string);
      } catch {
        throw new TemplateError(column, `bad string ${raw}`);
      }
      words.push({ kind: "string", value, column });
      at = end + 1;
    } else if (/[-0-9]/.test(char)) {
      const match = /^-?\d+(\.\d+)?/.exec(source.slice(at));
      if (match === null) throw new TemplateError(column, `unexpected ${JSON.stringify(char)}`);
      words.push({ kind: "number", value: Number(match[0]), column });
      at += match[0].length;
    } else if (/[A-Za-z_]/.test(char)) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(at))![0];
      words.push({ kind: "name", name, column });
      at += name.length;
    } else {
      throw new TemplateError(column, `unexpected ${JSON.stringify(char)} in an action (variables, parentheses and comparisons are not supported)`);
    }
  }
  return { words };
}

/** Where the double-quoted string opened before from ends (the index of its closing quote), or -1. */
function findQuoteEnd(source: string, from: number): number {
  for (let at = from; at < source.length; at++) {
    if (source[at] === "\\") at++;
    else if (source[at] === '"') return at;
  }
  return -1;
}

/** The pipeline of an action's words: commands separated by |. */
function parsePipeline(source: string, start: number, column: number): Command[] {
  const { words } = lexAction(source, start);
  if (words.length === 0) throw new TemplateError(column, "empty action: give a field such as .ID or a function such as json");
  const commands: Command[] = [];
  let current: Command | undefined;
  for (const word of words) {
    if (word.kind === "pipe") {
      if (current === undefined) throw new TemplateError(word.column, "a | with nothing before it");
      commands.push(current);
      current = undefined;
    } else if (word.kind === "name") {
      if (current !== undefined) throw new TemplateError(word.column, `${word.name} after an argument: a function comes first in a command`);
      if (FUNCTIONS[word.name] === undefined) {
        throw new TemplateError(word.column, `function ${JSON.stringify(word.name)} is not defined (known: ${Object.keys(FUNCTIONS).join(", ")})`);
      }
      current = { name: word.name, args: [], column: word.column };
    } else if (current === undefined) {
      current = { args: [word], column: word.column };
    } else {
      if (current.name === undefined) throw new TemplateError(word.column, "two values without a function: use a function such as join, or |");
      current.args.push(word);
    }
  }
  if (current === undefined) throw new TemplateError(words[words.length - 1]!.column, "a | with nothing after it");
  commands.push(current);
  commands.forEach((command, index) => {
    if (command.name === undefined) {
      if (index > 0) throw new TemplateError(command.column, "after | comes a function, not a value");
      return;
    }
    const given = command.args.length + (index > 0 ? 1 : 0);
    const [least, most] = FUNCTIONS[command.name]!.arity;
    if (given < least || given > most) {
      throw new TemplateError(command.column, `${command.name} takes ${least === most ? least : `${least} to ${most}`} argument${most === 1 ? "" : "s"}, not ${given}`);
    }
  });
  return commands;
}

/** A parsed template, run with execute. */
export interface Template {
  readonly nodes: readonly Node[];
}

/** Parses text as a template; a TemplateError naming the column when it is not one. */
export function parseTemplate(text: string): Template {
  const root: Node[] = [];
  // The open blocks: where their nodes go, and the node itself.
  const stack: { node: Extract<Node, { kind: "if" | "range" }>; inElse: boolean }[] = [];
  const target = (): Node[] => {
    const top = stack[stack.length - 1];
    if (top === undefined) return root;
    if (top.node.kind === "if") return top.inElse ? top.node.otherwise : top.node.then;
    return top.inElse ? top.node.otherwise : top.node.body;
  };
  let at = 0;
  let trimNext = false;
  while (at < text.length) {
    const open = text.indexOf("{{", at);
    let literal = text.slice(at, open < 0 ? text.length : open);
    if (trimNext) literal = literal.replace(/^\s+/, "");
    if (open < 0) {
      if (literal !== "") target().push({ kind: "text", text: literal });
      break;
    }
    const trimBefore = text.startsWith("{{- ", open);
    if (trimBefore) literal = literal.replace(/\s+$/, "");
    if (literal !== "") target().push({ kind: "text", text: literal });
    const close = text.indexOf("}}", open + 2);
    if (close < 0) throw new TemplateError(open + 1, "unclosed action: {{ without }}");
    const trimAfter = close >= 2 && text.slice(close - 2, close) === " -";
    const innerStart = open + 2 + (trimBefore ? 2 : 0);
    const innerEnd = close - (trimAfter ? 2 : 0);
    const inner = text.slice(innerStart, innerEnd);
    const column = open + 1;
    const keyword = /^\s*(if|range|else|end)\b/.exec(inner);
    if (keyword === null) {
      target().push({ kind: "action", pipeline: parsePipeline(inner, innerStart, column), column });
    } else {
      const rest = inner.slice(keyword[0].length);
      const restStart = innerStart + keyword[0].length;
      switch (keyword[1]) {
        case "if":
        case "range": {
          const node: Extract<Node, { kind: "if" | "range" }> =
            keyword[1] === "if"
              ? { kind: "if", pipeline: parsePipeline(rest, restStart, column), column, then: [], otherwise: [] }
              : { kind: "range", pipeline: parsePipeline(rest, restStart, column), column, body: [], otherwise: [] };
          target().push(node);
          stack.push({ node, inElse: false });
          break;
        }
        case "else": {
          const top = stack[stack.length - 1];
          if (top === undefined || top.inElse) throw new TemplateError(column, "{{else}} without an open {{if}} or {{range}}");
          if (rest.trim() !== "") throw new TemplateError(column, "{{else}} takes nothing (else if is not supported)");
          top.inElse = true;
          break;
        }
        default: {
          if (stack.pop() === undefined) throw new TemplateError(column, "{{end}} without an open {{if}} or {{range}}");
          if (rest.trim() !== "") throw new TemplateError(column, "{{end}} takes nothing");
        }
      }
    }
    at = close + 2;
    trimNext = trimAfter;
  }
  const unclosed = stack[stack.length - 1];
  if (unclosed !== undefined) throw new TemplateError(unclosed.node.column, `{{${unclosed.node.kind}}} without its {{end}}`);
  return { nodes: root };
}

/** Reads path from dot; a TemplateError naming the fields there when one is missing. */
function readField(dot: TemplateValue, path: readonly string[], column: number): TemplateValue {
  let value = dot;
  for (const [index, name] of path.entries()) {
    const where = `.${path.slice(0, index + 1).join(".")}`;
    if (value === null || value === undefined) return undefined;
    if (typeof value !== "object" || Array.isArray(value)) throw new TemplateError(column, `${where}: ${describe(value)} has no fields`);
    const record = value as { readonly [key: string]: TemplateValue };
    if (!Object.hasOwn(record, name)) throw new TemplateError(column, `${where}: no field ${JSON.stringify(name)} (fields: ${Object.keys(record).join(", ")})`);
    value = record[name];
  }
  return value;
}

function evaluate(argument: Argument, dot: TemplateValue): TemplateValue {
  if (argument.kind === "field") return readField(dot, argument.path, argument.column);
  return argument.value;
}

function runPipeline(pipeline: readonly Command[], dot: TemplateValue): TemplateValue {
  let value: TemplateValue;
  pipeline.forEach((command, index) => {
    const args = command.args.map((argument) => evaluate(argument, dot));
    if (command.name === undefined) value = args[0];
    else value = FUNCTIONS[command.name]!.call(command.column, ...args, ...(index > 0 ? [value] : []));
  });
  return value;
}

function run(nodes: readonly Node[], dot: TemplateValue): string {
  let out = "";
  for (const node of nodes) {
    if (node.kind === "text") out += node.text;
    else if (node.kind === "action") out += printValue(runPipeline(node.pipeline, dot));
    else if (node.kind === "if") out += run(truthy(runPipeline(node.pipeline, dot)) ? node.then : node.otherwise, dot);
    else {
      const value = runPipeline(node.pipeline, dot);
      let items: TemplateValue[];
      if (Array.isArray(value)) items = value as TemplateValue[];
      else if (value !== null && typeof value === "object") items = Object.keys(value).sort().map((key) => (value as Record<string, TemplateValue>)[key]);
      else if (value === undefined || value === null) items = [];
      else throw new TemplateError(node.column, `range over ${describe(value)}: give a list or a map`);
      out += items.length === 0 ? run(node.otherwise, dot) : items.map((item) => run(node.body, item)).join("");
    }
  }
  return out;
}

/** Runs template with dot as `.`; a TemplateError when it reads a field dot does not have. */
export function executeTemplate(template: Template, dot: TemplateValue): string {
  return run(template.nodes, dot);
}

/** The header cell of each action of a table template: the header of the field it prints (headers maps names; else the name upper-cased). */
export function templateHeaders(template: Template, headers: Readonly<Record<string, string>>): string {
  const headerOf = (nodes: readonly Node[]): string =>
    nodes
      .map((node) => {
        if (node.kind === "text") return node.text;
        if (node.kind !== "action") return "";
        const field = node.pipeline.flatMap((command) => command.args).find((argument) => argument.kind === "field");
        const name = field?.kind === "field" ? field.path[field.path.length - 1] : undefined;
        if (name === undefined) return "";
        return headers[name] ?? name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toUpperCase();
      })
      .join("");
  return headerOf(template.nodes);
}
