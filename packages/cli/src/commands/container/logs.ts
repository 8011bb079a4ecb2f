/**
 * `moby logs ID`: a container's output, its stdout to stdout and its
 * stderr to stderr, byte for byte (a component's is `moby component logs`);
 * --since and --until cut it by the time the runtime read each chunk.
 */
import type { Command } from "commander";
import { Code } from "@moby-core/sdk";
import { parseContainerId, parseLogTime } from "../../container-args.js";
import { hasCode, withContainerServices } from "../../container-client.js";
import { copyOutput } from "../../container-output.js";
import type { Output } from "../../container-output.js";
import { EXIT_REFUSED } from "../../exit-codes.js";
import { CliError, withSupervisor } from "../../init-client.js";
import { parseTailOption, untilInterrupted } from "../shared.js";
import type { SocketOf } from "../shared.js";

/** The settings of `moby logs ID`. */
export interface ContainerLogsOptions {
  /** Keep printing until the process exited and its output is drained, or until stop aborts. */
  follow: boolean;
  /** Only the last tail lines first; 0 for all. */
  tail: number;
  /** Only output read at or after this time. */
  since?: Date;
  /** Only output read at or before this time. */
  until?: Date;
  /** Ends a followed stream quietly (Ctrl-C). */
  stop?: AbortSignal;
}

/** Whether init's manifest declares a component called name (false when init cannot tell). */
async function isComponent(initSocket: string, name: string): Promise<boolean> {
  return withSupervisor(initSocket, async (s) => void (await s.getComponent({ name }))).then(
    () => true,
    () => false,
  );
}

/** `moby logs ID`: the init process's kept output; a component's name gets a hint towards `moby component logs`. */
export async function containerLogsCommand(initSocket: string, id: string, options: ContainerLogsOptions, output?: Output): Promise<void> {
  try {
    await withContainerServices(initSocket, async (services) => {
      try {
        await copyOutput(
          await services.runtime(),
          {
            containerId: id,
            follow: options.follow,
            ...(options.tail === 0 ? {} : { tail: options.tail }),
            ...(options.since === undefined ? {} : { since: options.since }),
            ...(options.until === undefined ? {} : { until: options.until }),
            ...(options.stop === undefined ? {} : { stop: options.stop }),
          },
          output,
        );
      } catch (error) {
        if (hasCode(error, Code.NotFound) && (await isComponent(initSocket, id))) {
          throw new CliError(`no container ${JSON.stringify(id)}; ${JSON.stringify(id)} is a component: moby component logs ${id}`, EXIT_REFUSED);
        }
        throw error;
      }
    });
  } catch (error) {
    if (options.stop?.aborted === true) return;
    throw error;
  }
}

/** Adds `logs` to program. */
export function registerLogs(program: Command, socketOf: SocketOf): void {
  program
    .command("logs")
    .description("print a container's output: its stdout to stdout, its stderr to stderr")
    .argument("<id>", "the container id", parseContainerId)
    .option("-f, --follow", "keep printing until the container's process has exited (or Ctrl-C)")
    .option("-n, --tail <lines>", "print only the last <lines> kept lines first (0 or all: all)", parseTailOption, 0)
    .option("--since <time>", "only output from this time on: a duration before now (10m), an RFC 3339 time or Unix seconds", (text: string) => parseLogTime(text, "--since"))
    .option("--until <time>", "only output up to this time (the same forms as --since)", (text: string) => parseLogTime(text, "--until"))
    .action(async (id: string, options: { follow?: boolean; tail: number; since?: Date; until?: Date }, command: Command) => {
      const settings = {
        follow: options.follow === true,
        tail: options.tail,
        ...(options.since === undefined ? {} : { since: options.since }),
        ...(options.until === undefined ? {} : { until: options.until }),
      };
      if (!settings.follow) return containerLogsCommand(socketOf(command), id, settings);
      await untilInterrupted((stop) => containerLogsCommand(socketOf(command), id, { ...settings, stop }));
    });
}
