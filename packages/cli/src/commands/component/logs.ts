/** `moby component logs NAME`: a component's captured output, stdout and stderr lines both to stdout. */
import type { Command } from "commander";
import { withSupervisor } from "../../init-client.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import { parseTailOption, untilInterrupted } from "../shared.js";
import type { SocketOf } from "../shared.js";

/** The settings of `moby component logs`. */
export interface ComponentLogsOptions {
  /** Keep streaming new lines until stop aborts (Ctrl-C). */
  follow: boolean;
  /** Send only the last tail kept lines first; 0 for all. */
  tail: number;
  /** Ends a followed stream quietly; the command then returns normally. */
  stop?: AbortSignal;
}

/**
 * Writes the component's kept output lines, oldest first, each followed by
 * a newline. Lines from its stdout and stderr both go to write (stdout), so
 * that `moby component logs NAME | grep` sees everything (components log to stderr).
 */
export async function componentLogsCommand(socketPath: string, name: string, options: ComponentLogsOptions, write: Write = writeStdout): Promise<void> {
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

/** Adds `logs` to the component group. */
export function registerComponentLogs(group: Command, socketOf: SocketOf): void {
  group
    .command("logs")
    .description("print a component's captured output (its stdout and stderr lines, both to stdout)")
    .argument("<name>", "the component's name in the manifest")
    .option("-f, --follow", "keep printing new lines until Ctrl-C")
    .option("-n, --tail <lines>", "print only the last <lines> kept lines first (0 or all: all)", parseTailOption, 0)
    .action(async (name: string, options: { follow?: boolean; tail: number }, command: Command) => {
      const settings = { follow: options.follow === true, tail: options.tail };
      if (!settings.follow) return componentLogsCommand(socketOf(command), name, settings);
      await untilInterrupted((stop) => componentLogsCommand(socketOf(command), name, { ...settings, stop }));
    });
}
