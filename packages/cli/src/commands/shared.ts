/**
 * What the command groups share: how a command finds init's socket, the
 * `--format json|table|TEMPLATE` / `--json` pair every listing takes, and the loop of the
 * commands that take several container ids (as docker's: each id in turn,
 * past a failure, exiting non-zero when any failed).
 */
import type { Command } from "commander";
import { InvalidArgumentError, Option } from "commander";
import type { Write } from "../write.js";
import { writeStdout } from "../write.js";
import { componentError, containerError } from "../container-client.js";
import { parseTemplateFormat } from "../template-format.js";
import type { TemplateFormat } from "../template-format.js";

/** Gives init's socket for a command being run (from the global --run-dir). */
export type SocketOf = (command: Command) => string;

/** Where a failure's line goes: stderr unless a caller says otherwise. */
export const writeStderr: Write = (text) => void process.stderr.write(text);

/** The output formats of the listing commands: a table, JSON, or (where a command takes them) a Go template. */
export type OutputFormat = "table" | "json" | TemplateFormat;

/** Parses --format of a command that takes no templates: "json" or "table". */
export function parseFormat(text: string): OutputFormat {
  if (text === "json" || text === "table") return text;
  throw new InvalidArgumentError(`${JSON.stringify(text)} is not a format: give json or table (this command takes no Go templates)`);
}

/** Parses --format of a command that takes templates: "json", "table", or a Go template (docker's, "table " prefix allowed). */
export function parseFormatOrTemplate(text: string): OutputFormat {
  if (text === "json" || text === "table") return text;
  return parseTemplateFormat(text);
}

/**
 * Adds --format and --json (the same as --format json) to command; jsonHelp
 * says what the JSON holds; fields, when given, are the fields a Go template
 * may read (the command then takes templates).
 */
export function addFormatOptions(command: Command, jsonHelp: string, fields?: string): Command {
  const help =
    fields === undefined
      ? `json or table (default: table); json: ${jsonHelp}`
      : `json, table (default), or a Go template as docker's, e.g. '{{.ID}}\t{{.Status}}', 'table {{.ID}}', '{{json .}}'; fields: ${fields}; json: ${jsonHelp}`;
  return command.addOption(new Option("--format <format>", help).argParser(fields === undefined ? parseFormat : parseFormatOrTemplate)).option("--json", "the same as --format json");
}

/** Whether the options of addFormatOptions ask for JSON. */
export function wantsJson(options: { format?: OutputFormat; json?: boolean }): boolean {
  return options.json === true || options.format === "json";
}

/** The Go template of the options of addFormatOptions, if --format gave one (and --json did not override it). */
export function templateOf(options: { format?: OutputFormat; json?: boolean }): TemplateFormat | undefined {
  return options.json !== true && typeof options.format === "object" ? options.format : undefined;
}

/** { template } when --format gave a Go template, else {}: to spread into a command's options. */
export function withTemplate(options: { format?: OutputFormat; json?: boolean }): { template?: TemplateFormat } {
  const template = templateOf(options);
  return template === undefined ? {} : { template };
}

/**
 * Runs act for each id in turn; writes the line act returns (the id when it
 * returns nothing) to write, and a failure as "moby: ID: message" to
 * writeError, then goes on with the next id. Returns the exit code: 0 when
 * every id succeeded, else the highest exit code of the failures (1 for a
 * refusal such as no such container, 125 for an unreachable component).
 */
export async function forEachId(
  ids: readonly string[],
  act: (id: string) => Promise<string | void>,
  write: Write = writeStdout,
  writeError: Write = writeStderr,
): Promise<number> {
  let code = 0;
  for (const id of ids) {
    try {
      const line = await act(id);
      write(`${line ?? id}\n`);
    } catch (error) {
      const failure = componentError(error);
      writeError(`moby: ${id}: ${failure.message}\n`);
      code = Math.max(code, failure.exitCode);
    }
  }
  return code;
}

/** Runs a streaming command until Ctrl-C (SIGINT) or SIGTERM, which end it quietly with exit code 0. */
export async function untilInterrupted(run: (stop: AbortSignal) => Promise<void>): Promise<void> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await run(stop.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** Parses a --tail value: a whole number of lines, 0 for all ("all" too, as docker's). */
export function parseTailOption(text: string): number {
  if (text === "all") return 0;
  if (!/^\d+$/.test(text) || Number(text) > 0xffff_ffff) throw new InvalidArgumentError(`${JSON.stringify(text)} is not a number of lines (or all)`);
  return Number(text);
}

/** forEachId for container ids: the runtime's refusals get what to do (see containerError). */
export function forEachContainer(ids: readonly string[], act: (id: string) => Promise<string | void>, write: Write = writeStdout): Promise<number> {
  return forEachId(
    ids,
    (id) =>
      act(id).catch((error: unknown) => {
        throw containerError(error);
      }),
    write,
  );
}
