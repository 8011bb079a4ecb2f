/**
 * `--format` as docker's: `json`, `table`, a Go template printed once per
 * object (`{{.ID}}\t{{.Status}}`), or `table ` and a template: a header
 * row, then one row per object, the tab-separated columns aligned as
 * docker's tabwriter aligns them (at least 10 wide, 3 spaces apart).
 */
import { InvalidArgumentError } from "commander";
import { TemplateError, executeTemplate, parseTemplate, templateHeaders } from "./go-template.js";
import type { Template, TemplateValue } from "./go-template.js";
import { CliError } from "./init-client.js";

/** A --format that is a Go template. */
export interface TemplateFormat {
  /** The parsed template. */
  template: Template;
  /** Whether it began with "table ": print a header row and align the columns. */
  table: boolean;
}

/** docker's escapes: the two characters \t and \n in a --format mean a tab and a newline. */
export function unescapeFormat(text: string): string {
  return text.replace(/\\t/g, "\t").replace(/\\n/g, "\n");
}

/** Parses a --format template ("table " prefix allowed); commander's InvalidArgumentError naming the column of a fault. */
export function parseTemplateFormat(text: string): TemplateFormat {
  const table = text.startsWith("table ");
  const body = unescapeFormat(table ? text.slice("table ".length) : text);
  try {
    return { template: parseTemplate(body), table };
  } catch (error) {
    if (error instanceof TemplateError) throw new InvalidArgumentError(`${JSON.stringify(text)}: ${error.message}`);
    throw error;
  }
}

/** The least width of an aligned column, and the spaces after it (docker's tabwriter settings). */
const MIN_WIDTH = 10;
const PADDING = 3;

/** Lines of tab-separated cells aligned in columns; the last cell of a line is not padded. */
export function alignColumns(lines: readonly string[]): string {
  const rows = lines.map((line) => line.split("\t"));
  const widths: number[] = [];
  for (const row of rows) row.slice(0, -1).forEach((cell, column) => (widths[column] = Math.max(widths[column] ?? 0, cell.length + PADDING, MIN_WIDTH)));
  return rows.map((row) => `${row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join("")}\n`).join("");
}

/** Runs template on object; a CliError (exit 125) naming the column when it reads a field object does not have. */
function execute(template: Template, object: TemplateValue): string {
  try {
    return executeTemplate(template, object);
  } catch (error) {
    if (error instanceof TemplateError) throw new CliError(`--format: ${error.message}`);
    throw error;
  }
}

/**
 * The objects through format: one rendering per object, each ending in a
 * newline; with table, a header row first (headers gives the header of a
 * field, e.g. ID -> "CONTAINER ID") and the columns aligned. A CliError
 * when the template reads a field the objects do not have.
 */
export function renderTemplate(format: TemplateFormat, objects: readonly TemplateValue[], headers: Readonly<Record<string, string>> = {}): string {
  const rendered = objects.map((object) => execute(format.template, object));
  if (!format.table) return rendered.map((text) => `${text}\n`).join("");
  const lines = [templateHeaders(format.template, headers), ...rendered].flatMap((text) => text.split("\n"));
  return alignColumns(lines);
}
