/**
 * What each `moby` command does once its arguments are parsed: one call (or
 * stream) to init's supervisor API, its result written to stdout. Failures
 * are thrown as CliError (see init-client.ts).
 */
import type { Component } from "@moby-core/supervisor-api/v1";
import { formatComponentsJson, formatComponentsTable, stateWord } from "./components-table.js";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { listAllComponents, withSupervisor } from "./init-client.js";

/** Where a command writes its normal output: stdout unless a caller says otherwise. */
export type Write = (text: string) => void;

/** Writes to the process's standard output. */
export const writeStdout: Write = (text) => void process.stdout.write(text);

/** The longest stop timeout init accepts, in ms (10 minutes). */
export const MAX_STOP_TIMEOUT_MS = 600_000;

/** How much longer than the stop timeout a stop or restart may take before the CLI gives up, in ms. */
const CALL_MARGIN_MS = 30_000;

/** The deadline of a stop or restart call: the stop timeout (or the largest allowed) plus a margin. */
function stopCallTimeout(timeoutMs: number | undefined): number {
  return (timeoutMs ?? MAX_STOP_TIMEOUT_MS) + CALL_MARGIN_MS;
}

/** "(pid 1234)", or the state when no process runs. */
function processNote(component: Component | undefined): string {
  if (component === undefined) return "";
  return component.pid !== 0 ? ` (pid ${component.pid})` : ` (${stateWord(component.state)})`;
}

/** `moby components`: every component as a table, or as the documented JSON array with json. */
export async function listComponentsCommand(socketPath: string, options: { json: boolean }, write: Write = writeStdout): Promise<void> {
  const components = await withSupervisor(socketPath, listAllComponents);
  const now = new Date();
  write(options.json ? formatComponentsJson(components, now) : formatComponentsTable(components, now));
}

/** `moby start NAME`: starts the component and prints "started NAME (pid N)". */
export async function startCommand(socketPath: string, name: string, write: Write = writeStdout): Promise<void> {
  const { component } = await withSupervisor(socketPath, (s) => s.startComponent({ name }));
  write(`started ${name}${processNote(component)}\n`);
}

/** `moby stop NAME`: stops the component (SIGTERM, then SIGKILL after timeoutMs) and prints "stopped NAME". */
export async function stopCommand(socketPath: string, name: string, options: { timeoutMs?: number }, write: Write = writeStdout): Promise<void> {
  await withSupervisor(socketPath, (s) =>
    s.stopComponent(
      { name, ...(options.timeoutMs === undefined ? {} : { timeout: durationFromMs(options.timeoutMs) }) },
      { timeoutMs: stopCallTimeout(options.timeoutMs) },
    ),
  );
  write(`stopped ${name}\n`);
}

/** `moby restart NAME`: stops and starts the component and prints "restarted NAME (pid N)". */
export async function restartCommand(socketPath: string, name: string, options: { timeoutMs?: number }, write: Write = writeStdout): Promise<void> {
  const { component } = await withSupervisor(socketPath, (s) =>
    s.restartComponent(
      { name, ...(options.timeoutMs === undefined ? {} : { timeout: durationFromMs(options.timeoutMs) }) },
      { timeoutMs: stopCallTimeout(options.timeoutMs) },
    ),
  );
  write(`restarted ${name}${processNote(component)}\n`);
}

/** The settings of `moby logs`. */
export interface LogsOptions {
  /** Keep streaming new lines until stop aborts (Ctrl-C). */
  follow: boolean;
  /** Send only the last tail kept lines first; 0 for all. */
  tail: number;
  /** Ends a followed stream quietly; the command then returns normally. */
  stop?: AbortSignal;
}

/**
 * `moby logs NAME`: writes the component's kept output lines, oldest first,
 * each as it was written and followed by a newline. Lines from the
 * component's stdout and stderr both go to write (stdout), so that
 * `moby logs NAME | grep` sees everything (components log to stderr).
 */
export async function logsCommand(socketPath: string, name: string, options: LogsOptions, write: Write = writeStdout): Promise<void> {
  await withSupervisor(socketPath, async (s) => {
    try {
      const stream = s.readComponentLogs({ name, tailLines: options.tail, follow: options.follow }, options.stop ? { signal: options.stop } : {});
      for await (const entry of stream) write(`${entry.line}\n`);
    } catch (error) {
      if (options.stop?.aborted === true) return;
      throw error;
    }
  });
}
